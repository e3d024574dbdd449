package proofgen

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/consensys/gnark/backend/groth16"
	"github.com/consensys/gnark/backend/plonk"
	"github.com/consensys/gnark/backend/witness"

	"github.com/lightkeeper-net/lightkeeper/coordinator/challenge/keys"
	"github.com/lightkeeper-net/lightkeeper/verifier"
)

var combos = []struct {
	scheme verifier.Scheme
	curve  verifier.Curve
}{
	{verifier.SchemeGroth16, verifier.CurveBN254},
	{verifier.SchemeGroth16, verifier.CurveBLS12_381},
	{verifier.SchemePlonk, verifier.CurveBN254},
	{verifier.SchemePlonk, verifier.CurveBLS12_381},
}

// gnarkVerify checks a proof with gnark's own verifier, independently of
// package verifier.
func gnarkVerify(t *testing.T, f *Fixture, p Proof) error {
	t.Helper()
	id, _ := keys.CurveID(f.Curve)
	pub, err := witness.New(id.ScalarField())
	if err != nil {
		t.Fatal(err)
	}
	if err := pub.UnmarshalBinary(p.PublicInputs); err != nil {
		return err
	}
	switch f.Scheme {
	case verifier.SchemeGroth16:
		vk, proof := groth16.NewVerifyingKey(id), groth16.NewProof(id)
		if _, err := vk.ReadFrom(bytes.NewReader(f.VerifyingKey)); err != nil {
			t.Fatal(err)
		}
		if _, err := proof.ReadFrom(bytes.NewReader(p.Proof)); err != nil {
			return err
		}
		return groth16.Verify(proof, vk, pub)
	default:
		vk, proof := plonk.NewVerifyingKey(id), plonk.NewProof(id)
		if _, err := vk.ReadFrom(bytes.NewReader(f.VerifyingKey)); err != nil {
			t.Fatal(err)
		}
		if _, err := proof.ReadFrom(bytes.NewReader(p.Proof)); err != nil {
			return err
		}
		return plonk.Verify(proof, vk, pub)
	}
}

func TestFixtures(t *testing.T) {
	for _, c := range combos {
		for _, commit := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/%s/commit=%v", c.scheme, c.curve, commit), func(t *testing.T) {
				f, err := NewFromConfig(Config{Scheme: c.scheme, Curve: c.curve, Commit: commit})
				if err != nil {
					t.Fatal(err)
				}
				if f.NumPublic != 2 || len(f.VerifyingKey) == 0 {
					t.Fatalf("bad fixture: %+v", f)
				}
				p1, err := f.Prove(3)
				if err != nil {
					t.Fatal(err)
				}
				p2, err := f.Prove(4)
				if err != nil {
					t.Fatal(err)
				}
				if bytes.Equal(p1.PublicInputs, p2.PublicInputs) {
					t.Fatal("different secrets gave the same public inputs")
				}
				if got := string(p1.PublicJSON); got != `["35","16"]` {
					t.Fatalf("JSON = %s, want [\"35\",\"16\"] (3³+3+5, 3²+7)", got)
				}
				if err := gnarkVerify(t, f, p1); err != nil {
					t.Fatalf("gnark rejects a fresh proof: %v", err)
				}
				if err := gnarkVerify(t, f, WrongPublicInput(p1, c.curve)); err == nil {
					t.Fatal("gnark accepts a wrong public input")
				}
				if err := gnarkVerify(t, f, FlipBit(p1)); err == nil {
					t.Fatal("gnark accepts a flipped bit")
				}
				if err := gnarkVerify(t, f, Truncate(p1)); err == nil {
					t.Fatal("gnark accepts a truncated proof")
				}
				// Corruptions must not alias the original.
				before := bytes.Clone(p1.Proof)
				_ = FlipBit(p1)
				if !bytes.Equal(before, p1.Proof) {
					t.Fatal("FlipBit modified its argument")
				}
			})
		}
	}
}

func TestNewWithSize(t *testing.T) {
	for _, s := range []verifier.Scheme{verifier.SchemeGroth16, verifier.SchemePlonk} {
		f, err := NewWithSize(s, verifier.CurveBN254, 200)
		if err != nil {
			t.Fatal(err)
		}
		if n := f.Constraints(); n < 195 || n > 205 {
			t.Fatalf("%s: asked for ~200 constraints, got %d", s, n)
		}
		p, err := f.Prove(11)
		if err != nil {
			t.Fatal(err)
		}
		if err := gnarkVerify(t, f, p); err != nil {
			t.Fatal(err)
		}
	}
}
