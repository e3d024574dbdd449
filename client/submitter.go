package client

import (
	"context"
	"crypto/sha256"
	"fmt"
	"sync"
	"time"

	"connectrpc.com/connect"

	"github.com/lightkeeper-net/lightkeeper/coordinator/state"
	lightkeeperv1 "github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1"
	"github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1/lightkeeperv1connect"
	"github.com/lightkeeper-net/lightkeeper/verifier"
)

// Proof is one proof to have verified: the verifying key, the proof and
// its public inputs (gnark's binary witness or a JSON list of decimal
// strings), under a scheme and curve.
type Proof struct {
	Scheme verifier.Scheme
	Curve  verifier.Curve
	VK     []byte
	Proof  []byte
	Public []byte
}

// Submitter sends rounds, verifying keys and programs to one coordinator.
type Submitter struct {
	Rounds   lightkeeperv1connect.RoundServiceClient
	VKs      lightkeeperv1connect.VerifyingKeyServiceClient
	Programs lightkeeperv1connect.ProgramServiceClient

	// OnRetry, if set, is called for each failed request that is retried
	// (see Retryable): a coordinator restarting or without eligible
	// keepers yet. Requests are retried until they succeed, fail for
	// another reason, or their context ends.
	OnRetry func(op string, err error)

	// vkIDs remembers the keys already registered (SHA-256 of the bytes →
	// id), so a stream of rounds under one key registers it once instead
	// of spending a request, a rate-limit token and a store read per round.
	vkIDs *sync.Map
}

// NewSubmitter returns a Submitter for the coordinator at url.
func NewSubmitter(h connect.HTTPClient, url string) Submitter {
	return Submitter{
		Rounds:   lightkeeperv1connect.NewRoundServiceClient(h, url),
		VKs:      lightkeeperv1connect.NewVerifyingKeyServiceClient(h, url),
		Programs: lightkeeperv1connect.NewProgramServiceClient(h, url),
		vkIDs:    new(sync.Map),
	}
}

// verifyingKeyID registers p's key unless this Submitter already did, and
// returns its id.
func (s Submitter) verifyingKeyID(ctx context.Context, p Proof) (string, error) {
	sum := sha256.Sum256(p.VK)
	if id, ok := s.vkIDs.Load(sum); ok {
		return id.(string), nil
	}
	vk, err := retry(ctx, "RegisterVerifyingKey", s.OnRetry, func() (*connect.Response[lightkeeperv1.RegisterVerifyingKeyResponse], error) {
		return s.VKs.RegisterVerifyingKey(ctx, connect.NewRequest(&lightkeeperv1.RegisterVerifyingKeyRequest{
			Scheme: lightkeeperv1.Scheme(p.Scheme), Curve: lightkeeperv1.Curve(p.Curve), Key: p.VK,
		}))
	})
	if err != nil {
		return "", err
	}
	id := vk.Msg.GetVerifyingKey().GetId()
	s.vkIDs.Store(sum, id)
	return id, nil
}

// SubmitProof registers the proof's key and submits the proof; nonce
// makes repeated submissions of the same proof distinct rounds.
func (s Submitter) SubmitProof(ctx context.Context, p Proof, nonce string) (*lightkeeperv1.Round, error) {
	vkID, err := s.verifyingKeyID(ctx, p)
	if err != nil {
		return nil, fmt.Errorf("verifying key refused: %w", err)
	}
	res, err := s.SubmitRound(ctx, &lightkeeperv1.SubmitRoundRequest{
		Request: &lightkeeperv1.RoundRequest{
			Payload: &lightkeeperv1.RoundRequest_Proof{Proof: &lightkeeperv1.ProofRequest{
				Scheme:         lightkeeperv1.Scheme(p.Scheme),
				Curve:          lightkeeperv1.Curve(p.Curve),
				VerifyingKeyId: vkID,
				Proof:          p.Proof,
				PublicInputs:   p.Public,
			}},
			ClientNonce: nonce,
		},
	})
	if err != nil {
		return nil, fmt.Errorf("round refused: %w", err)
	}
	return res.GetRound(), nil
}

// SubmitRound sends req, retrying while the coordinator is unavailable
// (see Retryable). A retry carries the same client nonce, so it names the
// same round: a submission acknowledged before a crash is answered with
// that round (created false), never opened twice.
func (s Submitter) SubmitRound(ctx context.Context, req *lightkeeperv1.SubmitRoundRequest) (*lightkeeperv1.SubmitRoundResponse, error) {
	res, err := retry(ctx, "SubmitRound", s.OnRetry, func() (*connect.Response[lightkeeperv1.SubmitRoundResponse], error) {
		return s.Rounds.SubmitRound(ctx, connect.NewRequest(req))
	})
	if err != nil {
		return nil, err
	}
	return res.Msg, nil
}

// WaitDecided follows a round until it is decided, watching again after a
// broken stream or a restarting coordinator.
func (s Submitter) WaitDecided(ctx context.Context, roundID string) (*lightkeeperv1.Round, error) {
	return retry(ctx, "WatchRound", s.OnRetry, func() (*lightkeeperv1.Round, error) {
		stream, err := s.Rounds.WatchRound(ctx, connect.NewRequest(&lightkeeperv1.WatchRoundRequest{RoundId: roundID}))
		if err != nil {
			return nil, err
		}
		defer stream.Close()
		for stream.Receive() {
			if r := stream.Msg().GetRound(); r.GetPhase() != lightkeeperv1.RoundPhase_ROUND_PHASE_VOTING {
				return r, nil
			}
		}
		if err := stream.Err(); err != nil {
			return nil, err
		}
		// The stream ended without a decision: the coordinator stopped.
		return nil, connect.NewError(connect.CodeUnavailable, fmt.Errorf("watch of round %s ended before a decision", roundID))
	})
}

// RegisterProgram registers a module (idempotent) and returns its record.
func (s Submitter) RegisterProgram(ctx context.Context, module []byte) (*lightkeeperv1.Program, bool, error) {
	res, err := retry(ctx, "RegisterProgram", s.OnRetry, func() (*connect.Response[lightkeeperv1.RegisterProgramResponse], error) {
		return s.Programs.RegisterProgram(ctx, connect.NewRequest(&lightkeeperv1.RegisterProgramRequest{Module: module}))
	})
	if err != nil {
		return nil, false, fmt.Errorf("program refused: %w", err)
	}
	return res.Msg.GetProgram(), res.Msg.GetCreated(), nil
}

// SubmitCompute submits a COMPUTE round.
func (s Submitter) SubmitCompute(ctx context.Context, programID string, input []byte, fuel uint64, nonce string) (*lightkeeperv1.Round, error) {
	res, err := s.SubmitRound(ctx, &lightkeeperv1.SubmitRoundRequest{
		Request: &lightkeeperv1.RoundRequest{
			Payload:     &lightkeeperv1.RoundRequest_Compute{Compute: &lightkeeperv1.ComputeRequest{ProgramId: programID, Input: input, Fuel: fuel}},
			ClientNonce: nonce,
		},
	})
	if err != nil {
		return nil, fmt.Errorf("round refused: %w", err)
	}
	return res.GetRound(), nil
}

// WaitResult follows a round until it is decided and, for a compute round
// decided with a result whose output bytes have not arrived yet (the
// leader's vote comes after the deciding ones), a little longer: until the
// output is known, the round closes, or grace has passed since the
// decision. It returns the last record seen. It watches again after a
// broken stream or a restarting coordinator.
func (s Submitter) WaitResult(ctx context.Context, roundID string, grace time.Duration) (*lightkeeperv1.Round, error) {
	return retry(ctx, "WatchRound", s.OnRetry, func() (*lightkeeperv1.Round, error) {
		return s.waitResult(ctx, roundID, grace)
	})
}

func (s Submitter) waitResult(ctx context.Context, roundID string, grace time.Duration) (*lightkeeperv1.Round, error) {
	stream, err := s.Rounds.WatchRound(ctx, connect.NewRequest(&lightkeeperv1.WatchRoundRequest{RoundId: roundID}))
	if err != nil {
		return nil, err
	}
	defer stream.Close()
	var decided *lightkeeperv1.Round
	var timer <-chan time.Time
	msgs := make(chan *lightkeeperv1.Round)
	errc := make(chan error, 1)
	done := make(chan struct{})
	defer close(done) // before stream.Close: the reader below stops
	go func() {
		for stream.Receive() {
			select {
			case msgs <- stream.Msg().GetRound():
			case <-done:
				return
			}
		}
		errc <- stream.Err()
	}()
	for {
		select {
		case r := <-msgs:
			if r.GetPhase() == lightkeeperv1.RoundPhase_ROUND_PHASE_VOTING {
				continue
			}
			decided = r
			if r.GetResult() == nil || state.OutputKnown(r.GetResult()) || r.GetPhase() == lightkeeperv1.RoundPhase_ROUND_PHASE_CLOSED {
				return r, nil
			}
			if timer == nil {
				t := time.NewTimer(grace)
				defer t.Stop()
				timer = t.C
			}
		case <-timer:
			return decided, nil
		case err := <-errc:
			if decided != nil {
				return decided, nil
			}
			if err != nil {
				return nil, err
			}
			// The stream ended without a decision: the coordinator stopped.
			return nil, connect.NewError(connect.CodeUnavailable, fmt.Errorf("watch of round %s ended before a decision", roundID))
		case <-ctx.Done():
			if decided != nil {
				return decided, nil
			}
			return nil, ctx.Err()
		}
	}
}
