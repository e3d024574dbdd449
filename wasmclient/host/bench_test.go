package wasmhost

import (
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"fmt"
	mrand "math/rand/v2"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/lightkeeper-net/lightkeeper/devtools/cputime"
	"github.com/lightkeeper-net/lightkeeper/devtools/exampleprog"
	"github.com/lightkeeper-net/lightkeeper/devtools/proofgen"
	"github.com/lightkeeper-net/lightkeeper/devtools/workload"
	"github.com/lightkeeper-net/lightkeeper/internal/poolkeys"
	"github.com/lightkeeper-net/lightkeeper/keeper"
	lightkeeperv1 "github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1"
	"github.com/lightkeeper-net/lightkeeper/protocol"
	"github.com/lightkeeper-net/lightkeeper/shielded"
	"github.com/lightkeeper-net/lightkeeper/shielded/circuit"
	"github.com/lightkeeper-net/lightkeeper/verifier"
	"github.com/lightkeeper-net/lightkeeper/verifier/compute"
)

// BenchmarkVerify measures one whole job (parse key, proof and inputs,
// then verify) natively and inside the module, side by side in one run:
//
//	go test -run '^$' -bench BenchmarkVerify ./wasmclient/host/
//
// The wasm figures include the host's copy of the job into the module
// and of the verdict out; the module runs on one instance, as each
// keeper check does.
func BenchmarkVerify(b *testing.B) {
	jobs := make([]verifier.ProofJob, len(workload.Combos))
	for i, c := range workload.Combos {
		f, err := proofgen.New(c.Scheme, c.Curve)
		if err != nil {
			b.Fatal(err)
		}
		p, err := f.Prove(11)
		if err != nil {
			b.Fatal(err)
		}
		jobs[i] = f.Job(p)
	}
	h := newHost(b, NewConfig().WithMaxInstances(1))
	ctx := context.Background()
	lim := protocol.DefaultLimits()
	engines := []struct {
		name   string
		verify func(verifier.ProofJob) (verifier.Verdict, error)
	}{
		{"native", func(j verifier.ProofJob) (verifier.Verdict, error) { return verifier.VerifyProof(j, lim), nil }},
		{"wasm", func(j verifier.ProofJob) (verifier.Verdict, error) { return h.Verify(ctx, j) }},
	}
	for _, e := range engines {
		b.Run(e.name, func(b *testing.B) {
			for _, scheme := range []verifier.Scheme{verifier.SchemeGroth16, verifier.SchemePlonk} {
				b.Run(scheme.String(), func(b *testing.B) {
					for _, curve := range []verifier.Curve{verifier.CurveBN254, verifier.CurveBLS12_381} {
						var job verifier.ProofJob
						for i, c := range workload.Combos {
							if c.Scheme == scheme && c.Curve == curve {
								job = jobs[i]
							}
						}
						b.Run(curve.String(), func(b *testing.B) {
							b.ReportAllocs()
							for b.Loop() {
								if v, err := e.verify(job); err != nil || v.Vote != protocol.VoteApprove {
									b.Fatal(v, err)
								}
							}
						})
					}
				})
			}
		})
	}
}

// BenchmarkVerifyWithdrawal measures a keeper's whole check of one
// WITHDRAWAL task, natively (keeper.NativeEngine) and with the proof
// verified inside the module (Engine), side by side in one run:
//
//	go test -run '^$' -bench BenchmarkVerifyWithdrawal ./wasmclient/host/
//
// The check is keeper.WithdrawalJob (the request's root looked up in the
// task's list of the pool's last 100 roots, the four public inputs built
// from the request), then the Groth16/BN254 verification of the withdrawal
// circuit's proof against the pool key: natively in this process, or in
// the module on one instance. Set-up (not timed): the pool keys from
// poolkeys.Fast (gnark's groth16.Setup; verification costs the same as
// with circuit.Setup's keys), 100 deposits, one proof.
func BenchmarkVerifyWithdrawal(b *testing.B) {
	pk, vk, err := poolkeys.Fast()
	if err != nil {
		b.Fatal(err)
	}
	prover, err := circuit.NewProver(pk)
	if err != nil {
		b.Fatal(err)
	}
	rng := mrand.NewChaCha8([32]byte{'w'})
	wt, err := shielded.NewWalletTree(circuit.Depth)
	if err != nil {
		b.Fatal(err)
	}
	const deposits, mine = shielded.DefaultRootHistory, 41
	var note shielded.Note
	var roots [][]byte
	for i := range deposits {
		n, err := shielded.NewNote(rng, uint64(100+i))
		if err != nil {
			b.Fatal(err)
		}
		_, root, err := wt.Append(n.Commitment())
		if err != nil {
			b.Fatal(err)
		}
		rb := root.Bytes()
		roots = append(roots, rb[:])
		if i == mine {
			note = n
		}
	}
	path, err := wt.Path(mine)
	if err != nil {
		b.Fatal(err)
	}
	recipient := ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize)).Public().(ed25519.PublicKey)
	proof, _, err := prover.Prove(circuit.Witness{Note: note, Path: path, Root: wt.Root(), Recipient: shielded.RecipientFromAddress(recipient)})
	if err != nil {
		b.Fatal(err)
	}
	root, nf := wt.Root().Bytes(), note.Nullifier(mine).Bytes()
	task := &lightkeeperv1.Task{Kind: lightkeeperv1.RoundKind_ROUND_KIND_WITHDRAWAL, Payload: &lightkeeperv1.Task_Withdrawal{
		Withdrawal: &lightkeeperv1.WithdrawalTask{
			Request: &lightkeeperv1.WithdrawalRequest{Root: root[:], Nullifier: nf[:], Amount: note.Amount,
				Recipient: hex.EncodeToString(recipient), Proof: proof},
			VerifyingKey: vk,
			Roots:        roots, // the proof's root is the newest: the whole list is scanned
		}}}
	h := newHost(b, NewConfig().WithMaxInstances(1))
	ctx := context.Background()
	for _, e := range []keeper.Engine{keeper.NewNativeEngine(), h.Engine()} {
		b.Run(e.Name(), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if v := e.Check(ctx, task); v.Kind != lightkeeperv1.VoteKind_VOTE_KIND_APPROVE {
					b.Fatal(v)
				}
			}
		})
	}
}

// BenchmarkLoad measures starting a host (compile the module, instantiate
// it, run _initialize): "cold" compiles into an empty cache directory
// every time, "cached" loads machine code from a warm one.
func BenchmarkLoad(b *testing.B) {
	ctx := context.Background()
	load := func(b *testing.B, dir string) {
		h, err := Load(ctx, wasmFile, NewConfig().WithCompilationCacheDir(dir))
		if err != nil {
			b.Fatal(err)
		}
		h.Close(ctx)
	}
	b.Run("cold", func(b *testing.B) {
		for b.Loop() {
			load(b, b.TempDir())
		}
	})
	b.Run("cached", func(b *testing.B) {
		dir := b.TempDir()
		load(b, dir)
		for b.Loop() {
			load(b, dir)
		}
	})
}

// BenchmarkInstantiate measures adding one instance to a running host:
// instantiate the compiled module and run _initialize (the Go runtime's
// start and package initialisers).
func BenchmarkInstantiate(b *testing.B) {
	h := newHost(b, NewConfig())
	ctx := context.Background()
	for b.Loop() {
		in, err := h.instantiate(ctx)
		if err != nil {
			b.Fatal(err)
		}
		in.mod.Close(ctx)
	}
}

// BenchmarkCompute measures one compute job, primes below 10,000 (the
// workload's "primes/10000", 3.47 M fuel), natively on wazero's compiler
// and interpreter and inside the module on its interpreter, each as a
// first run and as a repeated one:
//
//	go test -run '^$' -bench BenchmarkCompute -benchtime 3x ./wasmclient/host/
//
// "first" is what a keeper pays the first time it meets the program:
// compute.Check, compiling the metered module and the run (natively: a
// new engine; in the module: a new instance, which the host then keeps).
// "repeated" runs the checked and compiled program again. Besides the
// wall time, each reports cpu-ns/op, the process's processor time in the
// timed part, which other work on a shared machine inflates less.
func BenchmarkCompute(b *testing.B) {
	mods, err := exampleprog.Modules(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	module, input, fuel := mods["primes"], []byte("10000"), uint64(200_000_000)
	lim := compute.DefaultLimits()
	ctx := context.Background()
	// loop runs one timed job per iteration after an untimed setup, and
	// reports its fuel and processor time.
	loop := func(b *testing.B, setup func(), job func() (compute.Result, error)) {
		var cpu time.Duration
		for b.Loop() {
			if setup != nil {
				b.StopTimer()
				setup()
				b.StartTimer()
			}
			c0 := cputime.Process()
			r, err := job()
			cpu += cputime.Process() - c0
			if err != nil || r.Trap != compute.TrapNone || r.FuelUsed == 0 {
				b.Fatal(r, err)
			}
			b.ReportMetric(float64(r.FuelUsed), "fuel/op")
		}
		if cputime.Process() >= 0 {
			b.ReportMetric(float64(cpu)/float64(b.N), "cpu-ns/op")
		}
	}
	for _, kind := range []compute.EngineKind{compute.EngineCompiler, compute.EngineInterpreter} {
		b.Run("native-"+kind.String(), func(b *testing.B) {
			b.Run("first", func(b *testing.B) {
				loop(b, nil, func() (compute.Result, error) {
					p, err := compute.Check(module, lim)
					if err != nil {
						return compute.Result{}, err
					}
					e, err := compute.NewEngine(ctx, compute.EngineConfig{Kind: kind})
					if err != nil {
						return compute.Result{}, err
					}
					defer e.Close(ctx)
					return e.Run(ctx, p, input, fuel, [32]byte{1}, compute.Options{})
				})
			})
			b.Run("repeated", func(b *testing.B) {
				p, err := compute.Check(module, lim)
				if err != nil {
					b.Fatal(err)
				}
				e, err := compute.NewEngine(ctx, compute.EngineConfig{Kind: kind})
				if err != nil {
					b.Fatal(err)
				}
				defer e.Close(ctx)
				if _, err := e.Run(ctx, p, input, fuel, [32]byte{1}, compute.Options{}); err != nil {
					b.Fatal(err)
				}
				loop(b, nil, func() (compute.Result, error) {
					return e.Run(ctx, p, input, fuel, [32]byte{1}, compute.Options{})
				})
			})
		})
	}
	b.Run("wasm-interpreter", func(b *testing.B) {
		h := newHost(b, NewConfig().WithMaxInstances(1))
		// fresh replaces the host's one instance by a new one, which holds
		// no program; its start (15-25 ms) is not timed.
		fresh := func() {
			in, err := h.acquire(ctx)
			if err != nil {
				b.Fatal(err)
			}
			in.broken = true
			h.release(in)
			if in, err = h.acquire(ctx); err != nil {
				b.Fatal(err)
			}
			h.release(in)
		}
		b.Run("first", func(b *testing.B) {
			loop(b, fresh, func() (compute.Result, error) {
				return h.RunCompute(ctx, module, lim, input, fuel, [32]byte{1})
			})
		})
		// As a keeper runs it: with a deadline, which the module keeps
		// with fuel, so that a run on an instance that has not timed the
		// program yet starts with a probe of probeFuel.
		b.Run("first-with-deadline", func(b *testing.B) {
			loop(b, fresh, func() (compute.Result, error) {
				dctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
				defer cancel()
				return h.RunCompute(dctx, module, lim, input, fuel, [32]byte{1})
			})
		})
		b.Run("repeated", func(b *testing.B) {
			if _, err := h.RunCompute(ctx, module, lim, input, fuel, [32]byte{1}); err != nil {
				b.Fatal(err)
			}
			loop(b, nil, func() (compute.Result, error) {
				return h.RunCompute(ctx, module, lim, input, fuel, [32]byte{1})
			})
		})
	})
}

// BenchmarkVerifyBatch measures the per-proof cost of Groth16 proofs
// checked together under one key, natively and inside the module, side by
// side in one run:
//
//	go test -run '^$' -bench BenchmarkVerifyBatch ./wasmclient/host/
//
// native/uncached is VerifyProof, one job at a time, decoding the key
// each time (what every keeper did before the key cache), and
// wasm-baseline/uncached the same inside a module built from an earlier
// commit, when $LIGHTKEEPER_WASM_BASELINE names one (its lk_verify has no
// key cache; docs/benchmarks.md shows how it was built); the batch=N
// cases use a warm key cache (KeyCache.VerifyBatch natively, one
// lk_verify_batch call in the module, jobs copied in and verdicts out
// included). ns/proof is ns/op divided by the batch size.
//
// Builds of the module to compare with the default one (docs/benchmarks.md,
// "wasm build alternatives") are named in $LIGHTKEEPER_WASM_ALT as
// name=path pairs separated by commas; each gets wasm-NAME/batch=N cases
// in the same run. $LIGHTKEEPER_WASM_INTERP=1 adds the module under test
// on wazero's interpreter (wasm-interp/batch=N).
func BenchmarkVerifyBatch(b *testing.B) {
	h := newHost(b, NewConfig().WithMaxInstances(1))
	type alt struct {
		name string
		h    *Host
	}
	var alts []alt
	if list := os.Getenv("LIGHTKEEPER_WASM_ALT"); list != "" {
		for _, kv := range strings.Split(list, ",") {
			name, path, ok := strings.Cut(kv, "=")
			if !ok {
				b.Fatalf("LIGHTKEEPER_WASM_ALT: %q is not name=path", kv)
			}
			a, err := Load(context.Background(), path, NewConfig().WithMaxInstances(1).WithCompilationCacheDir(cacheDir))
			if err != nil {
				b.Fatalf("%s: %v", name, err)
			}
			defer a.Close(context.Background())
			alts = append(alts, alt{name, a})
		}
	}
	if os.Getenv("LIGHTKEEPER_WASM_INTERP") == "1" {
		cfg := NewConfig().WithMaxInstances(1)
		cfg.interpreter = true
		a, err := Load(context.Background(), wasmFile, cfg)
		if err != nil {
			b.Fatalf("interpreter: %v", err)
		}
		defer a.Close(context.Background())
		alts = append(alts, alt{"interp", a})
	}
	var base *Host
	if path := os.Getenv("LIGHTKEEPER_WASM_BASELINE"); path != "" {
		var err error
		if base, err = Load(context.Background(), path, NewConfig().WithMaxInstances(1).WithCompilationCacheDir(cacheDir)); err != nil {
			b.Fatal(err)
		}
		defer base.Close(context.Background())
	}
	ctx := context.Background()
	lim := protocol.DefaultLimits()
	for _, curve := range []verifier.Curve{verifier.CurveBN254, verifier.CurveBLS12_381} {
		f, err := proofgen.New(verifier.SchemeGroth16, curve)
		if err != nil {
			b.Fatal(err)
		}
		jobs := make([]verifier.ProofJob, 64)
		for i := range jobs {
			p, err := f.Prove(uint64(1000 + i))
			if err != nil {
				b.Fatal(err)
			}
			jobs[i] = f.Job(p)
		}
		cache := verifier.NewKeyCache(4)
		run := func(name string, n int, verify func([]verifier.ProofJob) ([]verifier.Verdict, error)) {
			b.Run("groth16/"+curve.String()+"/"+name, func(b *testing.B) {
				for b.Loop() {
					vs, err := verify(jobs[:n])
					if err != nil {
						b.Fatal(err)
					}
					for _, v := range vs {
						if v.Vote != protocol.VoteApprove {
							b.Fatal(v)
						}
					}
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/proof")
			})
		}
		run("native/uncached", 1, func(js []verifier.ProofJob) ([]verifier.Verdict, error) {
			return []verifier.Verdict{verifier.VerifyProof(js[0], lim)}, nil
		})
		if base != nil {
			run("wasm-baseline/uncached", 1, func(js []verifier.ProofJob) ([]verifier.Verdict, error) {
				v, err := base.Verify(ctx, js[0])
				return []verifier.Verdict{v}, err
			})
		}
		for _, n := range []int{1, 8, 64} {
			run(fmt.Sprintf("native/batch=%d", n), n, func(js []verifier.ProofJob) ([]verifier.Verdict, error) {
				return cache.VerifyBatch(js, lim), nil
			})
			run(fmt.Sprintf("wasm/batch=%d", n), n, func(js []verifier.ProofJob) ([]verifier.Verdict, error) {
				return h.VerifyBatch(ctx, js)
			})
			for _, a := range alts {
				run(fmt.Sprintf("wasm-%s/batch=%d", a.name, n), n, func(js []verifier.ProofJob) ([]verifier.Verdict, error) {
					return a.h.VerifyBatch(ctx, js)
				})
			}
		}
	}
}
