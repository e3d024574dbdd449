package verifier_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/lightkeeper-net/lightkeeper/devtools/proofgen"
	"github.com/lightkeeper-net/lightkeeper/protocol"
	"github.com/lightkeeper-net/lightkeeper/verifier"
)

// internalError marks a recovered panic; fuzzing must never produce one.
const internalError = "internal verifier error"

func FuzzVerifyProof(f *testing.F) {
	for _, c := range combos {
		k := getKit(f, c)
		seeds := []verifier.ProofJob{
			k.f.Job(k.p),
			k.f.JSONJob(k.p),
			k.f.Job(proofgen.WrongPublicInput(k.p, c.curve)),
			k.f.Job(proofgen.FlipBit(k.p)),
			k.f.Job(proofgen.Truncate(k.p)),
			k.other.Job(k.p),
			k.committed.Job(k.pc),
			k.committed.Job(proofgen.FlipBit(k.pc)),
		}
		for _, j := range seeds {
			f.Add(uint8(j.Scheme), uint8(j.Curve), j.VerifyingKey, j.Proof, j.PublicInputs)
		}
	}
	lim := protocol.DefaultLimits()
	f.Fuzz(func(t *testing.T, scheme, curve uint8, vk, proof, inputs []byte) {
		job := verifier.ProofJob{
			Scheme: verifier.Scheme(scheme), Curve: verifier.Curve(curve),
			VerifyingKey: vk, Proof: proof, PublicInputs: inputs,
		}
		v := verifier.VerifyProof(job, lim)
		switch v.Vote {
		case protocol.VoteApprove:
			if v.Reason != verifier.ReasonNone {
				t.Fatalf("approve with reason: %v", v)
			}
			// An approved job has a key that registration accepts, with
			// as many public inputs as the job carries.
			n, err := verifier.CheckVerifyingKey(job.Scheme, job.Curve, vk, lim)
			if err != nil {
				t.Fatalf("approved with a key CheckVerifyingKey refuses: %v", err)
			}
			if m, err := verifier.CheckPublicInputs(job.Curve, inputs, lim); err != nil || m != n {
				t.Fatalf("approved with %d public inputs (%v), key takes %d", m, err, n)
			}
		case protocol.VoteReject:
			if v.Reason == verifier.ReasonNone || v.Detail == "" {
				t.Fatalf("reject without reason or detail: %v", v)
			}
		default:
			t.Fatalf("verifier failed: %v", v)
		}
		if again := verifier.VerifyProof(job, lim); again != v {
			t.Fatalf("not deterministic: %v then %v", v, again)
		}
	})
}

func FuzzCheckPublicInputs(f *testing.F) {
	for _, c := range combos[:2] {
		k := getKit(f, c)
		f.Add(uint8(c.curve), k.p.PublicInputs)
		f.Add(uint8(c.curve), k.p.PublicJSON)
		f.Add(uint8(c.curve), proofgen.WrongPublicInput(k.p, c.curve).PublicInputs)
	}
	for _, s := range []string{`[]`, `["0"]`, ` ["1","2"] `, `["01"]`, `[1]`, `["-1"]`, `[`, `]`, `null`, `{}`,
		`["21888242871839275222246405745257275088548364400416034343698204186575808495617"]`,
		`["52435875175126190479447740508185965837690552500527637822603658699938581184513"]`} {
		f.Add(uint8(verifier.CurveBN254), []byte(s))
		f.Add(uint8(verifier.CurveBLS12_381), []byte(s))
	}
	f.Add(uint8(verifier.CurveBN254), []byte{0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1})
	f.Add(uint8(verifier.CurveBN254), []byte{0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff})
	f.Add(uint8(9), []byte(`[]`))
	lim := protocol.DefaultLimits()
	f.Fuzz(func(t *testing.T, curve uint8, b []byte) {
		n, err := verifier.CheckPublicInputs(verifier.Curve(curve), b, lim)
		if err != nil {
			if n != 0 {
				t.Fatalf("n = %d with error %v", n, err)
			}
			r := verifier.ReasonOf(err)
			if r != verifier.ReasonMalformedPublicInputs && r != verifier.ReasonOversized && r != verifier.ReasonUnsupported {
				t.Fatalf("unexpected reason: %v", err)
			}
			if strings.Contains(err.Error(), internalError) {
				t.Fatal(err)
			}
			return
		}
		if n < 0 || n > lim.MaxPublicInputs {
			t.Fatalf("n = %d", n)
		}
		if !bytes.HasPrefix(bytes.TrimLeft(b, " \t\r\n"), []byte("[")) && len(b) != 12+32*n {
			t.Fatalf("binary witness of %d bytes accepted with %d values", len(b), n)
		}
	})
}

func FuzzCheckVerifyingKey(f *testing.F) {
	for _, c := range combos {
		k := getKit(f, c)
		for _, fx := range []*proofgen.Fixture{k.f, k.committed} {
			vk := fx.VerifyingKey
			f.Add(uint8(c.scheme), uint8(c.curve), vk)
			f.Add(uint8(c.scheme), uint8(c.curve), vk[:len(vk)-1])
			f.Add(uint8(c.scheme), uint8(c.curve), append(bytes.Clone(vk), 0))
		}
	}
	f.Add(uint8(1), uint8(1), []byte{})
	f.Add(uint8(2), uint8(2), bytes.Repeat([]byte{0xff}, 64))
	lim := protocol.DefaultLimits()
	f.Fuzz(func(t *testing.T, scheme, curve uint8, vk []byte) {
		n, err := verifier.CheckVerifyingKey(verifier.Scheme(scheme), verifier.Curve(curve), vk, lim)
		if err != nil {
			if n != 0 {
				t.Fatalf("n = %d with error %v", n, err)
			}
			r := verifier.ReasonOf(err)
			if r != verifier.ReasonMalformedVerifyingKey && r != verifier.ReasonOversized && r != verifier.ReasonUnsupported {
				t.Fatalf("unexpected reason: %v", err)
			}
			if strings.Contains(err.Error(), internalError) {
				t.Fatal(err)
			}
			return
		}
		if n < 0 || n > lim.MaxPublicInputs {
			t.Fatalf("n = %d", n)
		}
		if again, err := verifier.CheckVerifyingKey(verifier.Scheme(scheme), verifier.Curve(curve), vk, lim); again != n || err != nil {
			t.Fatalf("not deterministic: %d then %d, %v", n, again, err)
		}
	})
}
