package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"connectrpc.com/connect"
	"github.com/spf13/cobra"

	"github.com/lightkeeper-net/lightkeeper/internal/setup"
	lightkeeperv1 "github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1"
	"github.com/lightkeeper-net/lightkeeper/protocol"
)

func init() { register(newQueryCmd) }

// queryFlags are the flags of the query commands.
type queryFlags struct {
	url                        *string
	asJSON                     *bool
	keyPath, guarantor, target *string
}

func newQueryCmd() *cobra.Command {
	q := queryFlags{keyPath: new(string)}
	sub := func(use, short string, args cobra.PositionalArgs) *cobra.Command {
		return &cobra.Command{Use: use, Short: short, Args: args,
			RunE: func(cmd *cobra.Command, pos []string) error { return runQuery(cmd.Context(), cmd.Name(), pos, q) }}
	}
	oneID := func(cmd *cobra.Command, args []string) error {
		if len(args) > 1 {
			return usagef("%s takes one ID", cmd.CommandPath())
		}
		return nil
	}
	account := sub("account ID|--key FILE", "balance, nonce, own bond, unbonding entries, guarantees given", oneID)
	keeperCmd := sub("keeper ID|--key FILE", "bond, guarantees, stake limit, effective stake, capacity, reputation, uptime, jail, group", oneID)
	for _, c := range []*cobra.Command{account, keeperCmd} {
		kp := keyFlag(c.Flags(), "take the id from this key file")
		c.PreRun = func(*cobra.Command, []string) { *q.keyPath = *kp }
	}
	guarantees := sub("guarantees --guarantor ID | --target ID", "guarantees given by an account, or received by a keeper or group", exactArgs(0, ""))
	q.guarantor = guarantees.Flags().String("guarantor", "", "guarantees given by this account")
	q.target = guarantees.Flags().String("target", "", "guarantees received by this keeper or group")
	query := group("query", "read the economy and the rules: accounts, keepers, groups, guarantees, epochs, the community fund, params, the chain's head", "", "query",
		account, keeperCmd,
		sub("group ID", "members, commission, backing, limit, effective stake, vote cap", exactArgs(1, "one group ID")),
		guarantees,
		sub("epoch [N]", "the current epoch and its active set; the statement of epoch N (default: the last completed one)", oneID),
		sub("community-fund", "the community fund and the supply totals", exactArgs(0, "")),
		sub("chain", "the chain's head; on replicas (--coordinator URL,URL,…) each one's height, app hash and consensus state, compared at one height", exactArgs(0, "")),
		sub("params", "the chain's consensus parameters and their params hash, which offline certificate checks pin (--json: the parameters alone, the file 'verify-cert --file CERT --params FILE' reads)", exactArgs(0, "")),
	)
	q.url = coordinatorFlag(query.PersistentFlags(), "")
	q.asJSON = jsonFlag(query.PersistentFlags(), "print the full record as JSON")
	return query
}

// runQuery reads what (a query sub-command's name) for the id in pos.
func runQuery(ctx context.Context, what string, pos []string, q queryFlags) error {
	url, asJSON, keyPath, guarantor, target := q.url, q.asJSON, q.keyPath, q.guarantor, q.target
	id := ""
	if len(pos) > 0 {
		id = pos[0]
	}
	if *keyPath != "" {
		k, err := setup.ReadKey(*keyPath)
		if err != nil {
			return err
		}
		id = setup.KeyID(k)
	}
	needID := func() error {
		if id == "" {
			return usagef("query %s needs an ID (or --key FILE)", what)
		}
		return checkHexID("ID", id)
	}
	if what == "chain" {
		return queryChain(ctx, *url, *asJSON)
	}
	if what == "params" {
		info, err := newClient(*url).Ledger.GetChainInfo(ctx, connect.NewRequest(&lightkeeperv1.GetChainInfoRequest{}))
		if err != nil {
			return describe(err)
		}
		p := info.Msg.GetParams()
		if *asJSON {
			return printProto(p)
		}
		fmt.Printf("chain        %s\nparams hash  %x\ncommittees   %d seats, threshold %d (reject: seats - threshold + 1); compute %d seats, majority\n",
			info.Msg.GetChainId(), protocol.ParamsHash(info.Msg.GetChainId(), p), p.GetTotalValidators(), p.GetThreshold(), p.GetComputeValidators())
		fmt.Println("pin it: lightkeeper verify-cert --file CERT.json --params params.json --params-hash <params hash>  (params.json: query params --json)")
		return nil
	}
	c := newClient(*url).Staking
	switch what {
	case "account":
		if err := needID(); err != nil {
			return err
		}
		res, err := c.GetAccount(ctx, connect.NewRequest(&lightkeeperv1.GetAccountRequest{AccountId: id}))
		if err != nil {
			return describe(err)
		}
		if *asJSON {
			return printProto(res.Msg)
		}
		m := res.Msg
		fmt.Printf("account   %s\nbalance   %d\nnonce     %d\nown bond  %d\n", id, m.GetAccount().GetBalance(), m.GetAccount().GetNonce(), m.GetSelfBond())
		for _, g := range m.GetGuarantees() {
			fmt.Printf("guarantee %d to %s\n", g.GetAmount(), g.GetTargetId())
		}
		for _, e := range m.GetUnbonding() {
			from := "own bond"
			if !e.GetSelfBond() {
				from = "guarantee to " + short(e.GetTargetId())
			}
			fmt.Printf("unbonding #%d: %d from %s, paid out at %s\n", e.GetId(), e.GetAmount(), from, timeText(e.GetCompletesAt()))
		}
		return nil
	case "keeper":
		if err := needID(); err != nil {
			return err
		}
		res, err := c.GetKeeperStake(ctx, connect.NewRequest(&lightkeeperv1.GetKeeperStakeRequest{KeeperId: id}))
		if err != nil {
			return describe(err)
		}
		if *asJSON {
			return printProto(res.Msg)
		}
		k := res.Msg.GetKeeper()
		jail := "no"
		switch {
		case k.GetTombstoned():
			jail = "tombstoned (for ever)"
		case k.GetJailed():
			jail = "until " + timeText(k.GetJailedUntil())
		}
		group := k.GetGroupId()
		if group == "" {
			group = "(stands alone)"
		}
		tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', 0)
		for _, row := range [][2]string{
			{"keeper", k.GetId()},
			{"own bond", fmt.Sprint(k.GetStake())},
			{"guaranteed", fmt.Sprint(k.GetGuaranteed())},
			{"stake limit", fmt.Sprint(k.GetStakeLimit())},
			{"effective stake", fmt.Sprint(k.GetEffectiveStake())},
			{"capacity", fmt.Sprintf("%d.%03d work units/epoch", k.GetCapacityMilli()/1000, k.GetCapacityMilli()%1000)},
			{"reputation", fmt.Sprint(k.GetReputation())},
			{"uptime", ppm(k.GetUptimePpm())},
			{"active", fmt.Sprint(k.GetActive())},
			{"jailed", jail},
			{"group", group},
			{"reward multiplier", fmt.Sprintf("%d bps", k.GetRewardMultiplierBps())},
			{"this epoch", fmt.Sprintf("%d work units, %d assigned, %d missed", k.GetEpochWorkUnits(), k.GetEpochAssigned(), k.GetEpochMissed())},
			{"slashed / rewarded", fmt.Sprintf("%d / %d", k.GetSlashedTotal(), k.GetRewardsTotal())},
		} {
			fmt.Fprintf(tw, "%s\t%s\n", row[0], row[1])
		}
		return tw.Flush()
	case "group":
		if err := needID(); err != nil {
			return err
		}
		res, err := c.GetGroup(ctx, connect.NewRequest(&lightkeeperv1.GetGroupRequest{GroupId: id}))
		if err != nil {
			return describe(err)
		}
		if *asJSON {
			return printProto(res.Msg)
		}
		m := res.Msg
		g := m.GetGroup()
		fmt.Printf("group       %s\ncommission  %d bps\nmultiplier  %d bps\nbacking     %d\nlimit       %d\neffective   %d\nvote cap    %d\n",
			g.GetId(), g.GetCommissionBps(), g.GetRewardMultiplierBps(), m.GetBacking(), m.GetStakeLimit(), m.GetEffectiveStake(), m.GetVoteCap())
		for _, k := range m.GetMembers() {
			fmt.Printf("member      %s bond %d limit %d effective %d\n", k.GetId(), k.GetStake(), k.GetStakeLimit(), k.GetEffectiveStake())
		}
		for _, inv := range g.GetInvited() {
			fmt.Printf("invited     %s\n", inv)
		}
		return nil
	case "guarantees":
		if (*guarantor == "") == (*target == "") {
			return usagef("query guarantees needs exactly one of --guarantor ID and --target ID")
		}
		res, err := c.ListGuarantees(ctx, connect.NewRequest(&lightkeeperv1.ListGuaranteesRequest{GuarantorId: *guarantor, TargetId: *target}))
		if err != nil {
			return describe(err)
		}
		if *asJSON {
			return printProto(res.Msg)
		}
		for _, g := range res.Msg.GetGuarantees() {
			fmt.Printf("%s -> %s  %d\n", g.GetGuarantorId(), g.GetTargetId(), g.GetAmount())
		}
		return nil
	case "epoch":
		req := &lightkeeperv1.GetEpochRequest{}
		if id != "" {
			n, err := strconv.ParseUint(id, 10, 64)
			if err != nil {
				return usagef("query epoch [N]: %q is not an epoch number", id)
			}
			req.Epoch = &n
		}
		res, err := c.GetEpoch(ctx, connect.NewRequest(req))
		if err != nil {
			return describe(err)
		}
		if *asJSON {
			return printProto(res.Msg)
		}
		printEpoch(res.Msg)
		return nil
	case "community-fund":
		res, err := c.GetCommunityFund(ctx, connect.NewRequest(&lightkeeperv1.GetCommunityFundRequest{}))
		if err != nil {
			return describe(err)
		}
		if *asJSON {
			return printProto(res.Msg)
		}
		m := res.Msg
		fmt.Printf("community fund  %d\nfee pot         %d\nminted          %d\nslashed         %d\nfees            %d\ntotal supply    %d\n",
			m.GetCommunityFund(), m.GetFeePot(), m.GetTotalMinted(), m.GetTotalSlashed(), m.GetTotalFees(), m.GetTotalSupply())
		return nil
	}
	return usagef("unknown query %q", what)
}

func printEpoch(m *lightkeeperv1.GetEpochResponse) { printEpochTo(os.Stdout, m) }

// timeText shows a time as RFC 3339 in UTC, date included (an epoch can
// start on another day than it is shown).
func timeText(ts interface{ AsTime() time.Time }) string {
	return ts.AsTime().UTC().Format(time.RFC3339)
}

func printEpochTo(w io.Writer, m *lightkeeperv1.GetEpochResponse) {
	fmt.Fprintf(w, "epoch %d since %s, next at %s\nactive set (%d): %s\n", m.GetCurrentEpoch(),
		timeText(m.GetCurrentStartedAt()), timeText(m.GetNextEpochAt()),
		len(m.GetActiveSet()), shortList(m.GetActiveSet()))
	r := m.GetRecord()
	if r == nil {
		return
	}
	fmt.Fprintf(w, "epoch %d statement: fees %d + minted %d = paid %d + community fund %d\n", r.GetEpoch(), r.GetFees(), r.GetMinted(), r.GetPaid(), r.GetToCommunityFund())
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "keeper\twork\tuptime\tshare\tmultiplier\tcommission\tto backers\twithheld\t")
	for _, kr := range r.GetRewards() {
		fmt.Fprintf(tw, "%s\t%d\t%s\t%d\t%d\t%d\t%d\t%d\t\n", short(kr.GetKeeperId()), kr.GetWorkUnits(), ppm(kr.GetUptimePpm()),
			kr.GetShare(), kr.GetMultiplierBps(), kr.GetCommission(), kr.GetToBackers(), kr.GetWithheld())
	}
	tw.Flush()
}

// ppm formats parts per million as a decimal fraction, in integers.
func ppm(v uint32) string { return fmt.Sprintf("%d.%06d", v/1_000_000, v%1_000_000) }

func shortList(ids []string) string {
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = short(id)
	}
	return strings.Join(s, " ")
}
