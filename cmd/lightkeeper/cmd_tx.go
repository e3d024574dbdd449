package main

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"os"
	"strconv"
	"strings"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/lightkeeper-net/lightkeeper/internal/setup"
	lightkeeperv1 "github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1"
	"github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1/lightkeeperv1connect"
	"github.com/lightkeeper-net/lightkeeper/protocol"
)

func init() {
	register("tx", "sign and submit an economy transaction: 'tx transfer|bond|unbond|cancel-unbond|guarantee|unguarantee|group …|unjail|evidence'", cmdTx)
}

const txUsage = `tx <kind> [args] --key FILE [--coordinator URL] [--fee N] [--nonce N] [--json]

kinds:
  transfer TO AMOUNT             move liquid tokens to another account
  bond AMOUNT                    bond your own tokens to your keeper
  unbond AMOUNT                  start unbonding part of your own bond
  cancel-unbond ENTRY_ID         return a waiting unbonding entry to its bond or guarantee
  guarantee TARGET AMOUNT        back a keeper or a group
  unguarantee TARGET AMOUNT      start unbonding part of a guarantee
  group create [--commission BPS]  create your group (its id is your id), or change its commission
  group join GROUP [KEEPER]      as the owner: invite KEEPER; as a keeper: join (after an invitation)
  group leave GROUP [KEEPER]     leave a group, or (as the owner) remove KEEPER or its invitation
  unjail                         come back after a downtime jail
  evidence --first FILE --second FILE   report two conflicting signed votes (JSON Vote records)

The nonce is read from the coordinator unless --nonce is given. Amounts are
in the smallest token unit; ids are 64 hex digits.`

// stakingClient is the StakingService and ledger client of one coordinator.
type stakingClient struct {
	staking lightkeeperv1connect.StakingServiceClient
	ledger  lightkeeperv1connect.LedgerServiceClient
}

func newStakingClient(url string) stakingClient {
	url = strings.TrimRight(url, "/")
	return stakingClient{
		staking: lightkeeperv1connect.NewStakingServiceClient(mustAPIClient(), url),
		ledger:  lightkeeperv1connect.NewLedgerServiceClient(mustAPIClient(), url),
	}
}

// signAndSubmit signs body (filling in the nonce unless fixed) and submits it.
func (c stakingClient) signAndSubmit(ctx context.Context, key ed25519.PrivateKey, body *lightkeeperv1.TxBody, nonce int64) (*lightkeeperv1.SubmitTxResponse, error) {
	info, err := c.ledger.GetChainInfo(ctx, connect.NewRequest(&lightkeeperv1.GetChainInfoRequest{}))
	if err != nil {
		return nil, describe(err)
	}
	if nonce >= 0 {
		body.Nonce = uint64(nonce)
	} else {
		acct, err := c.staking.GetAccount(ctx, connect.NewRequest(&lightkeeperv1.GetAccountRequest{AccountId: setup.KeyID(key)}))
		if err != nil {
			return nil, describe(err)
		}
		body.Nonce = acct.Msg.GetAccount().GetNonce()
	}
	stx, err := protocol.SignTx(key, info.Msg.GetChainId(), body)
	if err != nil {
		return nil, err
	}
	res, err := c.staking.SubmitTx(ctx, connect.NewRequest(&lightkeeperv1.SubmitTxRequest{Tx: stx}))
	if err != nil {
		return nil, describe(err)
	}
	return res.Msg, nil
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

func cmdTx(ctx context.Context, args []string) error {
	if len(args) == 0 {
		return usagef("usage: lightkeeper %s", txUsage)
	}
	kind := args[0]
	rest := args[1:]
	if kind == "group" {
		if len(rest) == 0 {
			return usagef("usage: lightkeeper tx group create|join|leave …")
		}
		kind, rest = "group "+rest[0], rest[1:]
	}
	fs := newFlags("tx "+kind, txUsage)
	url := fs.String("coordinator", "http://127.0.0.1:8080", "coordinator URL")
	keyPath := fs.String("key", "", "the signer's key file (required)")
	fee := fs.Uint64("fee", 0, "transaction fee (at least the chain's staking.min_tx_fee)")
	nonce := fs.Int64("nonce", -1, "nonce (default: the account's next nonce)")
	asJSON := fs.Bool("json", false, "print one JSON object")
	commission := fs.Uint("commission", 0, "group create: the owner's commission in basis points")
	firstPath := fs.String("first", "", "evidence: the first vote (JSON)")
	secondPath := fs.String("second", "", "evidence: the second vote (JSON)")
	pos, err := parseFlags(fs, rest)
	if err != nil {
		return err
	}
	if *keyPath == "" {
		return usagef("--key is required")
	}
	key, err := setup.ReadKey(*keyPath)
	if err != nil {
		return err
	}
	signer := setup.KeyID(key)
	need := func(n int, names string) error {
		if len(pos) != n {
			return usagef("tx %s takes %s", kind, names)
		}
		return nil
	}
	body := &lightkeeperv1.TxBody{Fee: *fee}
	switch kind {
	case "transfer":
		if err := need(2, "TO AMOUNT"); err != nil {
			return err
		}
		if err := checkHexID("TO", pos[0]); err != nil {
			return err
		}
		amt, err := parseAmount("AMOUNT", pos[1])
		if err != nil {
			return err
		}
		body.Msg = &lightkeeperv1.TxBody_Transfer{Transfer: &lightkeeperv1.TransferMsg{To: pos[0], Amount: amt}}
	case "bond", "unbond":
		if err := need(1, "AMOUNT"); err != nil {
			return err
		}
		amt, err := parseAmount("AMOUNT", pos[0])
		if err != nil {
			return err
		}
		if kind == "bond" {
			body.Msg = &lightkeeperv1.TxBody_Bond{Bond: &lightkeeperv1.BondMsg{Amount: amt}}
		} else {
			body.Msg = &lightkeeperv1.TxBody_Unbond{Unbond: &lightkeeperv1.UnbondMsg{Amount: amt}}
		}
	case "cancel-unbond":
		if err := need(1, "ENTRY_ID"); err != nil {
			return err
		}
		id, err := parseAmount("ENTRY_ID", pos[0])
		if err != nil {
			return err
		}
		body.Msg = &lightkeeperv1.TxBody_CancelUnbond{CancelUnbond: &lightkeeperv1.CancelUnbondMsg{EntryId: id}}
	case "guarantee", "unguarantee":
		if err := need(2, "TARGET AMOUNT"); err != nil {
			return err
		}
		if err := checkHexID("TARGET", pos[0]); err != nil {
			return err
		}
		amt, err := parseAmount("AMOUNT", pos[1])
		if err != nil {
			return err
		}
		if kind == "guarantee" {
			body.Msg = &lightkeeperv1.TxBody_Guarantee{Guarantee: &lightkeeperv1.GuaranteeMsg{Target: pos[0], Amount: amt}}
		} else {
			body.Msg = &lightkeeperv1.TxBody_Unguarantee{Unguarantee: &lightkeeperv1.UnguaranteeMsg{Target: pos[0], Amount: amt}}
		}
	case "group create":
		if err := need(0, "no arguments (--commission BPS)"); err != nil {
			return err
		}
		if *commission > 10_000 {
			return usagef("--commission: %d is above 10000 basis points", *commission)
		}
		body.Msg = &lightkeeperv1.TxBody_GroupCreate{GroupCreate: &lightkeeperv1.GroupCreateMsg{CommissionBps: uint32(*commission)}}
	case "group join", "group leave":
		if len(pos) < 1 || len(pos) > 2 {
			return usagef("tx %s takes GROUP [KEEPER]", kind)
		}
		keeperID := signer
		if len(pos) == 2 {
			keeperID = pos[1]
		}
		if err := checkHexID("GROUP", pos[0]); err != nil {
			return err
		}
		if err := checkHexID("KEEPER", keeperID); err != nil {
			return err
		}
		if kind == "group join" {
			body.Msg = &lightkeeperv1.TxBody_GroupJoin{GroupJoin: &lightkeeperv1.GroupJoinMsg{GroupId: pos[0], KeeperId: keeperID}}
		} else {
			body.Msg = &lightkeeperv1.TxBody_GroupLeave{GroupLeave: &lightkeeperv1.GroupLeaveMsg{GroupId: pos[0], KeeperId: keeperID}}
		}
	case "unjail":
		if err := need(0, "no arguments"); err != nil {
			return err
		}
		body.Msg = &lightkeeperv1.TxBody_Unjail{Unjail: &lightkeeperv1.UnjailMsg{}}
	case "evidence":
		if *firstPath == "" || *secondPath == "" {
			return usagef("tx evidence needs --first FILE and --second FILE")
		}
		var votes [2]*lightkeeperv1.Vote
		for i, p := range []string{*firstPath, *secondPath} {
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			votes[i] = new(lightkeeperv1.Vote)
			if err := protojson.Unmarshal(b, votes[i]); err != nil {
				return fmt.Errorf("%s: not a JSON Vote: %w", p, err)
			}
		}
		body.Msg = &lightkeeperv1.TxBody_Evidence{Evidence: &lightkeeperv1.EvidenceMsg{First: votes[0], Second: votes[1]}}
	default:
		return usagef("unknown transaction kind %q\nusage: lightkeeper %s", kind, txUsage)
	}
	res, err := newStakingClient(*url).signAndSubmit(ctx, key, body, *nonce)
	if err != nil {
		return err
	}
	if *asJSON {
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
