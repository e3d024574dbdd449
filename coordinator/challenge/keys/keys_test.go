package keys

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"math/big"
	"strings"
	"testing"

	"github.com/lightkeeper-net/lightkeeper/protocol"
	"github.com/lightkeeper-net/lightkeeper/verifier"
)

// fixtureCache shares fixtures between the tests of this file (setup is
// most of their time).
var fixtureCache = map[Config]*Fixture{}

func fixture(t *testing.T, c Config) *Fixture {
	t.Helper()
	if f := fixtureCache[c]; f != nil {
		return f
	}
	f, err := NewFromConfig(c)
	if err != nil {
		t.Fatal(err)
	}
	fixtureCache[c] = f
	return f
}

func allConfigs() []Config {
	var cs []Config
	for _, c := range combos {
		for _, commit := range []bool{false, true} {
			cs = append(cs, Config{Scheme: c.scheme, Curve: c.curve, Commit: commit})
		}
	}
	return cs
}

func name(c Config) string { return fmt.Sprintf("%s/%s/commit=%v", c.Scheme, c.Curve, c.Commit) }

func TestProveSecretWholeField(t *testing.T) {
	for _, c := range allConfigs() {
		t.Run(name(c), func(t *testing.T) {
			f := fixture(t, c)
			x, err := f.RandomSecret(rand.Reader)
			if err != nil {
				t.Fatal(err)
			}
			p, err := f.ProveSecret(x)
			if err != nil {
				t.Fatal(err)
			}
			if v := verifier.VerifyProof(f.Job(p), protocol.Limits{}); v.Vote != protocol.VoteApprove {
				t.Fatalf("fresh proof: %v", v)
			}
			// The largest secret works; the field's modulus and negative
			// numbers are errors, not panics.
			top := new(big.Int).Sub(f.ScalarField(), big.NewInt(1))
			if _, err := f.ProveSecret(top); err != nil {
				t.Fatalf("r-1: %v", err)
			}
			for _, bad := range []*big.Int{nil, big.NewInt(-1), f.ScalarField()} {
				if _, err := f.ProveSecret(bad); err == nil || !strings.Contains(err.Error(), "scalar field") {
					t.Fatalf("secret %v: err = %v", bad, err)
				}
			}
		})
	}
}

func TestReplacePublicInput(t *testing.T) {
	for _, c := range allConfigs() {
		t.Run(name(c), func(t *testing.T) {
			f := fixture(t, c)
			p, err := f.ProveSecret(big.NewInt(9))
			if err != nil {
				t.Fatal(err)
			}
			before := bytes.Clone(p.PublicInputs)
			q, err := ReplacePublicInput(p, rand.Reader)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(before, p.PublicInputs) {
				t.Fatal("ReplacePublicInput modified its argument")
			}
			if bytes.Equal(q.PublicInputs, p.PublicInputs) || len(q.PublicInputs) != len(p.PublicInputs) {
				t.Fatal("public inputs unchanged or resized")
			}
			if !bytes.Equal(q.Proof, p.Proof) {
				t.Fatal("the proof changed")
			}
			for _, job := range []verifier.ProofJob{f.Job(q), jsonJob(f, q)} {
				if v := verifier.VerifyProof(job, protocol.Limits{}); v.Vote != protocol.VoteReject || v.Reason != verifier.ReasonInvalidProof {
					t.Fatalf("replaced input: %v, want reject(invalid_proof)", v)
				}
			}
			if _, err := ReplacePublicInput(Proof{PublicInputs: p.PublicInputs}, rand.Reader); err == nil {
				t.Fatal("accepted a proof not made by ProveSecret")
			}
		})
	}
}

// TestTamperPoint changes every tamperable point of every kind of proof
// both ways and checks that the verifier gets past the encodings and
// rejects at the pairing check.
func TestTamperPoint(t *testing.T) {
	for _, c := range allConfigs() {
		t.Run(name(c), func(t *testing.T) {
			f := fixture(t, c)
			p, err := f.ProveSecret(big.NewInt(5))
			if err != nil {
				t.Fatal(err)
			}
			n, err := tamperablePoints(p)
			if err != nil {
				t.Fatal(err)
			}
			want := 3 // Groth16: Ar, Krs, Bs
			switch {
			case c.Scheme == verifier.SchemeGroth16 && c.Commit:
				want = 5 // and one commitment and its proof of knowledge
			case c.Scheme == verifier.SchemePlonk && !c.Commit:
				want = 9
			case c.Scheme == verifier.SchemePlonk:
				want = 10
			}
			if n != want {
				t.Fatalf("%d tamperable points, want %d", n, want)
			}
			for i := range n {
				for _, tw := range []tweak{{negate: true}, {k: big.NewInt(1)}, {k: new(big.Int).SetUint64(1<<64 - 1)}} {
					b, ok, _, err := tamperPoints(p, i, tw)
					if err != nil || !ok {
						t.Fatalf("point %d %+v: ok=%v err=%v", i, tw, ok, err)
					}
					if len(b) != len(p.Proof) || bytes.Equal(b, p.Proof) {
						t.Fatalf("point %d: %d bytes (was %d), changed=%v", i, len(b), len(p.Proof), !bytes.Equal(b, p.Proof))
					}
					q := clone(p)
					q.Proof = b
					if v := verifier.VerifyProof(f.Job(q), protocol.Limits{}); v.Vote != protocol.VoteReject || v.Reason != verifier.ReasonInvalidProof {
						t.Fatalf("point %d %+v: %v, want reject(invalid_proof)", i, tw, v)
					}
				}
			}
			q, err := TamperPoint(p, rand.Reader)
			if err != nil {
				t.Fatal(err)
			}
			if v := verifier.VerifyProof(f.Job(q), protocol.Limits{}); v.Reason != verifier.ReasonInvalidProof {
				t.Fatalf("TamperPoint: %v", v)
			}
			if _, err := TamperPoint(Proof{Proof: p.Proof}, rand.Reader); err == nil {
				t.Fatal("accepted a proof not made by ProveSecret")
			}
		})
	}
}

func TestSaveLoad(t *testing.T) {
	for _, c := range allConfigs() {
		t.Run(name(c), func(t *testing.T) {
			f := fixture(t, c)
			var buf bytes.Buffer
			if err := f.Save(&buf); err != nil {
				t.Fatal(err)
			}
			saved := buf.Bytes()
			g, err := Load(bytes.NewReader(saved), c)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(g.VerifyingKey, f.VerifyingKey) || g.Constraints() != f.Constraints() || g.NumPublic != f.NumPublic {
				t.Fatal("the loaded fixture differs")
			}
			// The loaded proving key proves for the original verifying key.
			x, _ := g.RandomSecret(rand.Reader)
			p, err := g.ProveSecret(x)
			if err != nil {
				t.Fatal(err)
			}
			if v := verifier.VerifyProof(f.Job(p), protocol.Limits{}); v.Vote != protocol.VoteApprove {
				t.Fatalf("proof from the loaded fixture: %v", v)
			}

			other := c
			other.Commit = !c.Commit
			if _, err := Load(bytes.NewReader(saved), other); err == nil || !strings.Contains(err.Error(), "want") {
				t.Fatalf("loaded for another circuit: %v", err)
			}
			for _, bad := range []struct {
				name string
				b    []byte
			}{
				{"empty", nil},
				{"truncated", saved[:len(saved)-1]},
				{"flipped", func() []byte { b := bytes.Clone(saved); b[len(b)/2] ^= 1; return b }()},
				{"not a fixture", bytes.Repeat([]byte{0xff}, 100)},
			} {
				if _, err := Load(bytes.NewReader(bad.b), c); err == nil {
					t.Fatalf("%s: loaded", bad.name)
				}
			}
		})
	}
}

var combos = []struct {
	scheme verifier.Scheme
	curve  verifier.Curve
}{
	{verifier.SchemeGroth16, verifier.CurveBN254},
	{verifier.SchemeGroth16, verifier.CurveBLS12_381},
	{verifier.SchemePlonk, verifier.CurveBN254},
	{verifier.SchemePlonk, verifier.CurveBLS12_381},
}

// jsonJob is f.Job(p) with the public inputs in the JSON encoding.
func jsonJob(f *Fixture, p Proof) verifier.ProofJob {
	j := f.Job(p)
	j.PublicInputs = bytes.Clone(p.PublicJSON)
	return j
}
