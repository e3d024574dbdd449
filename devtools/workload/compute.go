package workload

import (
	"strings"

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
