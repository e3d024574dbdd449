package workload

import (
	"context"
	"fmt"
	"strings"
	"time"

	"connectrpc.com/connect"

	"github.com/lightkeeper-net/lightkeeper/coordinator/state"
	lightkeeperv1 "github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1"
	"github.com/lightkeeper-net/lightkeeper/verifier/compute"
)

// ComputeJob is one COMPUTE request over an example program
// (devtools/exampleprog) with its expected fate.
type ComputeJob struct {
	Name    string // e.g. "primes/1000"
	Program string // example name
	Input   []byte
	Fuel    uint64
	Want    Expect
	// Trap is the trap a REJECTED job ends with.
	Trap compute.TrapKind
	// Output, when not empty, is a prefix the decided output must have.
	Output string
}

// ComputeJobs is the compute workload of the demo and the end-to-end
// tests: every example program once, with a small input, and the program
// that loops forever ending as the deterministic trap out_of_fuel.
func ComputeJobs() []ComputeJob {
	const fuel = 200_000_000
	return []ComputeJob{
		{Name: "sha256sum/hello", Program: "sha256sum", Input: []byte("hello, lightkeeper\n"), Fuel: fuel, Want: Approved},
		{Name: "wordcount/text", Program: "wordcount", Input: []byte(strings.Repeat("the keeper keeps the light and the light keeps the keeper\n", 20)),
			Fuel: fuel, Want: Approved, Output: "20 lines, 220 words"},
		{Name: "primes/10000", Program: "primes", Input: []byte("10000"), Fuel: fuel, Want: Approved, Output: "primes below 10000: 1229"},
		{Name: "floats/numbers", Program: "floats", Input: []byte("1.5 2.5 3.5 -4 1e10\n"), Fuel: fuel, Want: Approved},
		{Name: "sandbox/clock+rand", Program: "sandbox", Fuel: fuel, Want: Approved, Output: "now: 2024-01-01T00:00:00"},
		{Name: "primes/bad-limit", Program: "primes", Input: []byte("-5"), Fuel: fuel, Want: Approved},
		{Name: "spin/forever", Program: "spin", Fuel: 20_000_000, Want: Rejected, Trap: compute.TrapOutOfFuel, Output: "spinning"},
	}
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

// Matches reports whether a decided compute round ended as the job
// expects.
func (j ComputeJob) Matches(r *lightkeeperv1.Round) bool {
	switch j.Want {
	case Approved:
		if r.GetOutcome() != lightkeeperv1.Outcome_OUTCOME_APPROVED {
			return false
		}
	case Rejected:
		if r.GetOutcome() != lightkeeperv1.Outcome_OUTCOME_REJECTED || compute.TrapKind(r.GetResult().GetTrap()) != j.Trap {
			return false
		}
	default:
		return false
	}
	if j.Output != "" && state.OutputKnown(r.GetResult()) && !strings.HasPrefix(string(r.GetResult().GetOutput()), j.Output) {
		return false
	}
	return true
}
