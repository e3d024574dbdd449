//go:build browser || edge

// The tests with real JavaScript runtimes: the browser extension in
// Debian's Chromium (this file, -tags browser, `make test-browser`) and the
// edge worker in npm's workerd (edge_test.go, -tags edge, `make
// test-edge`). They are behind build tags because they need the built
// extension or worker and the npm packages of tests/browser; the make
// targets build those first. The helpers in this file serve both.

package tests

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/proto"

	"github.com/lightkeeper-net/lightkeeper/devtools/devnet"
	"github.com/lightkeeper-net/lightkeeper/devtools/proofgen"
	"github.com/lightkeeper-net/lightkeeper/devtools/workload"
	"github.com/lightkeeper-net/lightkeeper/internal/setup"
	"github.com/lightkeeper-net/lightkeeper/keeper"
	lightkeeperv1 "github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1"
	"github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1/lightkeeperv1connect"
	"github.com/lightkeeper-net/lightkeeper/verifier"
)

// jsNativeKeepers is how many native keepers run beside the keeper under
// test. With the default consensus (committees of 10, 7 approvals) and 7
// eligible keepers, every committee is all 7 and an approval needs all 7
// votes: every APPROVED certificate must carry the JS keeper's signed
// vote, so the test sees it counted, not merely accepted.
const jsNativeKeepers = 6

// restartableDevnet is a devnet on a fixed directory and address that can
// be stopped and started again, as a coordinator restart.
type restartableDevnet struct {
	t      *testing.T
	opts   devnet.Options
	d      *devnet.Devnet
	cancel context.CancelFunc
}

func startRestartableDevnet(t *testing.T, extra int) *restartableDevnet {
	t.Helper()
	cfg := testConfig()
	r := &restartableDevnet{t: t, opts: devnet.Options{
		Dir: t.TempDir(), Keepers: jsNativeKeepers, ExtraGenesisKeepers: extra, Config: &cfg,
	}}
	r.start()
	// From now on restarts reuse the address the first start got.
	r.opts.Listen = strings.TrimPrefix(r.d.URL, "http://")
	t.Cleanup(r.stop)
	return r
}

func (r *restartableDevnet) start() {
	r.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	d, err := devnet.Start(ctx, r.opts)
	if err != nil {
		cancel()
		r.t.Fatal(err)
	}
	r.d, r.cancel = d, cancel
	// After a restart the stored state still says the keepers of the last
	// run are online until the coordinator's first block takes them
	// offline; wait for a block made by this run before counting.
	lc := lightkeeperv1connect.NewLedgerServiceClient(http.DefaultClient, d.URL)
	info, err := lc.GetChainInfo(ctx, connect.NewRequest(&lightkeeperv1.GetChainInfoRequest{}))
	if err != nil {
		r.t.Fatal(err)
	}
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		now, err := lc.GetChainInfo(ctx, connect.NewRequest(&lightkeeperv1.GetChainInfoRequest{}))
		if err == nil && now.Msg.GetHeadHeight() > info.Msg.GetHeadHeight() {
			break
		}
		if time.Now().After(deadline) {
			r.t.Fatalf("no block in 30 s after the start (%v)", err)
		}
	}
	if err := d.WaitOnline(ctx, jsNativeKeepers, 30*time.Second); err != nil {
		r.t.Fatal(err)
	}
}

func (r *restartableDevnet) stop() {
	if r.d == nil {
		return
	}
	if err := r.d.Close(); err != nil {
		r.t.Errorf("devnet close: %v", err)
	}
	r.cancel()
	r.d = nil
}

// extraKey is the genesis key no native keeper runs: the JS keeper's.
func (r *restartableDevnet) extraKey() []byte { return r.d.Keys[jsNativeKeepers].Seed() }

func (r *restartableDevnet) extraID() string { return setup.KeyID(r.d.Keys[jsNativeKeepers]) }

// waitKeeperOnline waits until the coordinator lists the keeper online.
func waitKeeperOnline(t *testing.T, url, id string, timeout time.Duration) {
	t.Helper()
	kc := lightkeeperv1connect.NewKeeperServiceClient(http.DefaultClient, url)
	deadline := time.Now().Add(timeout)
	for {
		res, err := kc.GetKeeper(context.Background(), connect.NewRequest(&lightkeeperv1.GetKeeperRequest{KeeperId: id}))
		if err == nil && res.Msg.GetKeeper().GetOnline() {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("keeper %s not online after %v (%v)", id[:12], timeout, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// checkJSKeeperVotes checks that the keeper voted in every decided round,
// the way the item's expectation says, and that its signed vote is in the
// certificate of every APPROVED round. A vote cast after the decision (the
// keeper was slower than the deciding votes) is still recorded in the
// round, so it is looked for there, waiting for it a bounded time.
func checkJSKeeperVotes(t *testing.T, url, id string, outs []outcome) (approvedWithVote int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	rc := lightkeeperv1connect.NewRoundServiceClient(http.DefaultClient, url)
	for _, o := range outs {
		if o.err != nil || o.round == nil {
			continue
		}
		rid := o.round.GetId()
		var mine *lightkeeperv1.Vote
		for mine == nil {
			res, err := rc.GetRound(ctx, connect.NewRequest(&lightkeeperv1.GetRoundRequest{RoundId: rid}))
			if err != nil {
				t.Fatalf("%s: round %s: %v", o.item.Name, rid[:12], err)
			}
			r := res.Msg.GetRound()
			if !slices.Contains(r.GetCommittee(), id) {
				t.Errorf("%s: keeper %s not on the committee of round %s", o.item.Name, id[:12], rid[:12])
				break
			}
			for _, v := range r.GetVotes() {
				if v.GetKeeperId() == id {
					mine = v
				}
			}
			if mine == nil {
				if r.GetPhase() == lightkeeperv1.RoundPhase_ROUND_PHASE_CLOSED {
					t.Errorf("%s: round %s closed without the keeper's vote", o.item.Name, rid[:12])
					break
				}
				select {
				case <-ctx.Done():
					t.Fatalf("%s: no vote from keeper %s in round %s", o.item.Name, id[:12], rid[:12])
				case <-time.After(200 * time.Millisecond):
				}
			}
		}
		if mine == nil {
			continue
		}
		want := lightkeeperv1.VoteKind_VOTE_KIND_APPROVE
		if o.item.Want == workload.Rejected {
			want = lightkeeperv1.VoteKind_VOTE_KIND_REJECT
		}
		if mine.GetKind() != want {
			t.Errorf("%s: keeper voted %v (%v), want %v", o.item.Name, mine.GetKind(), mine.GetReason(), want)
		}
		if o.round.GetOutcome() != lightkeeperv1.Outcome_OUTCOME_APPROVED {
			continue
		}
		cert, err := rc.GetCertificate(ctx, connect.NewRequest(&lightkeeperv1.GetCertificateRequest{RoundId: rid}))
		if err != nil {
			t.Fatalf("%s: certificate: %v", o.item.Name, err)
		}
		in := false
		for _, v := range cert.Msg.GetCertificate().GetVotes() {
			in = in || v.GetKeeperId() == id
		}
		if !in {
			t.Errorf("%s: APPROVED certificate of round %s lacks the keeper's vote", o.item.Name, rid[:12])
		} else {
			approvedWithVote++
		}
	}
	return approvedWithVote
}

// onePerKind picks one valid and one invalid proof per scheme × curve: a
// short second workload.
func onePerKind(items []workload.Item) []workload.Item {
	var some []workload.Item
	for _, it := range items {
		if it.Want != workload.Refused && !slices.ContainsFunc(some, func(o workload.Item) bool {
			return o.Scheme == it.Scheme && o.Curve == it.Curve && o.Want == it.Want
		}) {
			some = append(some, it)
		}
	}
	return some
}

// nativeCheckMillis times the native engine on the valid proofs (full
// verifications, what the JS keepers time under "scheme/curve"), by
// scheme/curve, averaged over reps runs: the baseline for the WebAssembly
// figures.
func nativeCheckMillis(items []workload.Item, reps int) map[string]float64 {
	e := keeper.NewNativeEngine()
	sum, n := map[string]float64{}, map[string]int{}
	for _, it := range items {
		if it.Want != workload.Approved {
			continue
		}
		task := &lightkeeperv1.Task{Payload: &lightkeeperv1.Task_Proof{Proof: &lightkeeperv1.ProofTask{
			Scheme: lightkeeperv1.Scheme(it.Scheme), Curve: lightkeeperv1.Curve(it.Curve),
			VerifyingKey: it.VK, Proof: it.Proof, PublicInputs: it.Public,
		}}}
		name := it.Scheme.String() + "/" + it.Curve.String()
		start := time.Now()
		for range reps {
			e.Check(context.Background(), task)
		}
		sum[name] += float64(time.Since(start).Microseconds()) / 1000 / float64(reps)
		n[name]++
	}
	out := map[string]float64{}
	for k, v := range sum {
		out[k] = v / float64(n[k])
	}
	return out
}

// checkTiming is one scheme/curve of the JS keeper's stats().checks.
type checkTiming struct {
	Count   int64   `json:"count"`
	TotalMs float64 `json:"totalMs"`
	MinMs   float64 `json:"minMs"`
	MaxMs   float64 `json:"maxMs"`
}

// compareTimes logs the JS keeper's times to verify a valid proof beside
// native's and writes the table to test-artifacts. The mean includes each
// instance's first, cold checks; the minimum is the warm figure and the
// least sensitive to a busy machine.
func compareTimes(t *testing.T, host string, js map[string]checkTiming, native map[string]float64, artifact string) {
	t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "%-18s %6s %10s %14s %13s %10s\n", "scheme/curve", "checks", "native ms", host+" mean ms", host+" min ms", "min/native")
	for _, c := range workload.Combos {
		name := verifier.Scheme(c.Scheme).String() + "/" + verifier.Curve(c.Curve).String()
		j, ok := js[name]
		if !ok || j.Count == 0 {
			fmt.Fprintf(&b, "%-18s %6d %10.2f %14s %13s %10s\n", name, 0, native[name], "-", "-", "-")
			continue
		}
		mean := j.TotalMs / float64(j.Count)
		fmt.Fprintf(&b, "%-18s %6d %10.2f %14.2f %13.2f %9.1fx\n", name, j.Count, native[name], mean, j.MinMs, j.MinMs/native[name])
	}
	t.Logf("time to verify a valid proof, in the keeper's real flow (native: the same proofs, warm, mean of 3 runs):\n%s", b.String())
	if err := os.MkdirAll(artifactsDir(t), 0o755); err == nil {
		os.WriteFile(filepath.Join(artifactsDir(t), artifact), []byte(b.String()), 0o644)
	}
}

func artifactsDir(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs(filepath.Join("..", "test-artifacts"))
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// npmBin returns a tool installed by `make js-deps` (npm install in tests/browser).
func npmBin(t *testing.T, name string) string {
	t.Helper()
	p, err := filepath.Abs(filepath.Join("browser", "node_modules", ".bin", name))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("%s is not installed: run `make js-deps` (npm install in tests/browser)", name)
	}
	return p
}

// requireEnvDir returns the directory an env variable names, failing with
// what to run when it is missing.
func requireEnvDir(t *testing.T, name, target string) string {
	t.Helper()
	dir := os.Getenv(name)
	if dir == "" {
		t.Fatalf("%s is not set: run `make %s`, which builds what this test loads", name, target)
	}
	if _, err := os.Stat(dir); err != nil {
		t.Fatalf("%s: %v (run `make %s`)", name, err, target)
	}
	return dir
}

// driver is the node script that controls Chromium, spoken to in JSON
// lines.
type driver struct {
	t      *testing.T
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	events chan map[string]json.RawMessage
	stderr *lockedBuffer
	done   chan struct{}
}

type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func startDriver(t *testing.T, script string, args ...string) *driver {
	t.Helper()
	cmd := exec.Command("node", append([]string{script}, args...)...)
	cmd.Dir = "browser"
	d := &driver{t: t, cmd: cmd, events: make(chan map[string]json.RawMessage, 16), stderr: &lockedBuffer{}, done: make(chan struct{})}
	cmd.Stderr = d.stderr
	var err error
	if d.stdin, err = cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("node: %v", err)
	}
	go func() {
		defer close(d.done)
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 1<<20), 16<<20)
		for sc.Scan() {
			var ev map[string]json.RawMessage
			if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
				fmt.Fprintf(d.stderr, "[driver stdout] %s\n", sc.Text())
				continue
			}
			d.events <- ev
		}
		cmd.Wait()
	}()
	t.Cleanup(func() {
		d.stdin.Close()
		select {
		case <-d.done:
		case <-time.After(20 * time.Second):
			cmd.Process.Kill()
			<-d.done
		}
		if t.Failed() {
			t.Logf("driver stderr:\n%s", d.stderr.String())
		}
	})
	return d
}

// await waits for the next event, which must be want.
func (d *driver) await(want string, timeout time.Duration) map[string]json.RawMessage {
	d.t.Helper()
	select {
	case ev := <-d.events:
		var name string
		json.Unmarshal(ev["event"], &name)
		if name == "error" {
			var msg string
			json.Unmarshal(ev["message"], &msg)
			d.t.Fatalf("driver failed: %s\nstderr:\n%s", msg, d.stderr.String())
		}
		if name != want {
			d.t.Fatalf("driver said %q, want %q", name, want)
		}
		return ev
	case <-d.done:
		d.t.Fatalf("driver exited waiting for %q:\n%s", want, d.stderr.String())
	case <-time.After(timeout):
		d.t.Fatalf("driver: no %q in %v:\n%s", want, timeout, d.stderr.String())
	}
	return nil
}

func (d *driver) send(cmd string) {
	d.t.Helper()
	if _, err := io.WriteString(d.stdin, cmd+"\n"); err != nil {
		d.t.Fatalf("driver: %v", err)
	}
}

// jsStats is the part of the JS keeper's stats() the tests read.
type jsStats struct {
	State          string `json:"state"`
	KeeperID       string `json:"keeperId"`
	Coordinator    string `json:"coordinator"`
	RoundsVerified int64  `json:"roundsVerified"`
	Approvals      int64  `json:"approvals"`
	Rejections     int64  `json:"rejections"`
	Abstains       int64  `json:"abstains"`
	Accepted       int64  `json:"accepted"`
	Reconnects     int64  `json:"reconnects"`
	LastError      string `json:"lastError"`
	Keeper         *struct {
		Reputation int64  `json:"reputation"`
		Stake      uint64 `json:"stake"`
		FetchedAt  int64  `json:"fetchedAt"`
	} `json:"keeper"`
	LastVotes []struct {
		RoundID string `json:"roundId"`
		Vote    string `json:"vote"`
	} `json:"lastVotes"`
	Checks map[string]checkTiming `json:"checks"`
}

func decode[T any](t *testing.T, raw json.RawMessage) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatalf("driver sent %s: %v", raw, err)
	}
	return v
}

// TestBrowserExtension loads the built extension into headless Chromium,
// gives it a genesis key through its options page, and checks that it sits
// on committees with native keepers and votes right on every scheme ×
// curve, that its votes are in the certificates, that it reconnects after
// the coordinator restarts and votes again, and that the popup shows the
// keeper as the coordinator sees it. The popup's screenshot goes to
// test-artifacts/.
func TestBrowserExtension(t *testing.T) {
	ext := requireEnvDir(t, "LIGHTKEEPER_BROWSER_EXT", "test-browser")
	npmBin(t, "playwright-core")
	chromium := os.Getenv("CHROMIUM")
	if chromium == "" {
		chromium = "/usr/bin/chromium"
	}
	if _, err := os.Stat(chromium); err != nil {
		t.Fatalf("no Chromium at %s: apt-get install chromium (or set CHROMIUM)", chromium)
	}
	// The shared workload and real circom/snarkjs proofs: the browser
	// keeper verifies both.
	items := slices.Concat(allItems(t), snarkjsItems(t))
	net := startRestartableDevnet(t, 1)
	id := net.extraID()
	seedFile := filepath.Join(t.TempDir(), "browser.key")
	if err := os.WriteFile(seedFile, []byte(fmt.Sprintf("%x\n", net.extraKey())), 0o600); err != nil {
		t.Fatal(err)
	}

	start := time.Now()
	drv := startDriver(t, "extension.mjs", "--extension", ext, "--coordinator", net.d.URL,
		"--seed-file", seedFile, "--artifacts", artifactsDir(t), "--chromium", chromium, "--timeout-ms", "120000")
	ready := decode[jsStats](t, drv.await("ready", 4*time.Minute)["stats"])
	if ready.KeeperID != id {
		t.Fatalf("extension runs keeper %s, want the imported genesis key %s", ready.KeeperID, id)
	}
	waitKeeperOnline(t, net.d.URL, id, 30*time.Second)
	t.Logf("extension loaded, configured and connected as %s in %v", id[:12], time.Since(start).Round(time.Millisecond))

	// Every scheme × curve, valid and invalid: the browser keeper's vote
	// is needed for each approval.
	start = time.Now()
	outs := runAll(t, net.d.URL, items)
	checkOutcomes(t, outs)
	checkCertificates(t, net.d.URL, outs)
	withVote := checkJSKeeperVotes(t, net.d.URL, id, outs)
	t.Logf("%d rounds decided in %v; the browser keeper's vote is in all %d APPROVED certificates",
		len(outs), time.Since(start).Round(time.Millisecond), withVote)
	if withVote == 0 {
		t.Fatal("no APPROVED certificate carries the browser keeper's vote")
	}
	drv.send("stats")
	st := decode[jsStats](t, drv.await("stats", 30*time.Second)["stats"])
	js := st.Checks
	compareTimes(t, "chromium", js, nativeCheckMillis(items, 3), "browser-verify-times.txt")

	// The coordinator restarts: the extension's keeper reconnects by
	// itself and votes on new rounds.
	t.Run("coordinator-restart", func(t *testing.T) {
		net.stop()
		time.Sleep(time.Second) // long enough for a pull to fail
		net.start()
		waitKeeperOnline(t, net.d.URL, id, 60*time.Second)
		outs := runAll(t, net.d.URL, onePerKind(items))
		checkOutcomes(t, outs)
		checkJSKeeperVotes(t, net.d.URL, id, outs)
		drv.send("stats")
		st := decode[jsStats](t, drv.await("stats", 30*time.Second)["stats"])
		if st.Reconnects == 0 {
			t.Errorf("keeper reports no reconnect across a coordinator restart")
		}
		t.Logf("reconnected after the restart (%d reconnects) and voted on %d new rounds", st.Reconnects, len(outs))
		// Reputation moves when rounds close; let them, so the popup and
		// the coordinator are compared on a settled state.
		waitClosed(t, net.d.URL, outs)
	})

	// What the popup shows must be what the coordinator says. Wait until
	// the keeper's cached GetKeeper (refreshed every 5 s) is younger than
	// the rounds' closing, so both sides describe the same state.
	kc := lightkeeperv1connect.NewKeeperServiceClient(http.DefaultClient, net.d.URL)
	settled := time.Now()
	time.Sleep(1500 * time.Millisecond)
	var want *lightkeeperv1.Keeper
	for deadline := time.Now().Add(30 * time.Second); ; {
		drv.send("stats")
		st = decode[jsStats](t, drv.await("stats", 30*time.Second)["stats"])
		res, err := kc.GetKeeper(context.Background(), connect.NewRequest(&lightkeeperv1.GetKeeperRequest{KeeperId: id}))
		if err != nil {
			t.Fatal(err)
		}
		want = res.Msg.GetKeeper()
		if st.Keeper != nil && st.Keeper.FetchedAt > settled.UnixMilli() && st.Keeper.Reputation == want.GetReputation() {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("keeper's view of itself never matched the coordinator's: %+v vs reputation %d", st.Keeper, want.GetReputation())
		}
		time.Sleep(time.Second)
	}
	drv.send("popup")
	pop := drv.await("popup", 2*time.Minute)
	type popupFields struct {
		State, DataState, KeeperID, KeeperIDShown, Coordinator string
		RoundsVerified, Approvals, Rejections, Reputation      string
		Stake, Error                                           string
		Votes                                                  []struct{ Round, Vote, Text string }
	}
	f := decode[popupFields](t, pop["fields"])
	ps := decode[jsStats](t, pop["stats"])
	var shot string
	json.Unmarshal(pop["screenshot"], &shot)
	t.Logf("popup: %+v", f)
	checks := []struct {
		what, got, want string
	}{
		{"state", f.DataState, "connected"},
		{"keeper id", f.KeeperID, id},
		{"coordinator", f.Coordinator, net.d.URL},
		{"reputation", f.Reputation, thousands(want.GetReputation())},
		{"stake", f.Stake, thousands(int64(want.GetStake()))},
		{"approvals", f.Approvals, fmt.Sprint(ps.Approvals)},
		{"rejections", f.Rejections, fmt.Sprint(ps.Rejections)},
		{"rounds verified", f.RoundsVerified, fmt.Sprint(ps.Approvals + ps.Rejections)},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("popup %s: shows %q, want %q", c.what, c.got, c.want)
		}
	}
	if !strings.HasPrefix(id, strings.TrimSuffix(strings.Split(f.KeeperIDShown, "…")[0], "…")) {
		t.Errorf("popup shows keeper id %q, not a prefix of %s", f.KeeperIDShown, id)
	}
	if ps.Approvals == 0 || ps.Rejections == 0 {
		t.Errorf("keeper cast %d approvals and %d rejections; the workload has both kinds", ps.Approvals, ps.Rejections)
	}
	if len(f.Votes) == 0 || len(ps.LastVotes) == 0 || f.Votes[0].Round != ps.LastVotes[0].RoundID || f.Votes[0].Vote != ps.LastVotes[0].Vote {
		t.Errorf("popup's last votes %+v do not start with the keeper's last vote %+v", f.Votes, ps.LastVotes)
	}
	if fi, err := os.Stat(shot); err != nil || fi.Size() == 0 {
		t.Errorf("popup screenshot %s: %v", shot, err)
	} else {
		t.Logf("popup screenshot: %s", shot)
	}
	drv.send("quit")
	drv.await("done", time.Minute)
}

// thousands formats like the popup's toLocaleString('en-US').
func thousands(n int64) string {
	s := fmt.Sprint(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	if neg {
		s = "-" + s
	}
	return s
}

// benchPage is served to Chromium by TestBrowserVerifyBench: it loads the
// extension's keeper.wasm and times lightkeeper.check() on each task.
const benchPage = `<!doctype html>
<meta charset="utf-8">
<title>lightkeeper wasm bench</title>
<script src="wasm_exec.js"></script>
<script>
(async () => {
  try {
    const reps = Number(new URLSearchParams(location.search).get('reps') || 20);
    const t0 = performance.now();
    const ready = new Promise((r) => (globalThis.lightkeeperReady = r));
    const go = new Go();
    const { instance } = await WebAssembly.instantiateStreaming(fetch('keeper.wasm'), go.importObject);
    const t1 = performance.now();
    go.run(instance);
    const lk = await ready;
    const t2 = performance.now();
    const names = await (await fetch('tasks/index.json')).json();
    const out = { compileMs: t1 - t0, startMs: t2 - t1, results: {} };
    for (const name of names) {
      const bytes = new Uint8Array(await (await fetch('tasks/' + name)).arrayBuffer());
      const cold = await lk.check(bytes, 1);
      await lk.check(bytes, 2);
      const warm = await lk.check(bytes, reps);
      out.results[name] = { vote: warm.vote, detail: warm.detail, coldMs: cold.ms[0], ms: warm.ms };
    }
    // Batches: n proofs under one key through checkBatch, after a warm-up.
    const batchReps = Number(new URLSearchParams(location.search).get('batchReps') || 5);
    out.batches = {};
    for (const curve of await (await fetch('batches/index.json')).json()) {
      const all = (await (await fetch('batches/' + curve)).json()).map((b64) => Uint8Array.from(atob(b64), (c) => c.charCodeAt(0)));
      out.batches[curve] = {};
      for (const n of [1, 8, 64]) {
        await lk.checkBatch(all.slice(0, n), 1);
        const r = await lk.checkBatch(all.slice(0, n), batchReps);
        out.batches[curve][n] = { votes: r.votes, ms: r.ms };
      }
    }
    window.benchResult = out;
  } catch (e) {
    window.benchResult = { error: String((e && e.stack) || e) };
  }
  window.benchDone = true;
})();
</script>
`

// TestBrowserVerifyBench measures, in one run, the time to verify one
// valid proof of each scheme × curve natively and in Chromium (the
// extension's keeper.wasm, V8), and writes the table with the ratio to
// test-artifacts/browser-bench.txt. Medians, so a busy machine skews them
// less; LIGHTKEEPER_BENCH_REPS sets the runs per proof (default 50: V8
// tiers hot WebAssembly up from its baseline compiler as it runs, and
// fewer runs measure partly the baseline code).
func TestBrowserVerifyBench(t *testing.T) {
	ext := requireEnvDir(t, "LIGHTKEEPER_BROWSER_EXT", "test-browser")
	npmBin(t, "playwright-core")
	chromium := os.Getenv("CHROMIUM")
	if chromium == "" {
		chromium = "/usr/bin/chromium"
	}
	reps := 50
	if s := os.Getenv("LIGHTKEEPER_BENCH_REPS"); s != "" {
		if _, err := fmt.Sscan(s, &reps); err != nil || reps < 1 {
			t.Fatalf("LIGHTKEEPER_BENCH_REPS=%q: want a positive count", s)
		}
	}
	// One valid proof per scheme × curve, as the Task a keeper receives.
	tasks := map[string][]byte{}
	var names []string
	native := map[string][]float64{}
	e := keeper.NewNativeEngine()
	for _, it := range allItems(t) {
		name := it.Scheme.String() + "-" + it.Curve.String()
		if it.Want != workload.Approved || tasks[name] != nil {
			continue
		}
		task := &lightkeeperv1.Task{Payload: &lightkeeperv1.Task_Proof{Proof: &lightkeeperv1.ProofTask{
			Scheme: lightkeeperv1.Scheme(it.Scheme), Curve: lightkeeperv1.Curve(it.Curve),
			VerifyingKey: it.VK, Proof: it.Proof, PublicInputs: it.Public,
		}}}
		b, err := proto.Marshal(task)
		if err != nil {
			t.Fatal(err)
		}
		tasks[name] = b
		names = append(names, name)
		for i := range reps + 2 {
			start := time.Now()
			v := e.Check(context.Background(), task)
			if v.Kind != lightkeeperv1.VoteKind_VOTE_KIND_APPROVE {
				t.Fatalf("%s: native engine says %v", name, v.Kind)
			}
			if i >= 2 { // the first two warm up, as in the page
				native[name] = append(native[name], float64(time.Since(start).Microseconds())/1000)
			}
		}
	}

	batchReps := max(3, reps/10)
	curves, batchTasks := groth16BatchTasks(t)
	batches := map[string][][]byte{}
	for _, curve := range curves {
		for _, task := range batchTasks[curve] {
			b, err := proto.Marshal(task)
			if err != nil {
				t.Fatal(err)
			}
			batches[curve] = append(batches[curve], b)
		}
	}
	nativeBatch := nativeBatchMillis(t, curves, batchTasks, batchReps)

	mux := http.NewServeMux()
	mux.HandleFunc("GET /batches/{curve}", func(w http.ResponseWriter, r *http.Request) {
		if r.PathValue("curve") == "index.json" {
			json.NewEncoder(w).Encode(curves)
			return
		}
		b, ok := batches[r.PathValue("curve")]
		if !ok {
			http.NotFound(w, r)
			return
		}
		json.NewEncoder(w).Encode(b) // []byte as base64
	})
	mux.Handle("GET /keeper.wasm", http.FileServer(http.Dir(ext)))
	mux.Handle("GET /wasm_exec.js", http.FileServer(http.Dir(ext)))
	mux.HandleFunc("GET /bench.html", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, benchPage)
	})
	mux.HandleFunc("GET /tasks/{name}", func(w http.ResponseWriter, r *http.Request) {
		if r.PathValue("name") == "index.json" {
			json.NewEncoder(w).Encode(names)
			return
		}
		b, ok := tasks[r.PathValue("name")]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Write(b)
	})
	srv := httptest.NewServer(mux) // 127.0.0.1
	defer srv.Close()

	drv := startDriver(t, "bench.mjs", "--url", fmt.Sprintf("%s/bench.html?reps=%d&batchReps=%d", srv.URL, reps, batchReps), "--chromium", chromium)
	ev := drv.await("bench", 6*time.Minute)
	var res struct {
		CompileMs, StartMs float64
		Results            map[string]struct {
			Vote, Detail string
			ColdMs       float64
			Ms           []float64
		}
		Batches map[string]map[string]struct {
			Votes []string
			Ms    []float64
		}
	}
	if err := json.Unmarshal(ev["result"], &res); err != nil {
		t.Fatalf("bench result %s: %v", ev["result"], err)
	}
	var ua string
	json.Unmarshal(ev["userAgent"], &ua)
	drv.await("done", time.Minute)

	fi, err := os.Stat(filepath.Join(ext, "keeper.wasm"))
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "keeper.wasm %.1f MB; Chromium: compile (instantiateStreaming) %.0f ms, Go start %.0f ms\n%s\n",
		float64(fi.Size())/1e6, res.CompileMs, res.StartMs, ua)
	fmt.Fprintf(&b, "time to verify one valid proof, median of %d runs after 2 warm-ups (cold: the very first run in Chromium)\n", reps)
	fmt.Fprintf(&b, "%-18s %10s %12s %14s %8s\n", "scheme/curve", "native ms", "chromium ms", "chromium cold", "ratio")
	for _, name := range names {
		r, ok := res.Results[name]
		if !ok || r.Vote != "APPROVE" {
			t.Errorf("%s in Chromium: %+v", name, r)
			continue
		}
		nat, chr := median(native[name]), median(r.Ms)
		fmt.Fprintf(&b, "%-18s %10.2f %12.2f %14.2f %7.1fx\n", strings.Replace(name, "-", "/", 1), nat, chr, r.ColdMs, chr/nat)
	}
	fmt.Fprintf(&b, "\nGroth16, n distinct valid proofs under one key through the engine's CheckBatch: ms per proof (median of %d batches ÷ n)\n", batchReps)
	fmt.Fprintf(&b, "%-18s %6s %10s %12s %8s\n", "curve", "batch", "native", "chromium", "ratio")
	for _, curve := range curves {
		for _, n := range batchSizes {
			r := res.Batches[curve][strconv.Itoa(n)]
			if len(r.Votes) != n || slices.ContainsFunc(r.Votes, func(v string) bool { return v != "APPROVE" }) {
				t.Errorf("groth16/%s batch of %d in Chromium: votes %v", curve, n, r.Votes)
				continue
			}
			nat, chr := median(nativeBatch[curve][n])/float64(n), median(r.Ms)/float64(n)
			fmt.Fprintf(&b, "%-18s %6d %10.2f %12.2f %7.1fx\n", "groth16/"+curve, n, nat, chr, chr/nat)
		}
	}
	t.Logf("\n%s", b.String())
	if err := os.MkdirAll(artifactsDir(t), 0o755); err == nil {
		os.WriteFile(filepath.Join(artifactsDir(t), "browser-bench.txt"), []byte(b.String()), 0o644)
	}
}

// batchSizes are the batch figures' sizes (docs/benchmarks.md §7).
var batchSizes = []int{1, 8, 64}

// groth16BatchTasks returns, per curve, 64 distinct valid Groth16 proofs
// under one key as proof tasks (proofgen's circuit, as
// BenchmarkVerifyBatch in wasmclient/host).
func groth16BatchTasks(t *testing.T) (curves []string, tasks map[string][]*lightkeeperv1.Task) {
	t.Helper()
	tasks = map[string][]*lightkeeperv1.Task{}
	for _, curve := range []verifier.Curve{verifier.CurveBN254, verifier.CurveBLS12_381} {
		f, err := proofgen.New(verifier.SchemeGroth16, curve)
		if err != nil {
			t.Fatal(err)
		}
		for i := range 64 {
			p, err := f.Prove(uint64(1000 + i))
			if err != nil {
				t.Fatal(err)
			}
			j := f.Job(p)
			tasks[curve.String()] = append(tasks[curve.String()], &lightkeeperv1.Task{Payload: &lightkeeperv1.Task_Proof{Proof: &lightkeeperv1.ProofTask{
				Scheme: lightkeeperv1.Scheme(j.Scheme), Curve: lightkeeperv1.Curve(j.Curve),
				VerifyingKey: j.VerifyingKey, Proof: j.Proof, PublicInputs: j.PublicInputs,
			}}})
		}
		curves = append(curves, curve.String())
	}
	return curves, tasks
}

// nativeBatchMillis times keeper.NativeEngine.CheckBatch in this process
// on the first n tasks of each curve for every batch size: reps timed runs
// after one warm-up, in ms per batch.
func nativeBatchMillis(t *testing.T, curves []string, tasks map[string][]*lightkeeperv1.Task, reps int) map[string]map[int][]float64 {
	t.Helper()
	e := keeper.NewNativeEngine()
	out := map[string]map[int][]float64{}
	for _, curve := range curves {
		out[curve] = map[int][]float64{}
		for _, n := range batchSizes {
			for i := range reps + 1 {
				start := time.Now()
				for _, v := range e.CheckBatch(context.Background(), tasks[curve][:n]) {
					if v.Kind != lightkeeperv1.VoteKind_VOTE_KIND_APPROVE {
						t.Fatalf("groth16/%s batch of %d: native engine says %v", curve, n, v.Kind)
					}
				}
				if i > 0 {
					out[curve][n] = append(out[curve][n], float64(time.Since(start).Microseconds())/1000)
				}
			}
		}
	}
	return out
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
