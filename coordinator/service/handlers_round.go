package service

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/proto"

	"github.com/lightkeeper-net/lightkeeper/coordinator/state"
	"github.com/lightkeeper-net/lightkeeper/pebbledb"
	lightkeeperv1 "github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1"
	"github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1/lightkeeperv1connect"
)

type roundServer struct{ n *Node }

var _ lightkeeperv1connect.RoundServiceHandler = roundServer{}

// checkID validates a 64-hex-digit id field.
func checkID(field, id string) error {
	if len(id) != 64 {
		return invalidArgument("%s: want 64 hex digits, got %d characters", field, len(id))
	}
	if _, err := hex.DecodeString(id); err != nil {
		return invalidArgument("%s: not hex: %v", field, err)
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
		body, _, err := state.VerifyTx(n.chainID, stx)
		if err != nil {
			return nil, toConnect(err)
		}
		if body.GetSubmitRound() == nil {
			return nil, invalidArgument("signed.body: not a submit_round transaction")
		}
		rr, field = body.GetSubmitRound().GetRequest(), "signed.body.submit_round.request"
		tx = state.SignedTransaction(stx)
	}
	if err := n.checkRoundRequest(field, rr); err != nil {
		return nil, err
	}
	open := 0
	n.readMachine(func(m *state.Machine) { open = m.OpenRoundCount() })
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
	return connect.NewResponse(&lightkeeperv1.SubmitRoundResponse{Round: redact(round), Created: created}), nil
}

// checkRoundRequest applies the service's size limits to a request.
func (n *Node) checkRoundRequest(field string, rr *lightkeeperv1.RoundRequest) error {
	if rr == nil {
		return invalidArgument("%s: missing", field)
	}
	if p := rr.GetProof(); p != nil {
		lim := n.cfg.Limits
		switch {
		case len(p.GetProof()) > lim.MaxProofBytes:
			return invalidArgument("%s.proof.proof: %d bytes, limit is %d", field, len(p.GetProof()), lim.MaxProofBytes)
		case len(p.GetPublicInputs()) > lim.MaxPublicInputBytes:
			return invalidArgument("%s.proof.public_inputs: %d bytes, limit is %d", field, len(p.GetPublicInputs()), lim.MaxPublicInputBytes)
		}
		if err := checkID(field+".proof.verifying_key_id", p.GetVerifyingKeyId()); err != nil {
			return err
		}
	}
	if w := rr.GetWithdrawal(); w != nil {
		if lim := n.cfg.Limits.MaxProofBytes; len(w.GetProof()) > lim {
			return invalidArgument("%s.withdrawal.proof: %d bytes, limit is %d", field, len(w.GetProof()), lim)
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
	r, err := s.n.round(req.Msg.GetRoundId())
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
	return r, toConnect(err)
}

func (s roundServer) WatchRound(ctx context.Context, req *connect.Request[lightkeeperv1.WatchRoundRequest], stream *connect.ServerStream[lightkeeperv1.WatchRoundResponse]) error {
	id := req.Msg.GetRoundId()
	if err := checkID("round_id", id); err != nil {
		return err
	}
	// Subscribe before the first read so no change can slip in between.
	changed, cancel := s.n.watch.subscribe(id)
	defer cancel()
	var last *lightkeeperv1.Round
	for {
		r, err := s.n.round(id)
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

func (s roundServer) ListRounds(ctx context.Context, req *connect.Request[lightkeeperv1.ListRoundsRequest]) (*connect.Response[lightkeeperv1.ListRoundsResponse], error) {
	size := int(req.Msg.GetPageSize())
	switch {
	case size == 0:
		size = 100
	case size > 1000:
		return nil, invalidArgument("page_size: %d is over the limit of 1000", size)
	}
	rounds, next, err := s.n.store.ListRounds(req.Msg.GetPageToken(), size)
	if err != nil {
		return nil, toConnect(err)
	}
	for i, r := range rounds {
		rounds[i] = redact(r)
	}
	return connect.NewResponse(&lightkeeperv1.ListRoundsResponse{Rounds: rounds, NextPageToken: next}), nil
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
			return connect.NewResponse(&lightkeeperv1.GetCertificateResponse{Certificate: c}), nil
		}
	}
	return nil, connect.NewError(connect.CodeInternal, fmt.Errorf("block %d has no certificate for round %s", r.GetDecidedHeight(), r.GetId()))
}
