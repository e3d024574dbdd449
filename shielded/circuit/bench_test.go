package circuit

import (
	"bytes"
	"testing"

	groth16bn254 "github.com/consensys/gnark/backend/groth16/bn254"

	"github.com/lightkeeper-net/lightkeeper/protocol"
	"github.com/lightkeeper-net/lightkeeper/shielded"
	"github.com/lightkeeper-net/lightkeeper/verifier"
)

// go test -run '^$' -bench . ./shielded/circuit/ (add -short to use gnark's
// faster setup for the keys; the proofs cost the same).

func BenchmarkProve(b *testing.B) {
	k := testKeys(b)
	w := newScenario(b, 9, 20, 0).witness(b, []byte("bench"))
	b.ReportMetric(float64(k.prover.NbConstraints()), "constraints")
	b.ResetTimer()
	for b.Loop() {
		if _, _, err := k.prover.Prove(w); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerify is a keeper's whole check: parse key, proof and inputs,
// then verify (verifier.VerifyProof).
func BenchmarkVerify(b *testing.B) {
	k := testKeys(b)
	w := newScenario(b, 10, 20, 0).witness(b, []byte("bench"))
	proof, public, err := k.prover.Prove(w)
	if err != nil {
		b.Fatal(err)
	}
	job := verifier.ProofJob{Scheme: verifier.SchemeGroth16, Curve: verifier.CurveBN254, VerifyingKey: k.vk, Proof: proof, PublicInputs: public}
	b.ResetTimer()
	for b.Loop() {
		if v := verifier.VerifyProof(job, protocol.DefaultLimits()); v.Vote != protocol.VoteApprove {
			b.Fatal(v)
		}
	}
}

// BenchmarkNewProver is a wallet's start-up: decode the proving key
// (checking every point) and compile the circuit.
func BenchmarkNewProver(b *testing.B) {
	k := testKeys(b)
	b.ReportMetric(float64(len(k.pk)), "pk-bytes")
	b.ReportMetric(float64(len(k.vk)), "vk-bytes")
	b.ResetTimer()
	for b.Loop() {
		if _, err := NewProver(k.pk); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkNewProverRaw is NewProver given the uncompressed encoding
// (WriteRawTo): twice the bytes, no square roots to decompress points.
func BenchmarkNewProverRaw(b *testing.B) {
	k := testKeys(b)
	pk, err := readProvingKey(k.pk)
	if err != nil {
		b.Fatal(err)
	}
	var raw bytes.Buffer
	if _, err := pk.WriteRawTo(&raw); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		if _, err := NewProver(raw.Bytes()); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkReadProvingKeyRaw is the alternative: the uncompressed encoding
// (WriteRawTo) read without subgroup checks (UnsafeReadFrom).
func BenchmarkReadProvingKeyRaw(b *testing.B) {
	k := testKeys(b)
	pk, err := readProvingKey(k.pk)
	if err != nil {
		b.Fatal(err)
	}
	var raw bytes.Buffer
	if _, err := pk.WriteRawTo(&raw); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(raw.Len()), "pk-raw-bytes")
	b.ResetTimer()
	for b.Loop() {
		var p groth16bn254.ProvingKey
		if _, err := p.UnsafeReadFrom(bytes.NewReader(raw.Bytes())); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkTreeAppend is the state machine's cost per deposit (depth 20).
func BenchmarkTreeAppend(b *testing.B) {
	t := shielded.NewDefaultTree()
	leaf := shielded.ScalarFromUint64(7)
	for b.Loop() {
		if _, _, err := t.Append(leaf); err != nil {
			b.Fatal(err)
		}
	}
}
