package proofgen

import (
	"bytes"
	"encoding/json"
	"math/big"

	"github.com/lightkeeper-net/lightkeeper/coordinator/challenge/keys"
	"github.com/lightkeeper-net/lightkeeper/verifier"
)

// NumPublic is the number of public inputs of every fixture circuit.
const NumPublic = keys.NumPublic

// Fixture is the challenge generator's circuit with its keys
// (coordinator/challenge/keys: one definition of the circuit, its setup
// and its proving), plus what tests, benchmarks and the demo want on top:
// small integer secrets, the JSON encoding and the classic invalid proofs.
// It is safe for concurrent Prove calls.
type Fixture struct{ *keys.Fixture }

// Proof is a proof with its public inputs in both accepted encodings.
type Proof = keys.Proof

// Config names a fixture's circuit: the small circuit, or one of about
// Constraints constraints, with or without a BSB22 commitment.
type Config = keys.Config

// New returns a fixture for the small circuit (a handful of constraints).
func New(scheme verifier.Scheme, curve verifier.Curve) (*Fixture, error) {
	return NewFromConfig(Config{Scheme: scheme, Curve: curve})
}

// NewWithSize returns a fixture whose circuit has about the given number of
// constraints (the small circuit plus a chain of squarings), for benchmarks.
// It never has fewer constraints than the small circuit (5 in R1CS, 6 in
// PLONK); Constraints reports the exact count.
func NewWithSize(scheme verifier.Scheme, curve verifier.Curve, constraints int) (*Fixture, error) {
	return NewFromConfig(Config{Scheme: scheme, Curve: curve, Constraints: constraints})
}

// NewCommitted returns a fixture for the small circuit plus a BSB22
// commitment to the secret and a public input (gnark's api.Commit), so that
// proofs carry commitments and the key commitment parameters.
func NewCommitted(scheme verifier.Scheme, curve verifier.Curve) (*Fixture, error) {
	return NewFromConfig(Config{Scheme: scheme, Curve: curve, Commit: true})
}

// NewFromConfig returns a fixture for the circuit c names.
func NewFromConfig(c Config) (*Fixture, error) {
	f, err := keys.NewFromConfig(c)
	if err != nil {
		return nil, err
	}
	return &Fixture{f}, nil
}

// Public returns the public inputs (Y, Z) that Prove(secret) proves.
func (f *Fixture) Public(secret uint64) []*big.Int {
	return f.PublicOf(new(big.Int).SetUint64(secret))
}

// Prove returns a fresh valid proof that the prover knows secret. Different
// secrets give different public inputs.
func (f *Fixture) Prove(secret uint64) (Proof, error) {
	return f.ProveSecret(new(big.Int).SetUint64(secret))
}

// JSONJob is Job with the public inputs in the JSON encoding.
func (f *Fixture) JSONJob(p Proof) verifier.ProofJob {
	j := f.Job(p)
	j.PublicInputs = bytes.Clone(p.PublicJSON)
	return j
}

// EncodeWitness encodes values as a gnark public witness (u32 nbPublic,
// u32 nbSecret = 0, u32 length, 32-byte big-endian values).
func EncodeWitness(values []*big.Int) []byte { return keys.EncodeWitness(values) }

// DecodeWitness is the inverse of EncodeWitness.
func DecodeWitness(b []byte) ([]*big.Int, error) { return keys.DecodeWitness(b) }

// WrongPublicInput returns the same proof with its first public input
// incremented (mod the curve's scalar field), in both encodings.
func WrongPublicInput(p Proof, curve verifier.Curve) Proof {
	q := clone(p)
	values, err := DecodeWitness(p.PublicInputs)
	id, cerr := keys.CurveID(curve)
	if err != nil || cerr != nil || len(values) == 0 {
		// Not a witness we understand: corrupt the last byte instead.
		if len(q.PublicInputs) > 0 {
			q.PublicInputs[len(q.PublicInputs)-1] ^= 1
		}
		return q
	}
	values[0].Add(values[0], big.NewInt(1)).Mod(values[0], id.ScalarField())
	q.PublicInputs = EncodeWitness(values)
	q.PublicJSON = encodeJSON(values)
	return q
}

// FlipBit returns the proof with one bit flipped. For a proof made by
// Prove it flips the y-sign flag of the first (compressed) point, which
// negates that point: the proof still decodes, every point is still on the
// curve and in the subgroup, but it no longer verifies. Otherwise (or if the
// first byte is not a compressed point's flag byte) it flips the lowest bit
// of the middle byte, which may or may not still decode.
func FlipBit(p Proof) Proof {
	q := clone(p)
	if len(q.Proof) == 0 {
		return q
	}
	switch flags := q.Proof[0]; p.Curve() {
	case verifier.CurveBN254:
		// gnark-crypto bn254: top two bits 10 = compressed, smallest y;
		// 11 = compressed, largest y.
		if flags>>6 == 0b10 || flags>>6 == 0b11 {
			q.Proof[0] ^= 1 << 6
			return q
		}
	case verifier.CurveBLS12_381:
		// ZCash format: top three bits 100 = compressed, smallest y;
		// 101 = compressed, largest y.
		if flags>>5 == 0b100 || flags>>5 == 0b101 {
			q.Proof[0] ^= 1 << 5
			return q
		}
	}
	q.Proof[len(q.Proof)/2] ^= 1
	return q
}

// Truncate returns the proof without its last byte.
func Truncate(p Proof) Proof {
	q := clone(p)
	if len(q.Proof) > 0 {
		q.Proof = q.Proof[:len(q.Proof)-1]
	}
	return q
}

// clone copies p's bytes (the struct copy keeps its curve).
func clone(p Proof) Proof {
	q := p
	q.Proof = bytes.Clone(p.Proof)
	q.PublicInputs = bytes.Clone(p.PublicInputs)
	q.PublicJSON = bytes.Clone(p.PublicJSON)
	return q
}

func encodeJSON(values []*big.Int) []byte {
	s := make([]string, len(values))
	for i, v := range values {
		s[i] = v.String()
	}
	b, _ := json.Marshal(s)
	return b
}
