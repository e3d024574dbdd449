package snarkjs_test

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lightkeeper-net/lightkeeper/protocol"
	"github.com/lightkeeper-net/lightkeeper/verifier"
	"github.com/lightkeeper-net/lightkeeper/verifier/snarkjs"
)

// testdata holds two circuits' material exactly as snarkjs 0.7.6 wrote it
// (circom2 0.2.23, a small powers of tau): mul (c = a·b, public c = 33) and
// range (x < 2¹⁶, public y = x² + x + 7). The tests of tests/clients_test.go
// make fresh material at test time; these are the fixed seeds.
func read(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func convert(t *testing.T, circuit string) *snarkjs.Material {
	t.Helper()
	m, err := snarkjs.Convert(read(t, circuit+"_vk.json"), read(t, circuit+"_proof.json"), read(t, circuit+"_public.json"))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func verify(m *snarkjs.Material) verifier.Verdict {
	return verifier.VerifyProof(verifier.ProofJob{
		Scheme: verifier.SchemeGroth16, Curve: verifier.CurveBN254,
		VerifyingKey: m.VerifyingKey, Proof: m.Proof, PublicInputs: m.Public,
	}, protocol.DefaultLimits())
}

func TestConvertVerifies(t *testing.T) {
	for _, c := range []string{"mul", "range"} {
		m := convert(t, c)
		if v := verify(m); v.Vote != protocol.VoteApprove {
			t.Fatalf("%s: converted proof not approved: %+v", c, v)
		}
		if n, err := verifier.CheckVerifyingKey(verifier.SchemeGroth16, verifier.CurveBN254, m.VerifyingKey, protocol.DefaultLimits()); err != nil || n != 1 {
			t.Fatalf("%s: key: %d inputs, %v", c, n, err)
		}
		// Deterministic: the same JSON, the same bytes (and key id).
		if again := convert(t, c); string(again.VerifyingKey) != string(m.VerifyingKey) || string(again.Proof) != string(m.Proof) {
			t.Fatalf("%s: conversion is not deterministic", c)
		}
	}
}

// TestInvalidRejected: each kind of invalid proof converts (it is well
// formed) and the verifier rejects it with the right reason.
func TestInvalidRejected(t *testing.T) {
	mul, rng := convert(t, "mul"), convert(t, "range")
	cases := map[string]struct {
		m    snarkjs.Material
		want verifier.RejectReason
	}{
		"wrong public input":    {snarkjs.Material{VerifyingKey: mul.VerifyingKey, Proof: mul.Proof, Public: []byte(`["34"]`)}, verifier.ReasonInvalidProof},
		"proof for another key": {snarkjs.Material{VerifyingKey: mul.VerifyingKey, Proof: rng.Proof, Public: rng.Public}, verifier.ReasonInvalidProof},
		"wrong input count":     {snarkjs.Material{VerifyingKey: mul.VerifyingKey, Proof: mul.Proof, Public: []byte(`["33","1"]`)}, verifier.ReasonWrongInputCount},
	}
	// A tampered proof point: pi_a replaced by another point on the curve
	// (the generator), so it still converts.
	var p map[string]any
	if err := json.Unmarshal(read(t, "mul_proof.json"), &p); err != nil {
		t.Fatal(err)
	}
	p["pi_a"] = []string{"1", "2", "1"}
	b, _ := json.Marshal(p)
	tampered, err := snarkjs.Proof(b)
	if err != nil {
		t.Fatal(err)
	}
	cases["tampered proof point"] = struct {
		m    snarkjs.Material
		want verifier.RejectReason
	}{snarkjs.Material{VerifyingKey: mul.VerifyingKey, Proof: tampered, Public: mul.Public}, verifier.ReasonInvalidProof}
	for name, c := range cases {
		v := verify(&c.m)
		if v.Vote != protocol.VoteReject || v.Reason != c.want {
			t.Errorf("%s: %+v, want REJECT %v", name, v, c.want)
		}
	}
}

// TestMalformedNamesField: anything malformed is refused with an error
// naming the file and the field.
func TestMalformedNamesField(t *testing.T) {
	vk, proof := read(t, "mul_vk.json"), read(t, "mul_proof.json")
	edit := func(b []byte, f func(m map[string]any)) []byte {
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		f(m)
		out, _ := json.Marshal(m)
		return out
	}
	cases := []struct {
		name string
		conv func() error
		want string
	}{
		{"vk not json", func() error { _, err := snarkjs.VerifyingKey([]byte("{")); return err }, "verification_key.json: not valid JSON"},
		{"vk plonk", func() error {
			_, err := snarkjs.VerifyingKey(edit(vk, func(m map[string]any) { m["protocol"] = "plonk" }))
			return err
		}, "protocol: \"plonk\" is not supported"},
		{"vk curve", func() error {
			_, err := snarkjs.VerifyingKey(edit(vk, func(m map[string]any) { m["curve"] = "bls12381" }))
			return err
		}, "curve:"},
		{"vk nPublic", func() error {
			_, err := snarkjs.VerifyingKey(edit(vk, func(m map[string]any) { m["nPublic"] = 2 }))
			return err
		}, "IC: 2 points, want nPublic + 1 = 3"},
		{"vk beta coordinate", func() error {
			_, err := snarkjs.VerifyingKey(edit(vk, func(m map[string]any) { m["vk_beta_2"].([]any)[0].([]any)[1] = "x1" }))
			return err
		}, "vk_beta_2[0][1]: \"x1\" is not a canonical decimal number"},
		{"vk gamma off curve", func() error {
			_, err := snarkjs.VerifyingKey(edit(vk, func(m map[string]any) { m["vk_gamma_2"].([]any)[0].([]any)[0] = "5" }))
			return err
		}, "vk_gamma_2: not a point of BN254's G2 twist"},
		{"vk delta swapped c0 c1", func() error {
			_, err := snarkjs.VerifyingKey(edit(vk, func(m map[string]any) {
				x := m["vk_delta_2"].([]any)[0].([]any)
				x[0], x[1] = x[1], x[0]
			}))
			return err
		}, "vk_delta_2: not a point"},
		{"vk IC z", func() error {
			_, err := snarkjs.VerifyingKey(edit(vk, func(m map[string]any) { m["IC"].([]any)[1].([]any)[2] = "2" }))
			return err
		}, "IC[1][2]: z must be 1"},
		{"vk alpha missing", func() error {
			_, err := snarkjs.VerifyingKey(edit(vk, func(m map[string]any) { delete(m, "vk_alpha_1") }))
			return err
		}, "vk_alpha_1: missing"},
		{"vk IC type", func() error {
			_, err := snarkjs.VerifyingKey(edit(vk, func(m map[string]any) { m["IC"] = 7 }))
			return err
		}, "IC: a JSON number"},
		{"proof pi_a off curve", func() error {
			_, err := snarkjs.Proof(edit(proof, func(m map[string]any) { m["pi_a"] = []string{"1", "3", "1"} }))
			return err
		}, "proof.json: pi_a: not a point of BN254's G1"},
		{"proof pi_b short", func() error {
			_, err := snarkjs.Proof(edit(proof, func(m map[string]any) { m["pi_b"] = m["pi_b"].([]any)[:2] }))
			return err
		}, "pi_b: 2 elements, want 3"},
		{"proof pi_c above p", func() error {
			_, err := snarkjs.Proof(edit(proof, func(m map[string]any) {
				m["pi_c"].([]any)[0] = "21888242871839275222246405745257275088696311157297823662689037894645226208583"
			}))
			return err
		}, "pi_c[0]: not below the field modulus"},
		{"public not a list", func() error { _, err := snarkjs.Public([]byte(`{"a":1}`)); return err }, "public.json"},
		{"public above r", func() error {
			_, err := snarkjs.Public([]byte(`["21888242871839275222246405745257275088548364400416034343698204186575808495617"]`))
			return err
		}, "public.json: [0]: not below the field modulus"},
		{"public number", func() error { _, err := snarkjs.Public([]byte(`[33]`)); return err }, "[0]: not a string"},
	}
	for _, c := range cases {
		err := c.conv()
		var fe *snarkjs.FieldError
		if err == nil || !errors.As(err, &fe) || !errors.Is(err, snarkjs.ErrMalformed) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want a FieldError containing %q", c.name, err, c.want)
		}
	}
}

// FuzzConvert: the converter never panics, and whatever it accepts the
// verifier decodes (a key it accepts is a key gnark reads back).
func FuzzConvert(f *testing.F) {
	for _, c := range []string{"mul", "range"} {
		f.Add(read(f, c+"_vk.json"), read(f, c+"_proof.json"), read(f, c+"_public.json"))
	}
	f.Add([]byte(`{"protocol":"groth16","curve":"bn128","nPublic":0,"IC":[["0","1","0"]]}`), []byte(`{"pi_a":["0","1","0"]}`), []byte(`[]`))
	f.Fuzz(func(t *testing.T, vk, proof, public []byte) {
		if k, err := snarkjs.VerifyingKey(vk); err == nil {
			if _, err := verifier.CheckVerifyingKey(verifier.SchemeGroth16, verifier.CurveBN254, k, protocol.DefaultLimits()); err != nil {
				t.Fatalf("converted key refused by the verifier: %v", err)
			}
		} else if !errors.Is(err, snarkjs.ErrMalformed) {
			t.Fatalf("key: error without ErrMalformed: %v", err)
		}
		if _, err := snarkjs.Proof(proof); err != nil && !errors.Is(err, snarkjs.ErrMalformed) {
			t.Fatalf("proof: error without ErrMalformed: %v", err)
		}
		if p, err := snarkjs.Public(public); err == nil {
			if again, err := snarkjs.Public(p); err != nil || string(again) != string(p) {
				t.Fatalf("canonical public inputs not stable: %s -> %s, %v", p, again, err)
			}
		} else if !errors.Is(err, snarkjs.ErrMalformed) {
			t.Fatalf("public: error without ErrMalformed: %v", err)
		}
	})
}
