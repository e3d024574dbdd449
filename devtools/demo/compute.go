package demo

import (
	"bytes"
	"context"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/lightkeeper-net/lightkeeper/coordinator/state"
	"github.com/lightkeeper-net/lightkeeper/devtools/byzantine"
	"github.com/lightkeeper-net/lightkeeper/devtools/devnet"
	"github.com/lightkeeper-net/lightkeeper/devtools/exampleprog"
	"github.com/lightkeeper-net/lightkeeper/devtools/workload"
	"github.com/lightkeeper-net/lightkeeper/keeper"
	lightkeeperv1 "github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1"
	"github.com/lightkeeper-net/lightkeeper/verifier/compute"
)

// The demo's COMPUTE rounds: the example programs (built from their
// embedded sources with the go command, GOOS=wasip1), registered and run
// by committees of three keepers drawn from the same devnet as the proof
// rounds, Byzantine keepers included.

// demoComputeKind is the engine the demo's keepers run compute jobs on:
// the compiler where wazero has one (tiered), else the interpreter.
const demoComputeKind = compute.EngineAuto

// buildExamples builds the example programs, or explains why the compute
// rounds are skipped.
func buildExamples(ctx context.Context, out io.Writer) map[string][]byte {
	start := time.Now()
	fmt.Fprint(out, "building the example compute programs (go build, GOOS=wasip1)…")
	mods, err := exampleprog.Modules(ctx)
	if err != nil {
		fmt.Fprintf(out, "\n  skipped: %v\n  (the compute rounds need the go command to build examples/)\n", err)
		return nil
	}
	total := 0
	for _, m := range mods {
		total += len(m)
	}
	fmt.Fprintf(out, " %d programs, %.1f MB, in %v\n", len(mods), float64(total)/1e6, time.Since(start).Round(time.Millisecond))
	return mods
}

type computeResult struct {
	job     workload.ComputeJob
	round   *lightkeeperv1.Round
	local   compute.Result // the job run in this process, for comparison
	err     error
	elapsed time.Duration
}

// runCompute registers the programs, warms them in the keepers (checked
// and compiled under the chain's compute parameters, as a first task
// would), and runs every compute job, drawing progress on out unless it is
// nil. Warming first keeps the first compile of each program out of the
// rounds' verification timeout, which a busy machine could otherwise
// spend compiling.
func runCompute(ctx context.Context, url string, mods map[string][]byte, params *lightkeeperv1.ComputeParams, kind compute.EngineKind, out io.Writer) []computeResult {
	if out == nil {
		out = io.Discard
	}
	jobs := workload.ComputeJobs()
	sub := workload.NewSubmitter(http.DefaultClient, url)
	results := make([]computeResult, len(jobs))
	ids := map[string]string{}
	start := time.Now()
	for name, m := range mods {
		p, _, err := sub.RegisterProgram(ctx, m)
		if err != nil {
			for i := range results {
				results[i] = computeResult{job: jobs[i], err: err}
			}
			return results
		}
		ids[name] = p.GetId()
		if err := keeper.PrepareProgram(ctx, m, params, kind); err != nil {
			for i := range results {
				results[i] = computeResult{job: jobs[i], err: fmt.Errorf("warming %s: %w", name, err)}
			}
			return results
		}
	}
	fmt.Fprintf(out, "programs: %d registered (checked, metered) and compiled in the keepers in %v\n",
		len(ids), time.Since(start).Round(time.Millisecond))
	var wg sync.WaitGroup
	var mu sync.Mutex
	for i, j := range jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			t0 := time.Now()
			res := computeResult{job: j}
			r, err := sub.SubmitCompute(ctx, ids[j.Program], j.Input, j.Fuel, fmt.Sprintf("demo-compute-%d", i))
			if err == nil {
				r, err = sub.WaitResult(ctx, r.GetId(), 5*time.Second)
			}
			res.round, res.err, res.elapsed = r, err, time.Since(t0)
			if err == nil {
				res.local, res.err = localRun(ctx, mods[j.Program], r.GetId(), j.Input, j.Fuel)
			}
			mu.Lock()
			results[i] = res
			mu.Unlock()
		}()
	}
	wg.Wait()
	return results
}

// localRun runs a job in the demo process (wazero's interpreter) the way
// every honest keeper must: same program, input, fuel and seed (the round
// id).
func localRun(ctx context.Context, module []byte, roundID string, input []byte, fuel uint64) (compute.Result, error) {
	p, err := compute.Check(module, compute.DefaultLimits())
	if err != nil {
		return compute.Result{}, err
	}
	seed, err := hex.DecodeString(roundID)
	if err != nil || len(seed) != 32 {
		return compute.Result{}, fmt.Errorf("round id %q", roundID)
	}
	return compute.Run(ctx, p, input, fuel, [32]byte(seed), compute.Options{Kind: compute.EngineInterpreter})
}

// printComputeOutcomes prints the compute rounds' table. A job ends as
// expected when the round decided the result a local run computes; with
// two Byzantine keepers on a committee of three there may be no majority,
// and a TIMEOUT is then the expected outcome (nothing wrong was decided).
func printComputeOutcomes(out io.Writer, results []computeResult, role map[string]string, why func(*lightkeeperv1.Round) []string) bool {
	all := true
	counts := map[string]int{}
	var unexpected []*lightkeeperv1.Round
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "compute job\texpected\toutcome\tresult (trap, exit, fuel used)\toutput\tcommittee\tlocal run\t")
	for _, res := range results {
		j := res.job
		if res.err != nil {
			fmt.Fprintf(tw, "%s\t%s\tERROR\t%v\t\t\t\tWRONG\n", j.Name, j.Want, res.err)
			all = false
			counts["ERROR"]++
			continue
		}
		r := res.round
		got := outcomeName(r)
		counts[got]++
		want := j.Want.String()
		good := 0
		var seats []string
		for _, id := range r.GetCommittee() {
			rl := role[id]
			if rl == string(byzantine.Honest) || rl == string(byzantine.Equivocate) { // an equivocator's first vote is honest
				good++
			}
			seats = append(seats, rl)
		}
		if good < 2 {
			want = "TIMEOUT"
		}
		result, output, local := "-", "-", "-"
		mark := "ok"
		if res.round.GetResult() != nil {
			c := r.GetResult()
			result = fmt.Sprintf("%s, %d, %d", compute.TrapKind(c.GetTrap()), c.GetExitCode(), c.GetFuelUsed())
			output = "(hash only: the leader sent no output)"
			if state.OutputKnown(c) {
				output = oneLine(c.GetOutput(), 36)
			}
			lh := compute.ResultHash(res.local)
			local = "same result"
			if !bytes.Equal(lh[:], r.GetResultHash()) {
				local, mark = "DIFFERENT", "WRONG"
			}
		}
		if got != want || (got != "TIMEOUT" && !j.Matches(r)) {
			mark = "WRONG"
		}
		if mark != "ok" {
			all = false
			unexpected = append(unexpected, r)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s %s\n", j.Name, want, got, result, output, strings.Join(seats, ","), local, mark)
	}
	tw.Flush()
	for _, r := range unexpected {
		fmt.Fprintf(out, "\nwhy round %s ended %s:\n", short(r.GetId()), outcomeName(r))
		for _, l := range why(r) {
			fmt.Fprintf(out, "  %s\n", l)
		}
	}
	fmt.Fprintf(out, "\nby outcome: APPROVED %d, REJECTED %d, TIMEOUT %d\n", counts["APPROVED"], counts["REJECTED"], counts["TIMEOUT"])
	fmt.Fprintln(out, "- spin loops for ever: it ends REJECTED with the trap out_of_fuel, a result every honest keeper computes, not a TIMEOUT.")
	fmt.Fprintln(out, "- a Byzantine member's wrong result is outvoted (see its incorrect votes below); a committee holding two Byzantine")
	fmt.Fprintln(out, "  keepers that disagree with each other reaches no 2-vote majority: TIMEOUT, and nothing wrong is decided.")
	fmt.Fprintln(out, "- 'local run' reruns the job in this process (same program, input, fuel, and the round id as seed): same result hash.")
	return all
}

// oneLine shows the start of an output on one line.
func oneLine(b []byte, max int) string {
	s := strings.TrimSpace(string(b))
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i] + " …"
	}
	if len(s) > max {
		s = s[:max] + "…"
	}
	return fmt.Sprintf("%q", s)
}

// keeperRoles names each devnet keeper's strategy by id.
func keeperRoles(d *devnet.Devnet, byz []byzantine.Strategy) map[string]string {
	role := map[string]string{}
	for i, k := range d.Keepers {
		role[k.ID()] = string(byzantine.Honest)
		if b := i - (len(d.Keepers) - len(byz)); b >= 0 {
			role[k.ID()] = string(byz[b])
		}
	}
	return role
}

// roundVotes explains a round seat by seat: the vote each member cast (or
// none), and for an abstention the member's own reason, which the vote
// does not carry (keeper.Stats.LastAbstentions).
func roundVotes(d *devnet.Devnet, role map[string]string) func(*lightkeeperv1.Round) []string {
	byID := map[string]*keeper.Keeper{}
	for _, k := range d.Keepers {
		byID[k.ID()] = k
	}
	return func(r *lightkeeperv1.Round) []string {
		votes := map[string]*lightkeeperv1.Vote{}
		for _, v := range r.GetVotes() {
			votes[v.GetKeeperId()] = v
		}
		var lines []string
		for seat, id := range r.GetCommittee() {
			l := fmt.Sprintf("seat %d, %s (%s): ", seat, short(id), role[id])
			v := votes[id]
			switch {
			case v == nil:
				l += "no vote before the deadline"
			case v.GetKind() == lightkeeperv1.VoteKind_VOTE_KIND_ABSTAIN:
				l += "ABSTAIN, " + v.GetReason().String()
			default:
				l += v.GetKind().String()
				if c := v.GetCompute(); c != nil {
					l += fmt.Sprintf(" (%s, exit %d, fuel %d)", compute.TrapKind(c.GetTrap()), c.GetExitCode(), c.GetFuelUsed())
				}
			}
			if k := byID[id]; k != nil {
				for _, a := range k.Stats().LastAbstentions {
					if a.RoundID == r.GetId() {
						l += ": " + a.Detail
					}
				}
			}
			lines = append(lines, l)
		}
		return lines
	}
}

// demoComputeCertificate checks one compute round's certificate offline:
// the signed votes, the committee, and that the votes open the decided
// result hash, which the round's output hashes into.
func demoComputeCertificate(ctx context.Context, url string, results []computeResult, out io.Writer) error {
	for _, r := range results {
		if r.err != nil || r.round.GetOutcome() != lightkeeperv1.Outcome_OUTCOME_APPROVED || !state.OutputKnown(r.round.GetResult()) {
			continue
		}
		cert, err := verifiedCertificate(ctx, url, r.round.GetId())
		if err != nil {
			return err
		}
		oh := compute.OutputHash(r.round.GetResult().GetOutput())
		if !bytes.Equal(oh[:], cert.GetResult().GetOutputHash()) {
			return fmt.Errorf("compute round %s: the output does not hash to the certificate's output_hash", cert.GetRoundId())
		}
		fmt.Fprintf(out, "certificate of compute round %s (%s) verified offline: %d signed votes for result %x…, which commits to the output's SHA-256\n",
			short(cert.GetRoundId()), r.job.Name, len(cert.GetVotes()), cert.GetResultHash()[:6])
		return nil
	}
	return nil
}
