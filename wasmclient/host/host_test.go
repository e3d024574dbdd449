package wasmhost

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lightkeeper-net/lightkeeper/devtools/proofgen"
	"github.com/lightkeeper-net/lightkeeper/devtools/workload"
	"github.com/lightkeeper-net/lightkeeper/keeper"
	lightkeeperv1 "github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1"
	"github.com/lightkeeper-net/lightkeeper/protocol"
	"github.com/lightkeeper-net/lightkeeper/verifier"
)

// job is one case for the engines, with the vote an honest keeper casts.
type job struct {
	name string
	job  verifier.ProofJob
	want lightkeeperv1.VoteKind
}

var (
	jobsOnce sync.Once
	jobsList []job
	jobsErr  error
)

// jobs returns, on every scheme × curve: valid proofs (binary and JSON
// public inputs, with and without BSB22 commitments), each kind of
// invalid proof of the shared workload, and malformed inputs of every
// field.
func jobs(t testing.TB) []job {
	t.Helper()
	jobsOnce.Do(func() {
		items, err := workload.Build(workload.Options{Valid: 2, Invalid: true, JSONInputs: true}, nil)
		if err != nil {
			jobsErr = err
			return
		}
		approve, reject := lightkeeperv1.VoteKind_VOTE_KIND_APPROVE, lightkeeperv1.VoteKind_VOTE_KIND_REJECT
		for _, it := range items {
			want := reject
			if it.Want == workload.Approved {
				want = approve
			}
			j := verifier.ProofJob{Scheme: it.Scheme, Curve: it.Curve, VerifyingKey: it.VK, Proof: it.Proof, PublicInputs: it.Public}
			jobsList = append(jobsList, job{it.Name, j, want})
		}
		for _, c := range workload.Combos {
			f, err := proofgen.NewCommitted(c.Scheme, c.Curve)
			if err != nil {
				jobsErr = err
				return
			}
			p, err := f.Prove(42)
			if err != nil {
				jobsErr = err
				return
			}
			name := c.Scheme.String() + "/" + c.Curve.String()
			valid := f.Job(p)
			jobsList = append(jobsList, job{name + "/committed", valid, approve})
			for _, m := range malformed(valid) {
				jobsList = append(jobsList, job{name + "/" + m.name, m.job, m.want})
			}
		}
	})
	if jobsErr != nil {
		t.Fatal(jobsErr)
	}
	return jobsList
}

// malformed derives broken jobs from a valid one. None of them may crash
// either engine; each must get the same verdict from both.
func malformed(valid verifier.ProofJob) []job {
	reject, abstain := lightkeeperv1.VoteKind_VOTE_KIND_REJECT, lightkeeperv1.VoteKind_VOTE_KIND_ABSTAIN
	with := func(f func(j *verifier.ProofJob)) verifier.ProofJob {
		j := verifier.ProofJob{Scheme: valid.Scheme, Curve: valid.Curve,
			VerifyingKey: bytes.Clone(valid.VerifyingKey), Proof: bytes.Clone(valid.Proof), PublicInputs: bytes.Clone(valid.PublicInputs)}
		f(&j)
		return j
	}
	garbage := bytes.Repeat([]byte{0xA5}, 300)
	return []job{
		{"empty", verifier.ProofJob{Scheme: valid.Scheme, Curve: valid.Curve}, reject},
		{"garbage-key", with(func(j *verifier.ProofJob) { j.VerifyingKey = garbage }), reject},
		{"truncated-key", with(func(j *verifier.ProofJob) { j.VerifyingKey = j.VerifyingKey[:len(j.VerifyingKey)/2] }), reject},
		{"key-length-prefix-huge", with(func(j *verifier.ProofJob) {
			j.VerifyingKey = append(j.VerifyingKey[:len(j.VerifyingKey)-8], 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF)
		}), reject},
		{"garbage-proof", with(func(j *verifier.ProofJob) { j.Proof = garbage }), reject},
		{"empty-proof", with(func(j *verifier.ProofJob) { j.Proof = nil }), reject},
		{"garbage-inputs", with(func(j *verifier.ProofJob) { j.PublicInputs = garbage }), reject},
		{"json-unterminated", with(func(j *verifier.ProofJob) { j.PublicInputs = []byte(`["1",`) }), reject},
		{"json-not-number", with(func(j *verifier.ProofJob) { j.PublicInputs = []byte(`["x","y"]`) }), reject},
		{"json-over-modulus", with(func(j *verifier.ProofJob) {
			j.PublicInputs = []byte(`["` + strings.Repeat("9", 100) + `","1"]`)
		}), reject},
		{"witness-count-huge", with(func(j *verifier.ProofJob) {
			binary.BigEndian.PutUint32(j.PublicInputs, 0xFFFFFFFF)
		}), reject},
		{"unknown-scheme", with(func(j *verifier.ProofJob) { j.Scheme = 3 }), abstain},
		{"negative-curve", with(func(j *verifier.ProofJob) { j.Curve = -1 }), abstain},
		{"swapped-curve", with(func(j *verifier.ProofJob) { j.Curve = 3 - j.Curve }), reject},
		{"swapped-scheme", with(func(j *verifier.ProofJob) { j.Scheme = 3 - j.Scheme }), reject},
		{"oversized-proof", with(func(j *verifier.ProofJob) { j.Proof = make([]byte, protocol.DefaultMaxProofBytes+1) }), abstain},
	}
}

func task(i int, j verifier.ProofJob) *lightkeeperv1.Task {
	return &lightkeeperv1.Task{
		RoundId: fmt.Sprintf("%064x", i),
		Kind:    lightkeeperv1.RoundKind_ROUND_KIND_PROOF,
		Payload: &lightkeeperv1.Task_Proof{Proof: &lightkeeperv1.ProofTask{
			Scheme:       lightkeeperv1.Scheme(j.Scheme),
			Curve:        lightkeeperv1.Curve(j.Curve),
			VerifyingKey: j.VerifyingKey,
			Proof:        j.Proof,
			PublicInputs: j.PublicInputs,
		}},
	}
}

// TestVerdictsMatchNative: on every scheme × curve, valid, invalid and
// malformed jobs get exactly the native engine's verdict (vote, reason
// and detail) and the vote an honest keeper should cast.
func TestVerdictsMatchNative(t *testing.T) {
	h := newHost(t, NewConfig())
	wasm, native := h.Engine(), keeper.NewNativeEngine()
	ctx := context.Background()
	for i, j := range jobs(t) {
		tk := task(i, j.job)
		got, want := wasm.Check(ctx, tk), native.Check(ctx, tk)
		if got != want {
			t.Errorf("%s: wasm %+v, native %+v", j.name, got, want)
		}
		if got.Kind != j.want {
			t.Errorf("%s: wasm votes %v (%v: %s), want %v", j.name, got.Kind, got.Reason, got.Detail, j.want)
		}
	}
	if s := h.Stats(); s.Discarded != 0 || s.Created != 1 {
		t.Errorf("one caller should use one instance throughout: %+v", s)
	}
}

// TestLimitsPassedThrough: the configured verifier limits reach the
// module, and an oversized job is an abstention, as natively.
func TestLimitsPassedThrough(t *testing.T) {
	lim := protocol.Limits{MaxVerifyingKeyBytes: 100}
	h := newHost(t, NewConfig().WithLimits(lim))
	j := jobs(t)[0]
	tk := task(0, j.job)
	got, want := h.Engine().Check(context.Background(), tk), (keeper.NativeEngine{Limits: lim}).Check(context.Background(), tk)
	if got != want || got.Kind != lightkeeperv1.VoteKind_VOTE_KIND_ABSTAIN || got.Reason != lightkeeperv1.RejectReason_REJECT_REASON_OVERSIZED {
		t.Errorf("wasm %+v, native %+v; want an oversized abstention from both", got, want)
	}
}

func TestNonProofTaskAbstains(t *testing.T) {
	h := newHost(t, NewConfig())
	for _, tk := range []*lightkeeperv1.Task{{RoundId: "x"}, nil} {
		v := h.Engine().Check(context.Background(), tk)
		if v.Kind != lightkeeperv1.VoteKind_VOTE_KIND_ABSTAIN || v.Reason != lightkeeperv1.RejectReason_REJECT_REASON_UNSUPPORTED {
			t.Errorf("task %v: %+v", tk, v)
		}
	}
}

func TestInputTooLarge(t *testing.T) {
	h := newHost(t, NewConfig())
	j := verifier.ProofJob{Scheme: verifier.SchemeGroth16, Curve: verifier.CurveBN254, Proof: make([]byte, MaxInput)}
	if _, err := h.Verify(context.Background(), j); !errors.Is(err, ErrInputTooLarge) {
		t.Fatalf("err %v, want ErrInputTooLarge", err)
	}
	v := h.Engine().Check(context.Background(), task(0, j))
	if v.Kind != lightkeeperv1.VoteKind_VOTE_KIND_ABSTAIN || v.Reason != lightkeeperv1.RejectReason_REJECT_REASON_OVERSIZED {
		t.Errorf("verdict %+v, want an oversized abstention", v)
	}
}

// TestBadFraming drives the ABI below Verify: inputs that do not follow
// lk_verify's layout get StatusBadInput, and the instance stays usable.
func TestBadFraming(t *testing.T) {
	h := newHost(t, NewConfig().WithMaxInstances(1))
	ctx := context.Background()
	for name, n := range map[string]int{"short": 10, "lengths disagree": 64} {
		in, err := h.acquire(ctx)
		if err != nil {
			t.Fatal(err)
		}
		status, out, err := in.call(ctx, "verify", in.fn.verify, n, func(b []byte) {
			clear(b)
			binary.LittleEndian.PutUint32(b[min(24, len(b)-4):], 5)
		})
		h.release(in)
		if err != nil || status != StatusBadInput || !strings.HasPrefix(string(out), "verify:") {
			t.Errorf("%s: status %d, output %q, err %v", name, status, out, err)
		}
	}
	j := jobs(t)[0]
	if v, err := h.Verify(ctx, j.job); err != nil || v.Vote != protocol.VoteApprove {
		t.Fatalf("after bad framing: %v, %v", v, err)
	}
	if s := h.Stats(); s.Created != 1 || s.Discarded != 0 {
		t.Errorf("stats %+v: the instance should have been kept", s)
	}
}

// TestFailedInstanceReplaced: an instance whose Go runtime dies (here: out
// of memory under a small memory limit) makes that call fail with the
// runtime's message, is discarded, and the next call gets a fresh one.
func TestFailedInstanceReplaced(t *testing.T) {
	h := newHost(t, NewConfig().WithMaxInstances(1).WithMemoryLimitPages(1024)) // 64 MiB
	ctx := context.Background()
	in, err := h.acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// The module's buffer limit is 64 MiB, but the instance cannot grow
	// its memory that far.
	_, _, err = in.call(ctx, "verify", in.fn.verify, MaxInput, func([]byte) {})
	h.release(in)
	if err == nil {
		t.Fatal("a 64 MiB input under a 64 MiB memory limit did not fail")
	}
	t.Logf("failure: %v", err)
	if s := h.Stats(); s.Discarded != 1 || s.Instances != 0 {
		t.Fatalf("stats %+v: the failed instance should be gone", s)
	}
	j := jobs(t)[0]
	if v, err := h.Verify(ctx, j.job); err != nil || v.Vote != protocol.VoteApprove {
		t.Fatalf("after the failure: %v, %v", v, err)
	}
	if s := h.Stats(); s.Created != 2 {
		t.Errorf("stats %+v: want a second instance", s)
	}
}

// TestConcurrent: many goroutines share a host of three instances; every
// verdict is right and no more than three instances ever exist. Run with
// -race to check the pool.
func TestConcurrent(t *testing.T) {
	const instances = 3
	h := newHost(t, NewConfig().WithMaxInstances(instances))
	eng := h.Engine()
	all := jobs(t)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 6 {
				j := all[(g*7+i*5)%len(all)]
				if v := eng.Check(context.Background(), task(i, j.job)); v.Kind != j.want {
					t.Errorf("%s: %v (%s)", j.name, v.Kind, v.Detail)
				}
				if n := h.Stats().Instances; n > instances {
					t.Errorf("%d instances alive, limit %d", n, instances)
				}
			}
		}()
	}
	wg.Wait()
	if s := h.Stats(); s.Created > instances || s.Discarded != 0 || s.Idle != s.Instances {
		t.Errorf("stats %+v", s)
	}
}

// TestWaitForInstance: with every instance busy a call waits, and gives
// up (the engine abstains) when its context ends.
func TestWaitForInstance(t *testing.T) {
	h := newHost(t, NewConfig().WithMaxInstances(1))
	busy, err := h.acquire(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	j := jobs(t)[0]
	if _, err := h.Verify(ctx, j.job); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err %v, want DeadlineExceeded", err)
	}
	if v := h.Engine().Check(ctx, task(0, j.job)); v.Kind != lightkeeperv1.VoteKind_VOTE_KIND_ABSTAIN {
		t.Errorf("verdict %+v, want an abstention", v)
	}
	done := make(chan error, 1)
	go func() {
		_, err := h.Verify(context.Background(), j.job)
		done <- err
	}()
	time.Sleep(20 * time.Millisecond)
	h.release(busy)
	if err := <-done; err != nil {
		t.Errorf("after the instance came back: %v", err)
	}
}

// TestSignMatchesNative: signatures made inside the module are the bytes
// the verifier makes natively (ed25519 is deterministic), and the key does
// not stay in the module's memory.
func TestSignMatchesNative(t *testing.T) {
	h := newHost(t, NewConfig().WithMaxInstances(1))
	ctx := context.Background()
	_, key, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	round, result := [32]byte{7, 7, 7}, [32]byte{1}
	for _, chain := range []string{"", "lightkeeper-devnet", strings.Repeat("c", protocol.MaxSignedChainIDLen)} {
		for _, vote := range []protocol.VoteKind{protocol.VoteApprove, protocol.VoteReject, protocol.VoteAbstain} {
			sig, err := h.SignVote(ctx, key, chain, round, vote, result)
			if want := protocol.SignVote(key, chain, round, vote, result); err != nil || !bytes.Equal(sig, want) {
				t.Errorf("vote %v on chain of %d bytes: %x, %v; want %x", vote, len(chain), sig, err, want)
			}
		}
		sig, err := h.SignSession(ctx, key, chain, 1_700_000_000_000)
		if want := protocol.SignSession(key, chain, 1_700_000_000_000); err != nil || !bytes.Equal(sig, want) {
			t.Errorf("session: %x, %v; want %x", sig, err, want)
		}
		sig, err = h.SignRegistration(ctx, key, chain)
		if want := protocol.SignRegistration(key, chain); err != nil || !bytes.Equal(sig, want) {
			t.Errorf("registration: %x, %v; want %x", sig, err, want)
		}
	}

	// The key is wiped from the input buffer when the call returns.
	if _, err := h.SignVote(ctx, key, "c", round, protocol.VoteApprove, result); err != nil {
		t.Fatal(err)
	}
	in, err := h.acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ptr, err := in.call1(ctx, in.fn.input, 0)
	if err != nil {
		t.Fatal(err)
	}
	buf, _ := in.mem.Read(ptr, 4+ed25519.PrivateKeySize)
	if bytes.Contains(buf, key[:32]) || !bytes.Equal(buf[4:], make([]byte, ed25519.PrivateKeySize)) {
		t.Error("the private key is still in the module's input buffer")
	}
	h.release(in)
}

func TestSignRefused(t *testing.T) {
	h := newHost(t, NewConfig())
	ctx := context.Background()
	_, key, _ := ed25519.GenerateKey(nil)
	var se *StatusError
	for _, vote := range []protocol.VoteKind{0, 4, -1} {
		if _, err := h.SignVote(ctx, key, "c", [32]byte{}, vote, [32]byte{}); !errors.As(err, &se) || se.Status != StatusRefused {
			t.Errorf("vote kind %d: %v, want status %d", vote, err, StatusRefused)
		}
	}
	long := strings.Repeat("c", protocol.MaxSignedChainIDLen+1)
	if _, err := h.SignRegistration(ctx, key, long); !errors.As(err, &se) || se.Status != StatusRefused {
		t.Errorf("long chain id: %v", err)
	}
	if _, err := h.SignVote(ctx, key[:32], "c", [32]byte{}, protocol.VoteApprove, [32]byte{}); err == nil {
		t.Error("a 32-byte key was accepted")
	}
	if s := h.Stats(); s.Discarded != 0 {
		t.Errorf("refusals discarded instances: %+v", s)
	}
}

// TestCompilationCache: a second host on the same cache directory loads
// machine code instead of compiling.
func TestCompilationCache(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	load := func() (Stats, time.Duration) {
		start := time.Now()
		h, err := Load(ctx, wasmFile, NewConfig().WithCompilationCacheDir(dir))
		if err != nil {
			t.Fatal(err)
		}
		d := time.Since(start)
		s := h.Stats()
		if err := h.Close(ctx); err != nil {
			t.Fatal(err)
		}
		return s, d
	}
	cold, coldTotal := load()
	entries, err := os.ReadDir(dir)
	if err != nil || len(entries) == 0 {
		t.Fatalf("cache directory is empty after a compile (%v)", err)
	}
	warm, warmTotal := load()
	t.Logf("compile: cold %v, cached %v; load with first instance: cold %v, cached %v",
		cold.CompileTime, warm.CompileTime, coldTotal, warmTotal)
	if warm.CompileTime >= cold.CompileTime {
		t.Errorf("cached compile (%v) not faster than cold (%v)", warm.CompileTime, cold.CompileTime)
	}
}

func TestLoadErrors(t *testing.T) {
	ctx := context.Background()
	if _, err := Load(ctx, "/nonexistent/keeper.wasm", NewConfig()); err == nil {
		t.Error("missing file loaded")
	}
	for name, c := range map[string]struct {
		wasm []byte
		want string
	}{
		"not wasm":   {[]byte("hello"), "compile"},
		"no exports": {[]byte("\x00asm\x01\x00\x00\x00"), "not a lightkeeper keeper module"},
	} {
		if _, err := New(ctx, c.wasm, NewConfig()); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err %v, want one mentioning %q", name, err, c.want)
		}
	}
}

func TestClosedHost(t *testing.T) {
	h := newHost(t, NewConfig())
	ctx := context.Background()
	if err := h.Close(ctx); err != nil {
		t.Fatal(err)
	}
	j := jobs(t)[0]
	if _, err := h.Verify(ctx, j.job); err == nil {
		t.Error("a closed host verified")
	}
	if v := h.Engine().Check(ctx, task(0, j.job)); v.Kind != lightkeeperv1.VoteKind_VOTE_KIND_ABSTAIN {
		t.Errorf("closed host's engine: %+v, want an abstention", v)
	}
}

// FuzzVerifyMatchesNative is a differential fuzz target: whatever the
// bytes, the module's verdict is exactly the native verifier's, and
// neither crashes. The seeds are valid proofs of every scheme × curve.
func FuzzVerifyMatchesNative(f *testing.F) {
	for _, j := range jobs(f) {
		if strings.HasSuffix(j.name, "/valid") || strings.HasSuffix(j.name, "/committed") {
			f.Add(int32(j.job.Scheme), int32(j.job.Curve), j.job.VerifyingKey, j.job.Proof, j.job.PublicInputs)
		}
	}
	h := newHost(f, NewConfig().WithMaxInstances(1))
	lim := protocol.DefaultLimits()
	f.Fuzz(func(t *testing.T, scheme, curve int32, vk, proof, pub []byte) {
		j := verifier.ProofJob{Scheme: verifier.Scheme(scheme), Curve: verifier.Curve(curve), VerifyingKey: vk, Proof: proof, PublicInputs: pub}
		got, err := h.Verify(context.Background(), j)
		if err != nil {
			t.Fatal(err)
		}
		if want := verifier.VerifyProof(j, lim); got != want {
			t.Fatalf("wasm %v, native %v", got, want)
		}
	})
}

// TestZeroConfig: a Config not made by NewConfig still works.
func TestZeroConfig(t *testing.T) {
	h := newHost(t, Config{})
	if v, err := h.Verify(context.Background(), jobs(t)[0].job); err != nil || v.Vote != protocol.VoteApprove {
		t.Fatalf("%v, %v", v, err)
	}
}

// TestBatchVerdictsMatchNative: every job of TestVerdictsMatchNative in
// one CheckBatch call (valid and invalid proofs under shared keys are
// batched together in the module) gets the native engine's verdict on
// that task alone, and so does the native engine's own CheckBatch.
func TestBatchVerdictsMatchNative(t *testing.T) {
	h := newHost(t, NewConfig())
	wasm, native := h.Engine(), keeper.NewNativeEngine()
	ctx := context.Background()
	js := jobs(t)
	tasks := make([]*lightkeeperv1.Task, len(js))
	for i, j := range js {
		tasks[i] = task(i, j.job)
	}
	for name, got := range map[string][]keeper.Verdict{
		"wasm":   wasm.CheckBatch(ctx, tasks),
		"native": native.CheckBatch(ctx, tasks),
	} {
		if len(got) != len(tasks) {
			t.Fatalf("%s: %d verdicts for %d tasks", name, len(got), len(tasks))
		}
		for i, j := range js {
			if want := native.Check(ctx, tasks[i]); got[i] != want {
				t.Errorf("%s: %s: batch %+v, alone %+v", name, j.name, got[i], want)
			}
			if got[i].Kind != j.want {
				t.Errorf("%s: %s: votes %v, want %v", name, j.name, got[i].Kind, j.want)
			}
		}
	}
}
