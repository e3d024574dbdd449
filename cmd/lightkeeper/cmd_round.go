package main

import (
	"bytes"
	"context"
	"encoding/hex"
	"fmt"
	"os"
	"strings"
	"time"

	"connectrpc.com/connect"
	"github.com/spf13/cobra"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/lightkeeper-net/lightkeeper/client"
	"github.com/lightkeeper-net/lightkeeper/internal/setup"
	lightkeeperv1 "github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1"
	"github.com/lightkeeper-net/lightkeeper/protocol"
)

func init() {
	register(newRoundCmd)
	register(newVerifyCertCmd)
}

func newRoundCmd() *cobra.Command {
	get := &cobra.Command{
		Use:   "get ID",
		Short: "show a round: outcome, votes, committee seats, compute result",
		Args:  exactArgs(1, "one round id"),
	}
	getURL := coordinatorFlag(get.Flags(), "")
	getJSON := jsonFlag(get.Flags(), "print the full record as JSON")
	get.RunE = func(cmd *cobra.Command, args []string) error {
		return roundGet(cmd.Context(), newClient(*getURL), args[0], *getJSON)
	}

	list := &cobra.Command{
		Use:   "list [--kind K] [--outcome O] [--limit N]",
		Short: "list rounds, newest first: kind, outcome, age, latency, heights, votes",
		Long: `list rounds, newest first, one a line: id, kind, outcome (PENDING while
voting), age (since submission), latency (submission to decision, block
time), submitted and decided heights, and approve/reject/abstain votes.

--kind and --outcome filter on this side: the coordinator's ListRounds has
no filters, so the CLI pages through the listing and stops after --scan
rounds read even if fewer than --limit matched (then it prints the
--page-token that continues). Without filters each call reads at most
--limit rounds.`,
		Args: exactArgs(0, ""),
	}
	fs := list.Flags()
	url := coordinatorFlag(fs, "")
	asJSON := jsonFlag(fs, "print the rounds as JSON (a ListRoundsResponse)")
	limit := fs.Int("limit", 20, fmt.Sprintf("rounds to show (1..%d)", client.MaxListPage))
	pageToken := fs.String("page-token", "", "continue a listing from a previous response's next_page_token")
	kind := fs.String("kind", "", "only rounds of this kind: proof, compute or withdrawal")
	outcome := fs.String("outcome", "", "only rounds with this outcome: approved, rejected, timeout or pending")
	scan := fs.Int("scan", 10*client.MaxListPage, "with --kind or --outcome: read at most this many rounds")
	list.RunE = func(cmd *cobra.Command, _ []string) error {
		if *limit < 1 || *limit > client.MaxListPage {
			return usagef("--limit: %d, want 1..%d", *limit, client.MaxListPage)
		}
		if *scan < 1 {
			return usagef("--scan: %d, want at least 1", *scan)
		}
		f, err := roundFilter(*kind, *outcome)
		if err != nil {
			return err
		}
		maxScanned := *scan
		if f == (client.RoundFilter{}) {
			maxScanned = *limit
		}
		rounds, next, scanned, err := newClient(*url).ListRounds(cmd.Context(), f, *pageToken, *limit, maxScanned)
		if err != nil {
			return err
		}
		out := cmd.OutOrStdout()
		if *asJSON {
			return printProtoTo(out, &lightkeeperv1.ListRoundsResponse{Rounds: rounds, NextPageToken: next})
		}
		now := time.Now()
		for _, r := range rounds {
			fmt.Fprintln(out, roundLine(r, now))
		}
		if next != "" {
			fmt.Fprintf(cmd.ErrOrStderr(), "(%d rounds read, %d shown; more with --page-token %s)\n", scanned, len(rounds), next)
		}
		return nil
	}
	return group("round", "inspect rounds: 'round get ID', 'round list'", "", "command", get, list)
}

// roundFilter parses --kind and --outcome.
func roundFilter(kind, outcome string) (client.RoundFilter, error) {
	var f client.RoundFilter
	if kind != "" {
		k, ok := lightkeeperv1.RoundKind_value["ROUND_KIND_"+strings.ToUpper(kind)]
		if !ok || k == 0 {
			return f, usagef("--kind %q: want proof, compute or withdrawal", kind)
		}
		f.Kind = lightkeeperv1.RoundKind(k)
	}
	if outcome != "" {
		o := strings.ToUpper(outcome)
		if v, ok := lightkeeperv1.Outcome_value["OUTCOME_"+o]; o != "PENDING" && (!ok || v == 0) {
			return f, usagef("--outcome %q: want approved, rejected, timeout or pending", outcome)
		}
		f.Outcome = o
	}
	return f, nil
}

// roundLine is a round as 'round list' shows it. The heights are those of
// 'round get': submitted, then decided ("-" while voting).
func roundLine(r *lightkeeperv1.RoundSummary, now time.Time) string {
	decided, latency := "-", "-"
	if r.GetPhase() != lightkeeperv1.RoundPhase_ROUND_PHASE_VOTING {
		decided = fmt.Sprint(r.GetDecidedHeight())
		latency = r.GetDecidedAt().AsTime().Sub(r.GetSubmittedAt().AsTime()).Round(time.Millisecond).String()
	}
	age := now.Sub(r.GetSubmittedAt().AsTime()).Round(time.Second).String()
	return fmt.Sprintf("%s  %-10s  %-8s  age %-8s  latency %-8s  submitted %-6d decided %-6s  %d/%d/%d", r.GetId(),
		enumName(r.GetKind().String(), "ROUND_KIND_"), client.OutcomeName(r.GetPhase(), r.GetOutcome()), age, latency,
		r.GetSubmittedHeight(), decided, r.GetApprovals(), r.GetRejections(), r.GetAbstentions())
}

func roundGet(ctx context.Context, c client.Client, id string, asJSON bool) error {
	res, err := c.Rounds.GetRound(ctx, connect.NewRequest(&lightkeeperv1.GetRoundRequest{RoundId: id}))
	if err != nil {
		return describe(err)
	}
	r := res.Msg.GetRound()
	if asJSON {
		return printProto(r)
	}
	if err := printRoundSummary(r, false); err != nil {
		return err
	}
	if r.GetKind() == lightkeeperv1.RoundKind_ROUND_KIND_COMPUTE {
		printComputeResult(r)
	}
	if ch := r.GetChallenge(); ch != nil {
		who := "the active set"
		if ch.GetCandidates() {
			who = "candidates outside the active set"
		}
		fmt.Printf("random challenge (revealed at close): answer %s, committee drawn from %s\n", enumName(ch.GetKind().String(), "VOTE_KIND_"), who)
	}
	for i, id := range r.GetCommittee() {
		vote := "-"
		for _, v := range r.GetVotes() {
			if v.GetKeeperId() == id {
				vote = enumName(v.GetKind().String(), "VOTE_KIND_")
				if v.GetCompute() != nil {
					vote += fmt.Sprintf("  result %x", v.GetResultHash()[:6])
					if r.GetResult() != nil && !bytes.Equal(v.GetResultHash(), r.GetResultHash()) {
						vote += " (differs from the agreed result)"
					}
				}
			}
		}
		fmt.Printf("  seat %-2d %s  %s\n", i, id, vote)
	}
	return nil
}

const verifyCertLong = `Offline (--file), committee size and thresholds are taken from the chain's
consensus parameters, never from the certificate: --params is the chain's
parameters as 'lightkeeper query params --json' prints them, and
--params-hash (printed by 'lightkeeper query params') pins them when the
file comes from somewhere you do not trust. Without --params the check is
refused. By ID, the coordinator's parameters are used (pinned by
--params-hash if given), and the certificate is also checked against its
deciding block and the block its committee seed comes from.`

func newVerifyCertCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "verify-cert ID | verify-cert --file CERT.json --params PARAMS.json",
		Short: "check a round's certificate offline",
		Long:  verifyCertLong,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 1 {
				return usagef("verify-cert takes one round id (or --file)")
			}
			return nil
		},
	}
	fs := c.Flags()
	url := coordinatorFlag(fs, "coordinator to fetch the certificate and its blocks from")
	file := fs.String("file", "", "check a certificate saved as JSON instead of fetching it")
	save := fs.String("save", "", "also save the fetched certificate as JSON here")
	paramsPath := fs.String("params", "", "the chain's consensus parameters as JSON ('lightkeeper query params --json')")
	pin := fs.String("params-hash", "", "the chain's params hash ('lightkeeper query params'): refuse other parameters")
	genesisPath := fs.String("genesis", "", "the chain's genesis.json: refuse certificates of another chain id")
	asJSON := jsonFlag(fs, "print the verified certificate's summary as one JSON object")
	c.RunE = func(cmd *cobra.Command, pos []string) error {
		ctx := cmd.Context()
		var params *lightkeeperv1.ConsensusParams
		if *paramsPath != "" {
			b, err := os.ReadFile(*paramsPath)
			if err != nil {
				return err
			}
			params = new(lightkeeperv1.ConsensusParams)
			if err := protojson.Unmarshal(b, params); err != nil {
				return fmt.Errorf("%s: %w", *paramsPath, err)
			}
		}
		var cert *lightkeeperv1.Certificate
		var c client.Client
		switch {
		case *file != "":
			if params == nil {
				return usagef("verify-cert --file cannot check committee size and thresholds without the chain's parameters: give --params PARAMS.json ('lightkeeper query params --json'; pin it with --params-hash), or verify by round id against a coordinator")
			}
			b, err := os.ReadFile(*file)
			if err != nil {
				return err
			}
			cert = new(lightkeeperv1.Certificate)
			if err := protojson.Unmarshal(b, cert); err != nil {
				return fmt.Errorf("%s: %w", *file, err)
			}
		case len(pos) == 1:
			c = newClient(*url)
			res, err := c.Rounds.GetCertificate(ctx, connect.NewRequest(&lightkeeperv1.GetCertificateRequest{RoundId: pos[0]}))
			if err != nil {
				return describe(err)
			}
			cert = res.Msg.GetCertificate()
			if params == nil {
				info, err := c.Ledger.GetChainInfo(ctx, connect.NewRequest(&lightkeeperv1.GetChainInfoRequest{}))
				if err != nil {
					return describe(err)
				}
				params = info.Msg.GetParams()
			}
		default:
			return usagef("give a round id or --file")
		}
		if *save != "" {
			b, err := protojson.MarshalOptions{Multiline: true, Indent: "  ", UseProtoNames: true}.Marshal(cert)
			if err != nil {
				return err
			}
			if err := os.WriteFile(*save, b, 0o644); err != nil {
				return err
			}
		}
		// Everything from here on is offline: the coordinator is not trusted.
		fail := func(err error) error { return fmt.Errorf("BAD certificate for round %s: %w", cert.GetRoundId(), err) }
		if *genesisPath != "" {
			g, err := setup.ReadGenesis(*genesisPath)
			if err != nil {
				return err
			}
			if g.GetChainId() != cert.GetChainId() {
				return fail(fmt.Errorf("chain_id %q, but %s is chain %q", cert.GetChainId(), *genesisPath, g.GetChainId()))
			}
		}
		if *pin != "" {
			if got := hex.EncodeToString(protocol.ParamsHash(cert.GetChainId(), params)); got != strings.ToLower(*pin) {
				return fail(fmt.Errorf("the parameters used hash to %s on chain %q, not the pinned --params-hash %s", got, cert.GetChainId(), *pin))
			}
		}
		inBlock := ""
		if c.Ledger == nil {
			if err := protocol.VerifyCertificate(cert, params); err != nil {
				return fail(err)
			}
		} else {
			res, err := c.Ledger.GetBlock(ctx, connect.NewRequest(&lightkeeperv1.GetBlockRequest{Height: cert.GetHeight()}))
			if err != nil {
				return describe(err)
			}
			if err := protocol.VerifyCertificateInBlock(cert, params, res.Msg.GetBlock()); err != nil {
				return fail(err)
			}
			sb, err := c.Ledger.GetBlock(ctx, connect.NewRequest(&lightkeeperv1.GetBlockRequest{Height: cert.GetSeedBlock().GetHeight()}))
			if err != nil {
				return describe(err)
			}
			if err := protocol.SeedBlockMatches(cert, sb.Msg.GetBlock()); err != nil {
				return fail(err)
			}
			inBlock = fmt.Sprintf(", recorded in block %d, seed from block %d which submits it", cert.GetHeight(), cert.GetSeedBlock().GetHeight())
		}
		if ch := cert.GetChallenge(); ch != nil {
			inBlock += fmt.Sprintf("; a random challenge, answer %s (docs/challenges.md)", enumName(ch.GetKind().String(), "VOTE_KIND_"))
		}
		if *asJSON {
			out := map[string]any{
				"round_id": cert.GetRoundId(), "outcome": enumName(cert.GetOutcome().String(), "OUTCOME_"),
				"votes": len(cert.GetVotes()), "committee_size": len(cert.GetCommittee()),
				"params_hash": hex.EncodeToString(cert.GetParamsHash()), "chain_id": cert.GetChainId(),
				"offline": c.Ledger == nil,
			}
			if c.Ledger != nil {
				out["height"], out["seed_height"] = cert.GetHeight(), cert.GetSeedBlock().GetHeight()
			}
			return printJSON(out)
		}
		fmt.Printf("certificate OK: round %s %s by %d signed votes of a %d-keeper committee recomputed from its seed, under the parameters %x of chain %s%s\n",
			cert.GetRoundId(), enumName(cert.GetOutcome().String(), "OUTCOME_"), len(cert.GetVotes()), len(cert.GetCommittee()),
			cert.GetParamsHash(), cert.GetChainId(), inBlock)
		if c.Ledger == nil {
			fmt.Println("offline: the eligible list delivered with the certificate hashes to its eligible_hash; only its deciding block (verify-cert ID) vouches for that hash")
		}
		return nil
	}
	return c
}
