package keeper

import (
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"fmt"
	"github.com/lightkeeper-net/lightkeeper/protocol"
	"testing"
	"time"

	"github.com/lightkeeper-net/lightkeeper/devtools/exampleprog"
	"github.com/lightkeeper-net/lightkeeper/devtools/proofgen"
	lightkeeperv1 "github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1"
	"github.com/lightkeeper-net/lightkeeper/verifier"
)

// proofTasks returns n proof tasks with valid Groth16 BN254 proofs under
// one key, round ids starting at first.
func proofTasks(t *testing.T, f *proofgen.Fixture, n int, first byte) []*lightkeeperv1.Task {
	t.Helper()
	ts := make([]*lightkeeperv1.Task, n)
	for i := range ts {
		p, err := f.Prove(uint64(10 + i))
		if err != nil {
			t.Fatal(err)
		}
		job := f.Job(p)
		ts[i] = &lightkeeperv1.Task{
			RoundId: hex.EncodeToString(make([]byte, 31)) + fmt.Sprintf("%02x", first+byte(i)),
			Kind:    lightkeeperv1.RoundKind_ROUND_KIND_PROOF,
			Payload: &lightkeeperv1.Task_Proof{Proof: &lightkeeperv1.ProofTask{
				Scheme: lightkeeperv1.Scheme(job.Scheme), Curve: lightkeeperv1.Curve(job.Curve),
				VerifyingKey: job.VerifyingKey, Proof: job.Proof, PublicInputs: job.PublicInputs,
			}},
		}
	}
	return ts
}

// TestCheckBatch: CheckBatch gives each task Check's verdict, through the
// program loader too, with a bad proof, a task of no known kind and a
// compute task among valid proofs.
func TestCheckBatch(t *testing.T) {
	f, err := proofgen.New(verifier.SchemeGroth16, verifier.CurveBN254)
	if err != nil {
		t.Fatal(err)
	}
	ts := proofTasks(t, f, 8, 0)
	bad, err := f.Prove(99)
	if err != nil {
		t.Fatal(err)
	}
	ts[2].GetProof().Proof = proofgen.FlipBit(bad).Proof
	ts[2].GetProof().PublicInputs = bad.PublicInputs
	ts = append(ts, &lightkeeperv1.Task{RoundId: ts[0].RoundId})
	mods := examples(t)
	ts = append(ts, exampleprog.Task(mods["sha256sum"], "x", 50_000_000, false, 0x20))

	e := NativeEngine{Limits: protocol.DefaultLimits(), Keys: verifier.NewKeyCache(4)}
	loader := newProgramLoader(e, func(context.Context, string) ([]byte, error) { return nil, fmt.Errorf("no") })
	for name, b := range map[string]BatchEngine{"native": e, "loader": loader} {
		got := b.CheckBatch(context.Background(), ts)
		for i, task := range ts {
			want := e.Check(context.Background(), task)
			if got[i].Kind != want.Kind || got[i].Reason != want.Reason {
				t.Errorf("%s: task %d: batch %v/%v, alone %v/%v", name, i, got[i].Kind, got[i].Reason, want.Kind, want.Reason)
			}
		}
		wantKinds := []lightkeeperv1.VoteKind{1, 1, 2, 1, 1, 1, 1, 1, 3, 1}
		for i, k := range wantKinds {
			if got[i].Kind != k {
				t.Errorf("%s: task %d: %v, want %v", name, i, got[i].Kind, k)
			}
		}
	}
	if n := e.Keys.Len(); n != 1 {
		t.Fatalf("engine cache holds %d keys, want 1", n)
	}
}

// TestGather: a worker takes the tasks already waiting with the first one,
// up to the batch size, each round once.
func TestGather(t *testing.T) {
	f, err := proofgen.New(verifier.SchemeGroth16, verifier.CurveBN254)
	if err != nil {
		t.Fatal(err)
	}
	ts := proofTasks(t, f, 6, 0)
	for _, c := range []struct {
		size, want int
	}{{64, 6}, {4, 4}, {1, 1}} {
		// An hour's window: gather must return because the batch is full
		// or, for size 64, when the context ends after the queue drained.
		k := New("http://127.0.0.1:1", ed25519.NewKeyFromSeed(make([]byte, 32)), NewConfig().WithTaskBatch(c.size, time.Hour))
		queue := make(chan *lightkeeperv1.Task, 16)
		for _, task := range append(ts[1:], ts[1]) { // ts[1] twice
			queue <- task
		}
		ctx, cancel := context.WithCancel(context.Background())
		if c.size == 64 {
			go func() {
				for len(queue) > 0 {
					time.Sleep(time.Millisecond)
				}
				cancel()
			}()
		}
		got := k.gather(ctx, ts[0], queue)
		cancel()
		if len(got) != c.want {
			t.Fatalf("size %d: gathered %d tasks, want %d", c.size, len(got), c.want)
		}
		for i, task := range got {
			if task != ts[i] {
				t.Fatalf("size %d: task %d out of order", c.size, i)
			}
		}
	}
}
