package main

import (
	"context"
	"fmt"
	"github.com/lightkeeper-net/lightkeeper/protocol"
	"os"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/lightkeeper-net/lightkeeper/internal/setup"
	lightkeeperv1 "github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1"
)

func init() { register(newTxCmd) }

// txFlags are the flags every transaction kind takes.
type txFlags struct {
	url, keyPath *string
	fee          *uint64
	nonce        *int64
	asJSON       *bool
}

func newTxCmd() *cobra.Command {
	var f txFlags
	// kind returns the command of one transaction kind; build makes the
	// message from the positional arguments and the signer's id.
	kind := func(use, short string, args cobra.PositionalArgs, build func(pos []string, signer string) (*lightkeeperv1.TxBody, error)) *cobra.Command {
		return &cobra.Command{
			Use: use, Short: short, Args: args,
			RunE: func(cmd *cobra.Command, pos []string) error {
				return runTx(cmd.Context(), strings.TrimPrefix(cmd.CommandPath(), "lightkeeper tx "), f, pos, build)
			},
		}
	}
	amountArg := func(pos []string, i int, what string) (uint64, error) { return parseAmount(what, pos[i]) }

	transfer := kind("transfer TO AMOUNT", "move liquid tokens to another account", exactArgs(2, "TO AMOUNT"),
		func(pos []string, _ string) (*lightkeeperv1.TxBody, error) {
			if err := checkHexID("TO", pos[0]); err != nil {
				return nil, err
			}
			amt, err := amountArg(pos, 1, "AMOUNT")
			if err != nil {
				return nil, err
			}
			return &lightkeeperv1.TxBody{Msg: &lightkeeperv1.TxBody_Transfer{Transfer: &lightkeeperv1.TransferMsg{To: pos[0], Amount: amt}}}, nil
		})
	bond := kind("bond AMOUNT", "bond your own tokens to your keeper", exactArgs(1, "AMOUNT"),
		func(pos []string, _ string) (*lightkeeperv1.TxBody, error) {
			amt, err := amountArg(pos, 0, "AMOUNT")
			if err != nil {
				return nil, err
			}
			return &lightkeeperv1.TxBody{Msg: &lightkeeperv1.TxBody_Bond{Bond: &lightkeeperv1.BondMsg{Amount: amt}}}, nil
		})
	unbond := kind("unbond AMOUNT", "start unbonding part of your own bond", exactArgs(1, "AMOUNT"),
		func(pos []string, _ string) (*lightkeeperv1.TxBody, error) {
			amt, err := amountArg(pos, 0, "AMOUNT")
			if err != nil {
				return nil, err
			}
			return &lightkeeperv1.TxBody{Msg: &lightkeeperv1.TxBody_Unbond{Unbond: &lightkeeperv1.UnbondMsg{Amount: amt}}}, nil
		})
	cancelUnbond := kind("cancel-unbond ENTRY_ID", "return a waiting unbonding entry to its bond or guarantee", exactArgs(1, "ENTRY_ID"),
		func(pos []string, _ string) (*lightkeeperv1.TxBody, error) {
			id, err := amountArg(pos, 0, "ENTRY_ID")
			if err != nil {
				return nil, err
			}
			return &lightkeeperv1.TxBody{Msg: &lightkeeperv1.TxBody_CancelUnbond{CancelUnbond: &lightkeeperv1.CancelUnbondMsg{EntryId: id}}}, nil
		})
	guarantee := kind("guarantee TARGET AMOUNT", "back a keeper or a group", exactArgs(2, "TARGET AMOUNT"),
		func(pos []string, _ string) (*lightkeeperv1.TxBody, error) {
			if err := checkHexID("TARGET", pos[0]); err != nil {
				return nil, err
			}
			amt, err := amountArg(pos, 1, "AMOUNT")
			if err != nil {
				return nil, err
			}
			return &lightkeeperv1.TxBody{Msg: &lightkeeperv1.TxBody_Guarantee{Guarantee: &lightkeeperv1.GuaranteeMsg{Target: pos[0], Amount: amt}}}, nil
		})
	unguarantee := kind("unguarantee TARGET AMOUNT", "start unbonding part of a guarantee", exactArgs(2, "TARGET AMOUNT"),
		func(pos []string, _ string) (*lightkeeperv1.TxBody, error) {
			if err := checkHexID("TARGET", pos[0]); err != nil {
				return nil, err
			}
			amt, err := amountArg(pos, 1, "AMOUNT")
			if err != nil {
				return nil, err
			}
			return &lightkeeperv1.TxBody{Msg: &lightkeeperv1.TxBody_Unguarantee{Unguarantee: &lightkeeperv1.UnguaranteeMsg{Target: pos[0], Amount: amt}}}, nil
		})
	var commission *uint
	create := kind("create [--commission BPS]", "create your group (its id is your id), or change its commission", exactArgs(0, ""),
		func(pos []string, _ string) (*lightkeeperv1.TxBody, error) {
			if *commission > 10_000 {
				return nil, usagef("--commission: %d is above 10000 basis points", *commission)
			}
			return &lightkeeperv1.TxBody{Msg: &lightkeeperv1.TxBody_GroupCreate{GroupCreate: &lightkeeperv1.GroupCreateMsg{CommissionBps: uint32(*commission)}}}, nil
		})
	commission = create.Flags().Uint("commission", 0, "the owner's commission in basis points")
	groupArgs := func(cmd *cobra.Command, args []string) error {
		if len(args) < 1 || len(args) > 2 {
			return usagef("%s takes GROUP [KEEPER]", cmd.CommandPath())
		}
		return nil
	}
	groupMember := func(pos []string, signer string) (string, string, error) {
		keeperID := signer
		if len(pos) == 2 {
			keeperID = pos[1]
		}
		if err := checkHexID("GROUP", pos[0]); err != nil {
			return "", "", err
		}
		if err := checkHexID("KEEPER", keeperID); err != nil {
			return "", "", err
		}
		return pos[0], keeperID, nil
	}
	join := kind("join GROUP [KEEPER]", "as the owner: invite KEEPER; as a keeper: join (after an invitation)", groupArgs,
		func(pos []string, signer string) (*lightkeeperv1.TxBody, error) {
			g, k, err := groupMember(pos, signer)
			if err != nil {
				return nil, err
			}
			return &lightkeeperv1.TxBody{Msg: &lightkeeperv1.TxBody_GroupJoin{GroupJoin: &lightkeeperv1.GroupJoinMsg{GroupId: g, KeeperId: k}}}, nil
		})
	leave := kind("leave GROUP [KEEPER]", "leave a group, or (as the owner) remove KEEPER or its invitation", groupArgs,
		func(pos []string, signer string) (*lightkeeperv1.TxBody, error) {
			g, k, err := groupMember(pos, signer)
			if err != nil {
				return nil, err
			}
			return &lightkeeperv1.TxBody{Msg: &lightkeeperv1.TxBody_GroupLeave{GroupLeave: &lightkeeperv1.GroupLeaveMsg{GroupId: g, KeeperId: k}}}, nil
		})
	unjail := kind("unjail", "come back after a downtime jail", exactArgs(0, ""),
		func([]string, string) (*lightkeeperv1.TxBody, error) {
			return &lightkeeperv1.TxBody{Msg: &lightkeeperv1.TxBody_Unjail{Unjail: &lightkeeperv1.UnjailMsg{}}}, nil
		})
	var firstPath, secondPath *string
	evidence := kind("evidence --first FILE --second FILE", "report two conflicting signed votes (JSON Vote records)", exactArgs(0, ""),
		func([]string, string) (*lightkeeperv1.TxBody, error) {
			if *firstPath == "" || *secondPath == "" {
				return nil, usagef("tx evidence needs --first FILE and --second FILE")
			}
			var votes [2]*lightkeeperv1.Vote
			for i, p := range []string{*firstPath, *secondPath} {
				b, err := os.ReadFile(p)
				if err != nil {
					return nil, err
				}
				votes[i] = new(lightkeeperv1.Vote)
				if err := protojson.Unmarshal(b, votes[i]); err != nil {
					return nil, fmt.Errorf("%s: not a JSON Vote: %w", p, err)
				}
			}
			return &lightkeeperv1.TxBody{Msg: &lightkeeperv1.TxBody_Evidence{Evidence: &lightkeeperv1.EvidenceMsg{First: votes[0], Second: votes[1]}}}, nil
		})
	firstPath = evidence.Flags().String("first", "", "the first vote (JSON)")
	secondPath = evidence.Flags().String("second", "", "the second vote (JSON)")

	groupCmd := group("group", "create, join or leave a group", "", "group command", create, join, leave)
	tx := group("tx", "sign and submit an economy transaction", `sign and submit an economy transaction with --key's account.

The nonce is read from the coordinator unless --nonce is given. Amounts are
in the smallest token unit; ids are 64 hex digits.`, "transaction kind",
		transfer, bond, unbond, cancelUnbond, guarantee, unguarantee, groupCmd, unjail, evidence)
	pf := tx.PersistentFlags()
	f.url = coordinatorFlag(pf, "")
	f.keyPath = keyFlag(pf, "the signer's key file (required)")
	f.fee = pf.Uint64("fee", 0, "transaction fee (at least the chain's staking.min_tx_fee)")
	f.nonce = pf.Int64("nonce", -1, "nonce (default: the account's next nonce)")
	f.asJSON = jsonFlag(pf, "")
	return tx
}

func parseAmount(what, s string) (uint64, error) {
	v, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, usagef("%s: %q is not a whole number of tokens", what, s)
	}
	return v, nil
}

func checkHexID(what, s string) error {
	if !protocol.ValidID(s) {
		return usagef("%s: %q is not an id (64 lowercase hex digits)", what, s)
	}
	return nil
}

// runTx signs the transaction build makes with --key and submits it.
func runTx(ctx context.Context, kind string, f txFlags, pos []string, build func(pos []string, signer string) (*lightkeeperv1.TxBody, error)) error {
	if *f.keyPath == "" {
		return usagef("--key is required")
	}
	key, err := setup.ReadKey(*f.keyPath)
	if err != nil {
		return err
	}
	signer := setup.KeyID(key)
	body, err := build(pos, signer)
	if err != nil {
		return err
	}
	body.Fee = *f.fee
	res, err := newClient(*f.url).SignAndSubmit(ctx, key, body, *f.nonce)
	if err != nil {
		return err
	}
	if *f.asJSON {
		out := map[string]any{
			"kind":    kind,
			"signer":  signer,
			"height":  res.GetHeight(),
			"tx_hash": res.GetTxHash(),
			"balance": res.GetAccount().GetBalance(),
			"nonce":   res.GetAccount().GetNonce(),
		}
		if res.GetUnbondingId() != 0 {
			out["unbonding_id"] = res.GetUnbondingId()
		}
		return printJSON(out)
	}
	fmt.Printf("%s applied in block %d (tx %s)\naccount %s: balance %d, next nonce %d\n", kind, res.GetHeight(), short(res.GetTxHash()),
		short(signer), res.GetAccount().GetBalance(), res.GetAccount().GetNonce())
	if res.GetUnbondingId() != 0 {
		fmt.Printf("unbonding entry #%d\n", res.GetUnbondingId())
	}
	return nil
}
