package service

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/proto"

	"github.com/lightkeeper-net/lightkeeper/coordinator/state"
	"github.com/lightkeeper-net/lightkeeper/pebbledb"
	lightkeeperv1 "github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1"
	"github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1/lightkeeperv1connect"
	"github.com/lightkeeper-net/lightkeeper/protocol"
	"github.com/lightkeeper-net/lightkeeper/verifier"
)

type roundServer struct{ n *Node }

var _ lightkeeperv1connect.RoundServiceHandler = roundServer{}

// checkID validates a 64-hex-digit id field. Ids are lowercase hex (as
// every response shows them, and as they are hashed and signed), so an
// uppercase digit is refused, saying so.
func checkID(field, id string) error {
	if len(id) != 64 {
		return invalidArgument("%s: want 64 lowercase hex digits, got %d characters", field, len(id))
	}
	for i := 0; i < len(id); i++ {
		switch c := id[i]; {
		case '0' <= c && c <= '9', 'a' <= c && c <= 'f':
		case 'A' <= c && c <= 'F':
			return invalidArgument("%s: want 64 lowercase hex digits; character %d is %q (ids are lowercase: %s)", field, i, c, strings.ToLower(id))
		default:
			return invalidArgument("%s: want 64 lowercase hex digits; character %d is %q", field, i, c)
		}
	}
	return nil
}

// redact hides votes and tallies of a round still being voted on: the
// coordinator never reveals a vote before the round is decided, so a lazy
// keeper cannot copy its peers.
func redact(r *lightkeeperv1.Round) *lightkeeperv1.Round {
	voting := r.GetPhase() == lightkeeperv1.RoundPhase_ROUND_PHASE_VOTING
	// A random challenge is told apart only once it has closed
	// (docs/challenges.md).
	hidden := r.GetChallenge() != nil && r.GetPhase() != lightkeeperv1.RoundPhase_ROUND_PHASE_CLOSED
	if !voting && !hidden {
		return r
	}
	r = proto.Clone(r).(*lightkeeperv1.Round)
	if voting {
		r.Votes, r.Approvals, r.Rejections, r.Abstentions = nil, 0, 0, 0
	}
	if hidden {
		r.Challenge = nil
	}
	return r
}

func (s roundServer) SubmitRound(ctx context.Context, req *connect.Request[lightkeeperv1.SubmitRoundRequest]) (*connect.Response[lightkeeperv1.SubmitRoundResponse], error) {
	n := s.n
	if !n.limiter.allow(req.Peer().Addr, n.now()) {
		n.metrics.rateLimited.Inc()
		return nil, connect.NewError(connect.CodeResourceExhausted, errors.New("rate limit: too many submissions from this address"))
	}
	msg, err := convertRoundFormat(req.Msg) // other formats to gnark's (snarkjs.go)
	if err != nil {
		return nil, err
	}
	// The request comes unsigned (free, while staking.fee_per_work_unit is
	// 0) or inside a signed, paid submit_round transaction.
	rr, field := msg.GetRequest(), "request"
	tx := &lightkeeperv1.Transaction{Kind: &lightkeeperv1.Transaction_SubmitRound{SubmitRound: &lightkeeperv1.SubmitRoundTx{Request: rr}}}
	if stx := msg.GetSigned(); stx != nil {
		if rr != nil {
			return nil, invalidArgument("request and signed: set only one")
		}
		body, _, err := protocol.VerifyTx(n.chainID, stx)
		if err != nil {
			return nil, toConnect(err)
		}
		if body.GetSubmitRound() == nil {
			return nil, invalidArgument("signed.body: not a submit_round transaction")
		}
		rr, field = body.GetSubmitRound().GetRequest(), "signed.body.submit_round.request"
		tx = protocol.SignedTransaction(stx)
	}
	if err := n.checkRoundRequest(field, rr); err != nil {
		return nil, err
	}
	open := 0
	if err := n.readMachine(func(m *state.Machine) { open = m.OpenRoundCount() }); err != nil {
		return nil, toConnect(err)
	}
	if open >= n.cfg.Limits.MaxOpenRounds {
		return nil, connect.NewError(connect.CodeResourceExhausted, fmt.Errorf("%d rounds are open, the limit is %d: retry later", open, n.cfg.Limits.MaxOpenRounds))
	}
	res, err := n.submit(ctx, tx)
	if err != nil {
		return nil, toConnect(err)
	}
	created := true
	round := res.Round
	if errors.Is(res.Err, state.ErrRoundExists) {
		created = false
		if round, err = n.store.Round(res.RoundID); err != nil {
			return nil, toConnect(err)
		}
	} else if res.Err != nil {
		return nil, toConnect(res.Err)
	}
	if err := n.fillEligible(round); err != nil {
		return nil, err
	}
	return connect.NewResponse(&lightkeeperv1.SubmitRoundResponse{Round: redact(round), Created: created}), nil
}

// checkRoundRequest applies the service's size limits to a request.
func (n *Node) checkRoundRequest(field string, rr *lightkeeperv1.RoundRequest) error {
	if rr == nil {
		return invalidArgument("%s: missing", field)
	}
	if p := rr.GetProof(); p != nil {
		lim := n.sizeLimits
		switch {
		case len(p.GetProof()) > lim.MaxProofBytes:
			return invalidArgument("%s.proof.proof: %d bytes, limit is %d", field, len(p.GetProof()), lim.MaxProofBytes)
		case len(p.GetPublicInputs()) > lim.MaxPublicInputBytes:
			return invalidArgument("%s.proof.public_inputs: %d bytes, limit is %d", field, len(p.GetPublicInputs()), lim.MaxPublicInputBytes)
		}
		if err := checkID(field+".proof.verifying_key_id", p.GetVerifyingKeyId()); err != nil {
			return err
		}
		// Bytes after the proof's encoding: keepers would reject the
		// proof for them (the same walk), so refuse it here instead of
		// storing and dispatching the padding.
		if err := verifier.CheckProofEncoding(verifier.Scheme(p.GetScheme()), verifier.Curve(p.GetCurve()), p.GetProof()); err != nil {
			return invalidArgument("%s.proof.proof: %v", field, err)
		}
	}
	if w := rr.GetWithdrawal(); w != nil {
		if lim := n.sizeLimits.MaxProofBytes; len(w.GetProof()) > lim {
			return invalidArgument("%s.withdrawal.proof: %d bytes, limit is %d", field, len(w.GetProof()), lim)
		}
		if err := verifier.CheckProofEncoding(verifier.SchemeGroth16, verifier.CurveBN254, w.GetProof()); err != nil {
			return invalidArgument("%s.withdrawal.proof: %v", field, err)
		}
	}
	if c := rr.GetCompute(); c != nil {
		cp := n.computeParams
		switch {
		case uint64(len(c.GetInput())) > cp.GetMaxInputBytes():
			return invalidArgument("%s.compute.input: %d bytes, limit is %d (compute.max_input_bytes)", field, len(c.GetInput()), cp.GetMaxInputBytes())
		case c.GetFuel() == 0 || c.GetFuel() > cp.GetMaxFuel():
			return invalidArgument("%s.compute.fuel: %d, want 1..%d (compute.max_fuel)", field, c.GetFuel(), cp.GetMaxFuel())
		}
		if err := checkID(field+".compute.program_id", c.GetProgramId()); err != nil {
			return err
		}
	}
	return nil
}

func (s roundServer) GetRound(ctx context.Context, req *connect.Request[lightkeeperv1.GetRoundRequest]) (*connect.Response[lightkeeperv1.GetRoundResponse], error) {
	r, err := s.n.servedRound(req.Msg.GetRoundId())
	if err != nil {
		return nil, err
	}
	return connect.NewResponse(&lightkeeperv1.GetRoundResponse{Round: redact(r)}), nil
}

func (n *Node) round(id string) (*lightkeeperv1.Round, error) {
	if err := checkID("round_id", id); err != nil {
		return nil, err
	}
	r, err := n.store.Round(id)
	if errors.Is(err, pebbledb.ErrNotFound) {
		return nil, connect.NewError(connect.CodeNotFound, fmt.Errorf("round %s not found", id))
	}
	if err != nil {
		return nil, toConnect(err)
	}
	return r, nil
}

// servedRound is round with the eligible list filled: what GetRound and
// WatchRound serve.
func (n *Node) servedRound(id string) (*lightkeeperv1.Round, error) {
	r, err := n.round(id)
	if err != nil {
		return nil, err
	}
	if err := n.fillEligible(r); err != nil {
		return nil, err
	}
	return r, nil
}

// eligibleList reads the eligible list stored under hash: rounds and
// certificates are stored with the hash only (docs/design.md, "Eligible
// lists by hash"). A record without a hash gets nil (none to fill).
func (n *Node) eligibleList(hash []byte, what string) ([]*lightkeeperv1.WeightedKeeper, error) {
	if len(hash) == 0 {
		return nil, nil
	}
	l, err := n.store.EligibleList(hash)
	if errors.Is(err, pebbledb.ErrNotFound) {
		return nil, connect.NewError(connect.CodeInternal, fmt.Errorf("%s names eligible list %x, which is not stored", what, hash))
	}
	if err != nil {
		return nil, toConnect(err)
	}
	return l.GetKeepers(), nil
}

// fillEligible sets a round's eligible list from the store, so that a
// client can recompute its committee from the round alone.
func (n *Node) fillEligible(r *lightkeeperv1.Round) error {
	if r == nil || len(r.GetEligible()) > 0 {
		return nil
	}
	l, err := n.eligibleList(r.GetEligibleHash(), "round "+r.GetId())
	if err != nil {
		return err
	}
	r.Eligible = l
	return nil
}

// fillCertEligible sets a certificate's eligible list from the store: the
// block holds the certificate with eligible_hash only, and the one a
// client fetches must be self-contained for the offline check
// (protocol.VerifyCertificate checks the list against the hash).
func (n *Node) fillCertEligible(c *lightkeeperv1.Certificate) error {
	if c == nil || len(c.GetEligible()) > 0 {
		return nil
	}
	l, err := n.eligibleList(c.GetEligibleHash(), "the certificate of round "+c.GetRoundId())
	if err != nil {
		return err
	}
	c.Eligible = l
	return nil
}

func (s roundServer) WatchRound(ctx context.Context, req *connect.Request[lightkeeperv1.WatchRoundRequest], stream *connect.ServerStream[lightkeeperv1.WatchRoundResponse]) error {
	id := req.Msg.GetRoundId()
	if err := checkID("round_id", id); err != nil {
		return err
	}
	release, err := s.n.streams.acquire(req.Peer().Addr, "")
	if err != nil {
		return err
	}
	defer release()
	// Subscribe before the first read so no change can slip in between.
	changed, cancel := s.n.watch.subscribe(id)
	defer cancel()
	var last *lightkeeperv1.Round
	for {
		r, err := s.n.servedRound(id)
		if err != nil {
			return err
		}
		r = redact(r)
		if !proto.Equal(r, last) {
			if err := stream.Send(&lightkeeperv1.WatchRoundResponse{Round: r}); err != nil {
				return err
			}
			last = r
		}
		if r.GetPhase() == lightkeeperv1.RoundPhase_ROUND_PHASE_CLOSED {
			return nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return nil
		case <-s.n.stopped:
			return toConnect(ErrStopped)
		}
	}
}

// MaxListPageSize is the largest ListRounds page_size; DefaultListPageSize
// is the size of a page when none is asked for.
const (
	MaxListPageSize     = 1000
	DefaultListPageSize = 100
)

// listPageBudget is the encoded size a ListRounds page stays under: a
// quarter of the send limit (limits.max_request_bytes), which leaves room
// for the JSON encoding (at most about three times the binary one for a
// summary). With the default 4 MiB that is 1 MiB, and a summary takes
// about 300 bytes, so a full page of 1,000 fits with room to spare; a
// smaller limit gives shorter pages, never an error.
func listPageBudget(sendMaxBytes int) int { return sendMaxBytes / 4 }

func (s roundServer) ListRounds(ctx context.Context, req *connect.Request[lightkeeperv1.ListRoundsRequest]) (*connect.Response[lightkeeperv1.ListRoundsResponse], error) {
	size := int(req.Msg.GetPageSize())
	switch {
	case size == 0:
		size = DefaultListPageSize
	case size > MaxListPageSize:
		return nil, invalidArgument("page_size: %d is over the limit of %d", size, MaxListPageSize)
	}
	rounds, next, err := s.n.store.ListRounds(req.Msg.GetPageToken(), size)
	if err != nil {
		return nil, toConnect(err)
	}
	budget := listPageBudget(s.n.cfg.Limits.MaxRequestBytes)
	out := &lightkeeperv1.ListRoundsResponse{Rounds: make([]*lightkeeperv1.RoundSummary, 0, len(rounds))}
	used := 0
	for i, r := range rounds {
		sum := summarize(redact(r))
		n := proto.Size(sum) + 8 // the field's tag and length prefix
		if used+n > budget && i > 0 {
			// Stop here; the next page starts right after the last
			// round returned.
			if next, err = pebbledb.RoundPageToken(rounds[i-1]); err != nil {
				return nil, toConnect(err)
			}
			break
		}
		used += n
		out.Rounds = append(out.Rounds, sum)
	}
	out.NextPageToken = next
	return connect.NewResponse(out), nil
}

// summarize is the listing view of a (redacted) round: nothing whose size
// a client chooses.
func summarize(r *lightkeeperv1.Round) *lightkeeperv1.RoundSummary {
	sum := &lightkeeperv1.RoundSummary{
		Id:              r.GetId(),
		Kind:            r.GetKind(),
		SubmittedHeight: r.GetSubmittedHeight(),
		SubmittedAt:     r.GetSubmittedAt(),
		Deadline:        r.GetDeadline(),
		Phase:           r.GetPhase(),
		Outcome:         r.GetOutcome(),
		DecidedHeight:   r.GetDecidedHeight(),
		DecidedAt:       r.GetDecidedAt(),
		CommitteeSize:   uint32(len(r.GetCommittee())),
		Threshold:       r.GetThreshold(),
		RejectThreshold: r.GetRejectThreshold(),
		Approvals:       r.GetApprovals(),
		Rejections:      r.GetRejections(),
		Abstentions:     r.GetAbstentions(),
	}
	if len(r.GetCommittee()) > 0 {
		sum.Leader = r.GetCommittee()[0]
	}
	// Ids are checked at submission (64 hex digits); anything else is
	// left out rather than copied.
	switch req := r.GetRequest(); {
	case req.GetProof() != nil:
		p := req.GetProof()
		sum.Scheme, sum.Curve = p.GetScheme(), p.GetCurve()
		if protocol.ValidID(p.GetVerifyingKeyId()) {
			sum.VerifyingKeyId = p.GetVerifyingKeyId()
		}
	case req.GetWithdrawal() != nil:
		sum.Scheme, sum.Curve = lightkeeperv1.Scheme_SCHEME_GROTH16, lightkeeperv1.Curve_CURVE_BN254
	case req.GetCompute() != nil:
		c := req.GetCompute()
		sum.Fuel = c.GetFuel()
		if protocol.ValidID(c.GetProgramId()) {
			sum.ProgramId = c.GetProgramId()
		}
	}
	if len(r.GetResultHash()) <= 64 {
		sum.ResultHash = r.GetResultHash()
	}
	return sum
}

func (s roundServer) GetCertificate(ctx context.Context, req *connect.Request[lightkeeperv1.GetCertificateRequest]) (*connect.Response[lightkeeperv1.GetCertificateResponse], error) {
	r, err := s.n.round(req.Msg.GetRoundId())
	if err != nil {
		return nil, err
	}
	if r.GetPhase() == lightkeeperv1.RoundPhase_ROUND_PHASE_VOTING {
		return nil, connect.NewError(connect.CodeFailedPrecondition, fmt.Errorf("round %s is not decided yet", r.GetId()))
	}
	b, err := s.n.store.Block(r.GetDecidedHeight())
	if err != nil {
		return nil, toConnect(err)
	}
	for _, c := range b.GetCertificates() {
		if c.GetRoundId() == r.GetId() {
			if r.GetPhase() == lightkeeperv1.RoundPhase_ROUND_PHASE_CLOSED {
				c.Challenge = r.GetChallenge()
			}
			if err := s.n.fillCertEligible(c); err != nil {
				return nil, err
			}
			return connect.NewResponse(&lightkeeperv1.GetCertificateResponse{Certificate: c}), nil
		}
	}
	return nil, connect.NewError(connect.CodeInternal, fmt.Errorf("block %d has no certificate for round %s", r.GetDecidedHeight(), r.GetId()))
}
