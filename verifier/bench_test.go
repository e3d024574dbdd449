package verifier_test

import (
	"bytes"
	"crypto/ed25519"
	"fmt"
	"testing"

	"github.com/consensys/gnark/backend/groth16"
	"github.com/consensys/gnark/backend/plonk"
	"github.com/consensys/gnark/backend/witness"

	"github.com/lightkeeper-net/lightkeeper/protocol"
	"github.com/lightkeeper-net/lightkeeper/verifier"
)

// BenchmarkVerifyProof measures a whole job as a keeper runs it: parse the
// key, the proof and the inputs, then verify.
func BenchmarkVerifyProof(b *testing.B) {
	lim := protocol.DefaultLimits()
	for _, c := range combos {
		b.Run(c.String(), func(b *testing.B) {
			k := getKit(b, c)
			job := k.f.Job(k.p)
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				if v := verifier.VerifyProof(job, lim); v.Vote != protocol.VoteApprove {
					b.Fatal(v)
				}
			}
		})
	}
}

// BenchmarkCheckVerifyingKey measures key parsing alone (what the
// coordinator does at registration, and part of every VerifyProof).
func BenchmarkCheckVerifyingKey(b *testing.B) {
	lim := protocol.DefaultLimits()
	for _, c := range combos {
		b.Run(c.String(), func(b *testing.B) {
			vk := getKit(b, c).f.VerifyingKey
			b.ReportAllocs()
			for range b.N {
				if _, err := verifier.CheckVerifyingKey(c.scheme, c.curve, vk, lim); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkGnarkVerify is the same job through gnark's curve-generic API
// (witness.Witness, groth16.Verify, plonk.Verify) without the pre-check: the
// difference to BenchmarkVerifyProof is what the pre-check, the public-input
// parsing and the extra checks on keys cost.
func BenchmarkGnarkVerify(b *testing.B) {
	for _, c := range combos {
		b.Run(c.String(), func(b *testing.B) {
			k := getKit(b, c)
			job := k.f.Job(k.p)
			id := curveID(c.curve)
			b.ReportAllocs()
			for range b.N {
				pub, _ := witness.New(id.ScalarField())
				if err := pub.UnmarshalBinary(job.PublicInputs); err != nil {
					b.Fatal(err)
				}
				var err error
				if c.scheme == verifier.SchemeGroth16 {
					vk, proof := groth16.NewVerifyingKey(id), groth16.NewProof(id)
					vk.ReadFrom(bytes.NewReader(job.VerifyingKey))
					proof.ReadFrom(bytes.NewReader(job.Proof))
					err = groth16.Verify(proof, vk, pub)
				} else {
					vk, proof := plonk.NewVerifyingKey(id), plonk.NewProof(id)
					vk.ReadFrom(bytes.NewReader(job.VerifyingKey))
					proof.ReadFrom(bytes.NewReader(job.Proof))
					err = plonk.Verify(proof, vk, pub)
				}
				if err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkVerifyVote(b *testing.B) {
	key := ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize))
	pub := key.Public().(ed25519.PublicKey)
	var round, result [32]byte
	sig := protocol.SignVote(key, "lightkeeper-bench", round, protocol.VoteApprove, result)
	b.ReportAllocs()
	for range b.N {
		if !protocol.VerifyVote("lightkeeper-bench", round, pub, protocol.VoteApprove, result, sig) {
			b.Fatal("rejected")
		}
	}
}

// BenchmarkVerifyBatch is KeyCache.VerifyBatch on n valid Groth16 proofs
// under one key (warm cache); ns/proof is per proof.
func BenchmarkVerifyBatch(b *testing.B) {
	lim := protocol.DefaultLimits()
	for _, curve := range groth16Curves {
		k := getKit(b, combo{verifier.SchemeGroth16, curve})
		jobs := validJobs(b, k.f, 64)
		cache := verifier.NewKeyCache(4)
		for _, n := range []int{1, 8, 64} {
			b.Run(fmt.Sprintf("groth16/%s/batch=%d", curve, n), func(b *testing.B) {
				for b.Loop() {
					for _, v := range cache.VerifyBatch(jobs[:n], lim) {
						if v.Vote != protocol.VoteApprove {
							b.Fatal(v)
						}
					}
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/proof")
			})
		}
	}
}
