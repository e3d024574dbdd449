package wasmhost

import (
	"context"
	"testing"

	"github.com/lightkeeper-net/lightkeeper/internal/proofgen"
	"github.com/lightkeeper-net/lightkeeper/internal/workload"
	"github.com/lightkeeper-net/lightkeeper/verifier"
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
	lim := verifier.DefaultLimits()
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
								if v, err := e.verify(job); err != nil || v.Vote != verifier.VoteApprove {
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
