package main

import (
	"bytes"
	"context"
	"encoding/hex"
	"fmt"
	"os"
	"strings"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/lightkeeper-net/lightkeeper/internal/setup"
	lightkeeperv1 "github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1"
	"github.com/lightkeeper-net/lightkeeper/protocol"
)

func init() {
	register("round", "inspect rounds: 'round get ID', 'round list'", cmdRound)
	register("verify-cert", "check a round's certificate offline", cmdVerifyCert)
}

// maxListPage is the coordinator's largest ListRounds page
// (service.MaxListPageSize).
const maxListPage = 1000

func cmdRound(ctx context.Context, args []string) error {
	if len(args) == 0 || (args[0] != "get" && args[0] != "list") {
		return usagef("usage: lightkeeper round get ID | round list [--coordinator URL] [--json]")
	}
	fs := newFlags("round "+args[0], "round get ID | round list [--coordinator URL] [--json]")
	url := fs.String("coordinator", "http://127.0.0.1:8080", "coordinator URL")
	asJSON := fs.Bool("json", false, "print the full record as JSON")
	limit := fs.Int("limit", 20, fmt.Sprintf("rounds to list (at most %d)", maxListPage))
	pageToken := fs.String("page-token", "", "continue a listing from a previous response's next_page_token")
	pos, err := parseFlags(fs, args[1:])
	if err != nil {
		return err
	}
	if *limit < 1 || *limit > maxListPage {
		return usagef("--limit: %d, want 1..%d", *limit, maxListPage)
	}
	c := newClients(*url)
	if args[0] == "list" {
		res, err := c.Rounds.ListRounds(ctx, connect.NewRequest(&lightkeeperv1.ListRoundsRequest{PageSize: uint32(*limit), PageToken: *pageToken}))
		if err != nil {
			return describe(err)
		}
		if *asJSON {
			return printProto(res.Msg)
		}
		// The same heights as round get: submitted, then decided ("-"
		// while voting).
		for _, r := range res.Msg.GetRounds() {
			decided := "-"
			if r.GetPhase() != lightkeeperv1.RoundPhase_ROUND_PHASE_VOTING {
				decided = fmt.Sprint(r.GetDecidedHeight())
			}
			outcome := enumName(r.GetOutcome().String(), "OUTCOME_")
			if r.GetPhase() == lightkeeperv1.RoundPhase_ROUND_PHASE_VOTING {
				outcome = "PENDING"
			}
			fmt.Printf("%s  %-9s  submitted %-6d decided %-6s  %d/%d/%d\n", r.GetId(), outcome, r.GetSubmittedHeight(), decided,
				r.GetApprovals(), r.GetRejections(), r.GetAbstentions())
		}
		if next := res.Msg.GetNextPageToken(); next != "" && len(res.Msg.GetRounds()) < *limit {
			fmt.Fprintf(os.Stderr, "(%d rounds fit in one response; more with --page-token %s)\n", len(res.Msg.GetRounds()), next)
		}
		return nil
	}
	if len(pos) != 1 {
		return usagef("round get takes one round id")
	}
	res, err := c.Rounds.GetRound(ctx, connect.NewRequest(&lightkeeperv1.GetRoundRequest{RoundId: pos[0]}))
	if err != nil {
		return describe(err)
	}
	r := res.Msg.GetRound()
	if *asJSON {
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

const verifyCertUsage = `verify-cert ID [--coordinator URL] [--params-hash HEX] | verify-cert --file CERT.json --params PARAMS.json [--params-hash HEX] [--genesis genesis.json]

Offline (--file), committee size and thresholds are taken from the chain's
consensus parameters, never from the certificate: --params is the chain's
parameters as 'lightkeeper query params --json' prints them, and
--params-hash (printed by 'lightkeeper query params') pins them when the
file comes from somewhere you do not trust. Without --params the check is
refused. By ID, the coordinator's parameters are used (pinned by
--params-hash if given), and the certificate is also checked against its
deciding block and the block its committee seed comes from.`

func cmdVerifyCert(ctx context.Context, args []string) error {
	fs := newFlags("verify-cert", verifyCertUsage)
	url := fs.String("coordinator", "http://127.0.0.1:8080", "coordinator to fetch the certificate and its blocks from")
	file := fs.String("file", "", "check a certificate saved as JSON instead of fetching it")
	save := fs.String("save", "", "also save the fetched certificate as JSON here")
	paramsPath := fs.String("params", "", "the chain's consensus parameters as JSON ('lightkeeper query params --json')")
	pin := fs.String("params-hash", "", "the chain's params hash ('lightkeeper query params'): refuse other parameters")
	genesisPath := fs.String("genesis", "", "the chain's genesis.json: refuse certificates of another chain id")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
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
	var c clients
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
		c = newClients(*url)
		res, err := c.Rounds.GetCertificate(ctx, connect.NewRequest(&lightkeeperv1.GetCertificateRequest{RoundId: pos[0]}))
		if err != nil {
			return describe(err)
		}
		cert = res.Msg.GetCertificate()
		if params == nil {
			info, err := c.ledger.GetChainInfo(ctx, connect.NewRequest(&lightkeeperv1.GetChainInfoRequest{}))
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
	if c.ledger == nil {
		if err := protocol.VerifyCertificate(cert, params); err != nil {
			return fail(err)
		}
	} else {
		res, err := c.ledger.GetBlock(ctx, connect.NewRequest(&lightkeeperv1.GetBlockRequest{Height: cert.GetHeight()}))
		if err != nil {
			return describe(err)
		}
		if err := protocol.VerifyCertificateInBlock(cert, params, res.Msg.GetBlock()); err != nil {
			return fail(err)
		}
		sb, err := c.ledger.GetBlock(ctx, connect.NewRequest(&lightkeeperv1.GetBlockRequest{Height: cert.GetSeedBlock().GetHeight()}))
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
	fmt.Printf("certificate OK: round %s %s by %d signed votes of a %d-keeper committee recomputed from its seed, under the parameters %x of chain %s%s\n",
		cert.GetRoundId(), enumName(cert.GetOutcome().String(), "OUTCOME_"), len(cert.GetVotes()), len(cert.GetCommittee()),
		cert.GetParamsHash(), cert.GetChainId(), inBlock)
	if c.ledger == nil {
		fmt.Println("offline: the eligible list is taken from the certificate; only its deciding block (verify-cert ID) vouches for it")
	}
	return nil
}

// chainParams fetches the coordinator's consensus parameters, which the
// demo's offline certificate checks are made against.
func chainParams(ctx context.Context, c clients) (*lightkeeperv1.ConsensusParams, error) {
	info, err := c.ledger.GetChainInfo(ctx, connect.NewRequest(&lightkeeperv1.GetChainInfoRequest{}))
	if err != nil {
		return nil, describe(err)
	}
	return info.Msg.GetParams(), nil
}
