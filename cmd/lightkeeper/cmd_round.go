package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/lightkeeper-net/lightkeeper/coordinator/state"
	lightkeeperv1 "github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1"
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

func cmdVerifyCert(ctx context.Context, args []string) error {
	fs := newFlags("verify-cert", "verify-cert ID [--coordinator URL] | verify-cert --file CERT.json")
	url := fs.String("coordinator", "http://127.0.0.1:8080", "coordinator to fetch the certificate and its block from")
	file := fs.String("file", "", "check a certificate saved as JSON instead of fetching it")
	save := fs.String("save", "", "also save the fetched certificate as JSON here")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	var cert *lightkeeperv1.Certificate
	var c clients
	switch {
	case *file != "":
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
	if err := state.VerifyCertificate(cert); err != nil {
		return fmt.Errorf("BAD certificate for round %s: %w", cert.GetRoundId(), err)
	}
	inBlock := ""
	if c.ledger != nil {
		res, err := c.ledger.GetBlock(ctx, connect.NewRequest(&lightkeeperv1.GetBlockRequest{Height: cert.GetHeight()}))
		if err != nil {
			return describe(err)
		}
		if err := certificateInBlock(cert, res.Msg.GetBlock()); err != nil {
			return fmt.Errorf("BAD certificate for round %s: %w", cert.GetRoundId(), err)
		}
		inBlock = fmt.Sprintf(", recorded in block %d", cert.GetHeight())
	}
	if ch := cert.GetChallenge(); ch != nil {
		inBlock += fmt.Sprintf("; a random challenge, answer %s (docs/challenges.md)", enumName(ch.GetKind().String(), "VOTE_KIND_"))
	}
	fmt.Printf("certificate OK: round %s %s by %d signed votes of a %d-keeper committee recomputed from its seed%s\n",
		cert.GetRoundId(), enumName(cert.GetOutcome().String(), "OUTCOME_"), len(cert.GetVotes()), len(cert.GetCommittee()), inBlock)
	return nil
}

// certificateInBlock checks that the block's hash is right and that its
// results hash commits to this certificate.
func certificateInBlock(cert *lightkeeperv1.Certificate, b *lightkeeperv1.Block) error {
	if !bytes.Equal(state.BlockHash(b.GetHeader()), b.GetHash()) {
		return errors.New("block hash does not match its header")
	}
	// A closed challenge's certificate comes with its answer attached; the
	// deciding block hashed it without (the closing block reveals it).
	if cert.GetChallenge() != nil {
		cert = proto.Clone(cert).(*lightkeeperv1.Certificate)
		cert.Challenge = nil
	}
	want := state.CertificateHash(cert)
	for _, c := range b.GetCertificates() {
		if bytes.Equal(state.CertificateHash(c), want) {
			if !bytes.Equal(state.ResultsHash(b.GetCertificates(), b.GetEvidence(), b.GetChallenges()...), b.GetHeader().GetResultsHash()) {
				return errors.New("block results hash does not match its certificates")
			}
			return nil
		}
	}
	return fmt.Errorf("block %d does not contain this certificate", b.GetHeader().GetHeight())
}
