//go:build edge

package tests

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/lightkeeper-net/lightkeeper/devtools/devnet"
	"github.com/lightkeeper-net/lightkeeper/devtools/workload"
	"github.com/lightkeeper-net/lightkeeper/internal/setup"
	"github.com/lightkeeper-net/lightkeeper/keeper"
	lightkeeperv1 "github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1"
	"github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1/lightkeeperv1connect"
	"github.com/lightkeeper-net/lightkeeper/protocol"
)

// edgeStatus is the worker's fetch handler answer.
type edgeStatus struct {
	KeeperID    string `json:"keeperId"`
	Coordinator string `json:"coordinator"`
	Error       string `json:"error"`
	// Checks is what the build verifies (keeper.BuildCapabilities).
	Checks struct {
		Proofs  []string `json:"proofs"`
		Compute bool     `json:"compute"`
	} `json:"checks"`
	Keeper *struct {
		Registered     bool   `json:"registered"`
		Online         bool   `json:"online"`
		Reputation     int64  `json:"reputation"`
		Stake          uint64 `json:"stake"`
		RoundsAssigned uint64 `json:"roundsAssigned"`
	} `json:"keeper"`
}

// edgeRun is the log line a scheduled event ends with.
type edgeRun struct {
	Msg        string                 `json:"msg"`
	Polls      int                    `json:"polls"`
	Tasks      int                    `json:"tasks"`
	Approvals  int64                  `json:"approvals"`
	Rejections int64                  `json:"rejections"`
	Abstains   int64                  `json:"abstains"`
	Accepted   int64                  `json:"accepted"`
	Refused    int64                  `json:"refused"`
	Lost       int64                  `json:"lost"`
	WallMs     int64                  `json:"wall_ms"`
	Checks     map[string]checkTiming `json:"checks"`
	Err        string                 `json:"err"`
}

// TestEdgeWorker runs the built edge worker in npm's workerd against a
// coordinator on loopback. The test plays Cloudflare's cron: it fires the
// worker's scheduled event again and again (through the cron socket of
// workerd.capnp) while the whole workload is submitted; each event is a
// fresh Go instance that pulls, verifies, signs and submits, then exits.
// The worker's votes must be in every APPROVED certificate (its vote is
// needed for each approval), right on every round, and its status page
// must show the keeper as the coordinator does.
func TestEdgeWorker(t *testing.T) {
	dir := requireEnvDir(t, "LIGHTKEEPER_EDGE_WORKER", "test-edge")
	// The shared workload and real circom/snarkjs proofs: the worker
	// verifies both.
	items := slices.Concat(allItems(t), snarkjsItems(t))
	dn := startRestartableDevnet(t, 1)
	id := dn.extraID()

	w := startEdgeWorkerd(t, dir, id, dn.extraKey(), dn.d.URL)
	cronURL, out, client, getStatus := w.cronURL, w.out, w.client, w.getStatus

	var start time.Time
	// The cron: one scheduled event after another until the test is done.
	// Stopping lets the event under way finish (an abandoned request
	// would cancel it mid-run), bounded by the client's timeout.
	var stopping atomic.Bool
	var cronWG sync.WaitGroup
	var cronMu sync.Mutex
	var fired int
	var cronErrs []string
	cronWG.Add(1)
	go func() {
		defer cronWG.Done()
		for !stopping.Load() {
			res, err := client.Post(cronURL+"/scheduled", "text/plain", nil)
			var body struct {
				Outcome, Error string
			}
			if err == nil {
				json.NewDecoder(res.Body).Decode(&body)
				res.Body.Close()
			}
			cronMu.Lock()
			fired++
			if err != nil || body.Outcome != "ok" {
				cronErrs = append(cronErrs, fmt.Sprintf("event %d: %v %s %s", fired, err, body.Outcome, body.Error))
			}
			cronMu.Unlock()
			if err != nil {
				time.Sleep(500 * time.Millisecond)
			}
		}
	}()
	stopCron := func() { stopping.Store(true); cronWG.Wait() }
	defer stopCron()

	waitKeeperOnline(t, dn.d.URL, id, 60*time.Second)
	start = time.Now()
	outs := runAll(t, dn.d.URL, items)
	checkOutcomes(t, outs)
	checkCertificates(t, dn.d.URL, outs)
	withVote := checkJSKeeperVotes(t, dn.d.URL, id, outs)
	t.Logf("%d rounds decided in %v; the worker's vote is in all %d APPROVED certificates", len(outs), time.Since(start).Round(time.Millisecond), withVote)
	if withVote == 0 {
		t.Fatal("no APPROVED certificate carries the worker's vote")
	}

	// Let the event under way end, then decide more rounds: new Go
	// instances, which know nothing of the first ones, handle them.
	cronMu.Lock()
	target := fired + 1
	cronMu.Unlock()
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(100 * time.Millisecond) {
		cronMu.Lock()
		n := fired
		cronMu.Unlock()
		if n >= target {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no scheduled event ended in a minute (%d fired)", n)
		}
	}
	again := onePerKind(items)
	t.Run("later-event", func(t *testing.T) {
		outs := runAll(t, dn.d.URL, again)
		checkOutcomes(t, outs)
		checkJSKeeperVotes(t, dn.d.URL, id, outs)
	})
	stopCron()
	cronMu.Lock()
	t.Logf("%d scheduled events fired", fired)
	for _, e := range cronErrs {
		t.Errorf("scheduled event failed: %s", e)
	}
	cronMu.Unlock()

	// What each event logged: together they voted on every round. An
	// event's log line can reach us after the votes it sent were counted,
	// so wait (bounded) until every fired event has logged its run.
	cronMu.Lock()
	nFired := fired
	cronMu.Unlock()
	var runs []edgeRun
	var sum edgeRun
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		runs, sum = parseEdgeRuns(out.String())
		if len(runs) >= nFired || time.Now().After(deadline) {
			break
		}
	}
	for _, r := range runs {
		if r.Err != "" {
			t.Errorf("scheduled run failed: %s", r.Err)
		}
	}
	var valid, invalid int64
	for _, it := range append(slices.Clone(items), again...) {
		switch it.Want {
		case workload.Approved:
			valid++
		case workload.Rejected:
			invalid++
		}
	}
	working := 0
	for _, r := range runs {
		if r.Tasks > 0 {
			working++
		}
	}
	if working < 2 {
		t.Errorf("only %d scheduled runs had tasks; the second workload should have been a later event's", working)
	}
	t.Logf("%d scheduled runs logged: %d tasks, %d approvals, %d rejections, %d abstains, %d votes accepted, %d lost",
		len(runs), sum.Tasks, sum.Approvals, sum.Rejections, sum.Abstains, sum.Accepted, sum.Lost)
	if sum.Approvals < valid || sum.Rejections < invalid || sum.Abstains != 0 || sum.Lost != 0 {
		t.Errorf("worker cast %d approvals, %d rejections, %d abstains (%d lost) for %d valid and %d invalid proofs",
			sum.Approvals, sum.Rejections, sum.Abstains, sum.Lost, valid, invalid)
	}
	checks := map[string]checkTiming{}
	for _, r := range runs {
		for k, c := range r.Checks {
			a, seen := checks[k]
			if !seen || c.MinMs < a.MinMs {
				a.MinMs = c.MinMs
			}
			a.Count += c.Count
			a.TotalMs += c.TotalMs
			a.MaxMs = max(a.MaxMs, c.MaxMs)
			checks[k] = a
		}
	}
	compareTimes(t, "workerd", checks, nativeCheckMillis(items, 3), "edge-verify-times.txt")

	// The status page shows what the coordinator says about the keeper.
	kc := lightkeeperv1connect.NewKeeperServiceClient(http.DefaultClient, dn.d.URL)
	before, err := kc.GetKeeper(context.Background(), connect.NewRequest(&lightkeeperv1.GetKeeperRequest{KeeperId: id}))
	if err != nil {
		t.Fatal(err)
	}
	st, code, err := getStatus()
	if err != nil || code != http.StatusOK || st.Keeper == nil {
		t.Fatalf("status: %d %+v %v", code, st, err)
	}
	after, err := kc.GetKeeper(context.Background(), connect.NewRequest(&lightkeeperv1.GetKeeperRequest{KeeperId: id}))
	if err != nil {
		t.Fatal(err)
	}
	k := st.Keeper
	if !k.Registered || k.Stake != before.Msg.GetKeeper().GetStake() || k.RoundsAssigned < uint64(len(outs)-4) ||
		(k.Reputation != before.Msg.GetKeeper().GetReputation() && k.Reputation != after.Msg.GetKeeper().GetReputation()) {
		t.Errorf("status %+v does not match the coordinator's %v", *k, after.Msg.GetKeeper())
	}
	b, _ := json.MarshalIndent(st, "", "  ")
	t.Logf("status page:\n%s", b)
	if err := os.MkdirAll(artifactsDir(t), 0o755); err == nil {
		os.WriteFile(filepath.Join(artifactsDir(t), "edge-worker-status.json"), b, 0o644)
		os.WriteFile(filepath.Join(artifactsDir(t), "edge-worker-workerd.log"), bytes.TrimSpace([]byte(out.String())), 0o644)
	}
}

// TestEdgeWorkerProofsOnly runs the proofs-only edge worker (make
// edge-worker-proofs: no compute engine in it) in workerd: it must vote
// right on a proof of every scheme × curve, and abstain (UNSUPPORTED) on a
// compute job, where the full worker would run it. Every committee has a
// seat for it: seven keepers in all, committees of seven for both kinds.
func TestEdgeWorkerProofsOnly(t *testing.T) {
	dir := requireEnvDir(t, "LIGHTKEEPER_EDGE_WORKER_PROOFS", "test-edge")
	items := onePerKind(allItems(t))
	mods := exampleModules(t)
	params := protocol.DefaultParams()
	params.ComputeValidators = jsNativeKeepers + 1
	params.VerificationTimeout = durationpb.New(60 * time.Second) // the native keepers run the job on wazero
	d := startDevnet(t, devnet.Options{Keepers: jsNativeKeepers, ExtraGenesisKeepers: 1, Params: params})
	key := d.Keys[jsNativeKeepers]
	id := setup.KeyID(key)
	w := startEdgeWorkerd(t, dir, id, key.Seed(), d.URL, "LIGHTKEEPER_BENCH=1")

	// The cron, until the test is done; each event lets its session end.
	stopCron := runCron(w)
	defer stopCron()
	waitKeeperOnline(t, d.URL, id, 60*time.Second)

	outs := runAll(t, d.URL, items)
	checkOutcomes(t, outs)
	if checkJSKeeperVotes(t, d.URL, id, outs) == 0 {
		t.Error("no APPROVED certificate carries the proofs-only worker's vote")
	}

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	sub := workload.NewSubmitter(http.DefaultClient, d.URL)
	p, _, err := sub.RegisterProgram(ctx, mods["primes"])
	if err != nil {
		t.Fatal(err)
	}
	r, err := sub.SubmitCompute(ctx, p.GetId(), []byte("1000"), 50_000_000, "edge-proofs-only")
	if err != nil {
		t.Fatal(err)
	}
	round := waitVotes(t, ctx, sub, r.GetId(), jsNativeKeepers+1)
	var mine *lightkeeperv1.Vote
	for _, v := range round.GetVotes() {
		if v.GetKeeperId() == id {
			mine = v
		}
	}
	switch {
	case mine == nil:
		t.Errorf("compute round %s (%s): no vote from the proofs-only worker among %d", round.GetId(), round.GetOutcome(), len(round.GetVotes()))
	case mine.GetKind() != lightkeeperv1.VoteKind_VOTE_KIND_ABSTAIN || mine.GetReason() != lightkeeperv1.RejectReason_REJECT_REASON_UNSUPPORTED:
		t.Errorf("the proofs-only worker voted %v (%v) on a compute job, want ABSTAIN (UNSUPPORTED)", mine.GetKind(), mine.GetReason())
	default:
		t.Logf("compute round %s: %s; the proofs-only worker abstained (UNSUPPORTED)", round.GetId()[:12], round.GetOutcome())
	}
	stopCron()
	t.Run("batch-bench", func(t *testing.T) { edgeBatchBench(t, w) })
}

// edgeBatchBench times batches of 1, 8 and 64 Groth16 proofs under one key
// in the worker (POST /bench/check-batch: the engine's CheckBatch, as on
// the tasks of one pull) and natively in this process, and writes the
// per-proof table to test-artifacts/edge-batch-bench.txt. Run after the
// cron has stopped, so no scheduled event shares the worker's thread.
func edgeBatchBench(t *testing.T, w *edgeWorkerd) {
	const reps = 5
	curves, tasks := groth16BatchTasks(t)
	native := nativeBatchMillis(t, curves, tasks, reps)
	var b strings.Builder
	fmt.Fprintf(&b, "Groth16, n distinct valid proofs under one key through the engine's CheckBatch: ms per proof (median of %d batches ÷ n)\n", reps)
	fmt.Fprintf(&b, "%-18s %6s %10s %10s %8s\n", "curve", "batch", "native", "workerd", "ratio")
	for _, curve := range curves {
		for _, n := range batchSizes {
			body, err := proto.Marshal(&lightkeeperv1.PullTasksResponse{Tasks: tasks[curve][:n]})
			if err != nil {
				t.Fatal(err)
			}
			var res struct {
				Votes []string
				Ms    []float64
			}
			for _, r := range []int{1, reps} { // the first warms up
				hr, err := w.client.Post(fmt.Sprintf("%s/bench/check-batch?reps=%d", w.statusURL, r), "application/x-protobuf", bytes.NewReader(body))
				if err != nil {
					t.Fatal(err)
				}
				raw, _ := io.ReadAll(hr.Body)
				hr.Body.Close()
				if hr.StatusCode != http.StatusOK {
					t.Fatalf("check-batch: %d %s", hr.StatusCode, raw)
				}
				if err := json.Unmarshal(raw, &res); err != nil {
					t.Fatalf("check-batch: %v: %s", err, raw)
				}
			}
			if len(res.Votes) != n || slices.ContainsFunc(res.Votes, func(v string) bool { return v != "APPROVE" }) {
				t.Errorf("groth16/%s batch of %d in workerd: votes %v", curve, n, res.Votes)
				continue
			}
			nat, wd := median(native[curve][n])/float64(n), median(res.Ms)/float64(n)
			fmt.Fprintf(&b, "%-18s %6d %10.2f %10.2f %7.1fx\n", "groth16/"+curve, n, nat, wd, wd/nat)
		}
	}
	t.Logf("\n%s", b.String())
	if err := os.MkdirAll(artifactsDir(t), 0o755); err == nil {
		os.WriteFile(filepath.Join(artifactsDir(t), "edge-batch-bench.txt"), []byte(b.String()), 0o644)
	}
}

// edgeWorkerd is a workerd serving a built edge worker (dir: a make
// edge-worker or edge-worker-proofs output) for one key and coordinator.
type edgeWorkerd struct {
	statusURL, cronURL string
	out                *lockedBuffer
	exited             <-chan struct{}
	client             *http.Client
	getStatus          func() (edgeStatus, int, error)
}

// startEdgeWorkerd starts workerd and waits until the worker's status page
// answers for keeper id.
func startEdgeWorkerd(t *testing.T, dir, id string, key []byte, coordinator string, env ...string) *edgeWorkerd {
	t.Helper()
	workerd := npmBin(t, "workerd")
	// workerd listens on sockets this test opened, so no port can be
	// taken in between.
	var files []*os.File
	var addrs []string
	for range 2 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		f, err := ln.(*net.TCPListener).File()
		if err != nil {
			t.Fatal(err)
		}
		addrs = append(addrs, "http://"+ln.Addr().String())
		ln.Close() // f is a duplicate that stays open for the child
		files = append(files, f)
	}
	statusURL, cronURL := addrs[0], addrs[1]
	cmd := exec.Command(workerd, "serve", "--experimental", filepath.Join(dir, "workerd.capnp"),
		"--socket-fd", "status=3", "--socket-fd", "cron=4")
	cmd.ExtraFiles = files
	cmd.Env = append(os.Environ(),
		"LIGHTKEEPER_KEY="+hex.EncodeToString(key),
		"LIGHTKEEPER_COORDINATOR="+coordinator,
		// Short events so the test sees many fresh instances; each keeps
		// polling for 6 s, 2 s per pull.
		"LIGHTKEEPER_SESSION_SECONDS=6",
		"LIGHTKEEPER_PULL_WAIT_SECONDS=2",
		"LIGHTKEEPER_MAX_TASKS=16",
	)
	cmd.Env = append(cmd.Env, env...)
	exited, out := runWorkerd(t, cmd)

	client := &http.Client{Timeout: 60 * time.Second}
	getStatus := func() (edgeStatus, int, error) {
		res, err := client.Get(statusURL + "/")
		if err != nil {
			return edgeStatus{}, 0, err
		}
		defer res.Body.Close()
		var st edgeStatus
		b, _ := io.ReadAll(res.Body)
		if err := json.Unmarshal(b, &st); err != nil {
			return st, res.StatusCode, fmt.Errorf("status %d: %q", res.StatusCode, b)
		}
		return st, res.StatusCode, nil
	}
	start := time.Now()
	for deadline := time.Now().Add(60 * time.Second); ; {
		st, code, err := getStatus()
		if err == nil && code == http.StatusOK {
			if st.KeeperID != id {
				t.Fatalf("worker runs keeper %s, want %s", st.KeeperID, id)
			}
			break
		}
		select {
		case <-exited:
			t.Fatalf("workerd exited:\n%s", out.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("worker status not ready after 60 s: %d %+v %v", code, st, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Logf("workerd serving the worker in %v", time.Since(start).Round(time.Millisecond))
	return &edgeWorkerd{statusURL: statusURL, cronURL: cronURL, out: out, exited: exited, client: client, getStatus: getStatus}
}

// TestPollOnce drives keeper.Keeper.Poll natively, the call the edge worker
// makes once per pull: the first poll registers the key, polls in a loop
// vote right on every scheme × curve, and a poll whose budget is spent
// abstains on what it could not check instead of leaving it unanswered.
func TestPollOnce(t *testing.T) {
	items := allItems(t)
	dn := startRestartableDevnet(t, 1)
	id := dn.extraID()
	k := keeper.New(dn.d.URL, dn.d.Keys[jsNativeKeepers], keeper.NewConfig())

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	start := time.Now()
	if n, err := k.PollOnce(ctx, 0); err != nil || n != 0 {
		t.Fatalf("first poll: %d tasks, %v", n, err)
	}
	// No wait means none: the coordinator reads wait_ms 0 as its 20 s
	// default, which Poll must not send.
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("a poll with no wait and no tasks took %v", d)
	}
	kc := lightkeeperv1connect.NewKeeperServiceClient(http.DefaultClient, dn.d.URL)
	got, err := kc.GetKeeper(ctx, connect.NewRequest(&lightkeeperv1.GetKeeperRequest{KeeperId: id}))
	if err != nil || !got.Msg.GetKeeper().GetRegistered() || !got.Msg.GetKeeper().GetOnline() {
		t.Fatalf("after one poll the keeper is not registered and online: %v %v", got, err)
	}

	// One valid and one invalid proof per scheme × curve, answered by a
	// loop of polls as the worker runs them.
	some := onePerKind(items)
	pollCtx, stopPolling := context.WithCancel(ctx)
	polled := make(chan error, 1)
	go func() {
		for pollCtx.Err() == nil {
			if _, err := k.Poll(pollCtx, keeper.PollOptions{Wait: time.Second, MaxTasks: 4}); err != nil && pollCtx.Err() == nil {
				polled <- err
				return
			}
		}
		polled <- nil
	}()
	outs := runAll(t, dn.d.URL, some)
	checkOutcomes(t, outs)
	checkJSKeeperVotes(t, dn.d.URL, id, outs)
	stopPolling()
	if err := <-polled; err != nil {
		t.Fatalf("poll: %v", err)
	}
	if s := k.Stats(); s.Approvals != 4 || s.Rejections != 4 || s.Accepted != 8 {
		t.Errorf("stats after %d rounds: %+v", len(outs), s)
	}

	// A spent budget: the keeper is still online (pull_grace), so the new
	// rounds queue up; one poll with no budget left abstains on each.
	sub := workload.NewSubmitter(http.DefaultClient, dn.d.URL)
	for i, it := range some[:2] {
		if _, err := sub.Submit(ctx, it, fmt.Sprintf("budget-%d", i)); err != nil {
			t.Fatal(err)
		}
	}
	n, err := k.Poll(ctx, keeper.PollOptions{Wait: 5 * time.Second, Budget: time.Nanosecond})
	if err != nil || n == 0 {
		t.Fatalf("budget poll: %d tasks, %v", n, err)
	}
	s := k.Stats()
	if s.Abstains != int64(n) {
		t.Errorf("%d tasks with no budget left gave %d abstentions", n, s.Abstains)
	}
	if last := s.LastVotes[len(s.LastVotes)-1]; last.Kind != lightkeeperv1.VoteKind_VOTE_KIND_ABSTAIN || last.Reason != lightkeeperv1.RejectReason_REJECT_REASON_OVERSIZED {
		t.Errorf("last vote %v %v, want ABSTAIN for OVERSIZED", last.Kind, last.Reason)
	}
}

// parseEdgeRuns reads the "scheduled run" lines the worker logged and
// their sum.
func parseEdgeRuns(log string) (runs []edgeRun, sum edgeRun) {
	for _, line := range strings.Split(log, "\n") {
		i := strings.Index(line, `{"time"`)
		if i < 0 {
			continue
		}
		var r edgeRun
		if json.Unmarshal([]byte(line[i:]), &r) != nil || !strings.Contains(r.Msg, "scheduled run") {
			continue
		}
		runs = append(runs, r)
		sum.Approvals += r.Approvals
		sum.Rejections += r.Rejections
		sum.Abstains += r.Abstains
		sum.Accepted += r.Accepted
		sum.Lost += r.Lost
		sum.Tasks += r.Tasks
	}
	return runs, sum
}

// runWorkerd starts workerd and stops it when the test ends (interrupt,
// then kill after 10 s), printing its output if the test failed. The
// listening sockets in cmd.ExtraFiles are the child's from then on: they
// are closed here. It returns a channel closed when workerd exits, and its
// output so far.
func runWorkerd(t *testing.T, cmd *exec.Cmd) (exited <-chan struct{}, out *lockedBuffer) {
	t.Helper()
	out = &lockedBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatalf("workerd: %v", err)
	}
	for _, f := range cmd.ExtraFiles {
		f.Close()
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-done
		}
		if t.Failed() {
			t.Logf("workerd output:\n%s", out.String())
		}
	})
	return done, out
}

// runCron fires the worker's scheduled event one after another, each
// letting its keeper session end, until the returned stop is called
// (stop waits for the event under way; calling it again does nothing).
func runCron(w *edgeWorkerd) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-done:
				return
			default:
			}
			if res, err := w.client.Post(w.cronURL+"/scheduled", "text/plain", nil); err == nil {
				io.Copy(io.Discard, res.Body)
				res.Body.Close()
			} else {
				time.Sleep(500 * time.Millisecond)
			}
		}
	}()
	var once sync.Once
	return func() { once.Do(func() { close(done); wg.Wait() }) }
}
