package keys

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"

	"github.com/consensys/gnark-crypto/ecc"
	"github.com/consensys/gnark/backend/groth16"
	"github.com/consensys/gnark/backend/plonk"
	"github.com/consensys/gnark/constraint"
	"github.com/consensys/gnark/frontend"
	"github.com/consensys/gnark/frontend/cs/r1cs"
	"github.com/consensys/gnark/frontend/cs/scs"

	"github.com/lightkeeper-net/lightkeeper/verifier"
)

// NumPublic is the number of public inputs of every fixture circuit.
const NumPublic = 2

// Fixture is a compiled circuit with its keys. It is safe for concurrent
// Prove calls.
type Fixture struct {
	Scheme       verifier.Scheme
	Curve        verifier.Curve
	VerifyingKey []byte // gnark binary (WriteTo, compressed)
	NumPublic    int

	curveID     ecc.ID
	chain       int
	commit      bool
	ccs         constraint.ConstraintSystem
	groth16PK   groth16.ProvingKey
	plonkPK     plonk.ProvingKey
	constraints int
}

// circuit proves knowledge of a secret X with
//
//	Y == X³ + X + 5
//	Z == v + 7, where v = X² followed by Chain steps of v = v² + X
//
// Y and Z are public. With Commit set it also commits (BSB22) to X and Y
// and asserts the commitment is non-zero, which exercises gnark's
// commitment machinery in both schemes.
type circuit struct {
	X frontend.Variable
	Y frontend.Variable `gnark:",public"`
	Z frontend.Variable `gnark:",public"`

	chain  int
	commit bool
}

func (c *circuit) Define(api frontend.API) error {
	x3 := api.Mul(c.X, c.X, c.X)
	api.AssertIsEqual(c.Y, api.Add(x3, c.X, 5))
	v := api.Mul(c.X, c.X)
	for i := 0; i < c.chain; i++ {
		v = api.Add(api.Mul(v, v), c.X)
	}
	api.AssertIsEqual(c.Z, api.Add(v, 7))
	if c.commit {
		committer, ok := api.(frontend.Committer)
		if !ok {
			return errors.New("builder does not support commitments")
		}
		cm, err := committer.Commit(c.X, c.Y)
		if err != nil {
			return err
		}
		api.AssertIsDifferent(cm, 0)
	}
	return nil
}

// Config names one fixture circuit: the small circuit (Constraints 0),
// or one of about Constraints constraints (the small circuit plus a chain
// of squarings), with or without a BSB22 commitment to X and Y.
type Config struct {
	Scheme      verifier.Scheme
	Curve       verifier.Curve
	Constraints int
	Commit      bool
}

// NewFromConfig returns a fixture for the circuit c names.
func NewFromConfig(c Config) (*Fixture, error) {
	if c.Constraints < 0 {
		return nil, fmt.Errorf("keys: %d constraints asked for", c.Constraints)
	}
	return newFixture(c.Scheme, c.Curve, chainFor(c.Scheme, c.Constraints), c.Commit)
}

// chainFor is the number of squaring steps that gives about constraints
// constraints. With gnark v0.16 the small circuit compiles to 5 R1CS / 6
// PLONK constraints, and each step v = v² + X adds 1 R1CS / 2 PLONK ones.
func chainFor(scheme verifier.Scheme, constraints int) int {
	if scheme == verifier.SchemePlonk {
		return max(0, (constraints-6)/2)
	}
	return max(0, constraints-5)
}

// CurveID is gnark-crypto's id of a verifier curve.
func CurveID(c verifier.Curve) (ecc.ID, error) {
	switch c {
	case verifier.CurveBN254:
		return ecc.BN254, nil
	case verifier.CurveBLS12_381:
		return ecc.BLS12_381, nil
	}
	return ecc.UNKNOWN, fmt.Errorf("keys: unsupported curve %s", c)
}

func newFixture(scheme verifier.Scheme, curve verifier.Curve, chain int, commit bool) (*Fixture, error) {
	id, err := CurveID(curve)
	if err != nil {
		return nil, err
	}
	f := &Fixture{Scheme: scheme, Curve: curve, NumPublic: NumPublic, curveID: id, chain: chain, commit: commit}
	c := &circuit{chain: chain, commit: commit}
	var buf bytes.Buffer
	switch scheme {
	case verifier.SchemeGroth16:
		f.ccs, err = frontend.Compile(id.ScalarField(), r1cs.NewBuilder, c)
		if err != nil {
			return nil, fmt.Errorf("keys: compile: %w", err)
		}
		pk, vk, err := groth16.Setup(f.ccs)
		if err != nil {
			return nil, fmt.Errorf("keys: groth16 setup: %w", err)
		}
		f.groth16PK = pk
		if _, err := vk.WriteTo(&buf); err != nil {
			return nil, err
		}
	case verifier.SchemePlonk:
		f.ccs, err = frontend.Compile(id.ScalarField(), scs.NewBuilder, c)
		if err != nil {
			return nil, fmt.Errorf("keys: compile: %w", err)
		}
		srs, srsLagrange, err := newSRS(id, f.ccs)
		if err != nil {
			return nil, fmt.Errorf("keys: SRS: %w", err)
		}
		pk, vk, err := plonk.Setup(f.ccs, srs, srsLagrange)
		if err != nil {
			return nil, fmt.Errorf("keys: plonk setup: %w", err)
		}
		f.plonkPK = pk
		if _, err := vk.WriteTo(&buf); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("keys: unsupported scheme %s", scheme)
	}
	f.VerifyingKey = buf.Bytes()
	f.constraints = f.ccs.GetNbConstraints()
	return f, nil
}

// Constraints returns the number of constraints of the compiled circuit.
func (f *Fixture) Constraints() int { return f.constraints }

// Proof is a proof with its public inputs in both accepted encodings.
type Proof struct {
	Proof        []byte // gnark binary (WriteTo, compressed)
	PublicInputs []byte // gnark public witness binary (MarshalBinary)
	PublicJSON   []byte // JSON list of decimal strings

	// Set by ProveSecret: the proof's layout (TamperPoint,
	// ReplacePublicInput).
	curve  verifier.Curve
	scheme verifier.Scheme
}

// Curve is the curve the proof was made on (zero for a proof not made by
// ProveSecret): it tells how its points are encoded.
func (p Proof) Curve() verifier.Curve { return p.curve }

// PublicOf returns the public inputs (Y, Z) that ProveSecret(x) proves, for
// x in the scalar field.
func (f *Fixture) PublicOf(x *big.Int) []*big.Int {
	r := f.curveID.ScalarField()
	y := new(big.Int).Exp(x, big.NewInt(3), r)
	y.Add(y, x).Add(y, big.NewInt(5)).Mod(y, r)
	v := new(big.Int).Mul(x, x)
	v.Mod(v, r)
	for i := 0; i < f.chain; i++ {
		v.Mul(v, v).Add(v, x).Mod(v, r)
	}
	z := v.Add(v, big.NewInt(7))
	z.Mod(z, r)
	return []*big.Int{y, z}
}

// ScalarField returns the modulus of the fixture curve's scalar field, the
// range of secrets and public inputs.
func (f *Fixture) ScalarField() *big.Int { return f.curveID.ScalarField() }

// RandomSecret returns a secret drawn uniformly from the whole scalar
// field, so that the public inputs of its proof are spread over the whole
// field too (a uint64 secret gives Y < 2¹⁹³, which would tell such proofs
// apart).
func (f *Fixture) RandomSecret(r io.Reader) (*big.Int, error) {
	x, err := rand.Int(r, f.ScalarField())
	if err != nil {
		return nil, fmt.Errorf("keys: random secret: %w", err)
	}
	return x, nil
}

// ProveSecret is Prove for a secret anywhere in the scalar field
// (0 ≤ x < ScalarField()).
func (f *Fixture) ProveSecret(x *big.Int) (Proof, error) {
	if x == nil || x.Sign() < 0 || x.Cmp(f.ScalarField()) >= 0 {
		return Proof{}, fmt.Errorf("keys: secret outside the %s scalar field", f.Curve)
	}
	pub := f.PublicOf(x)
	assignment := &circuit{X: new(big.Int).Set(x), Y: pub[0], Z: pub[1], chain: f.chain, commit: f.commit}
	full, err := frontend.NewWitness(assignment, f.curveID.ScalarField())
	if err != nil {
		return Proof{}, fmt.Errorf("keys: witness: %w", err)
	}
	public, err := full.Public()
	if err != nil {
		return Proof{}, fmt.Errorf("keys: public witness: %w", err)
	}
	var buf bytes.Buffer
	switch f.Scheme {
	case verifier.SchemeGroth16:
		p, err := groth16.Prove(f.ccs, f.groth16PK, full)
		if err != nil {
			return Proof{}, fmt.Errorf("keys: groth16 prove: %w", err)
		}
		if _, err := p.WriteTo(&buf); err != nil {
			return Proof{}, err
		}
	case verifier.SchemePlonk:
		p, err := plonk.Prove(f.ccs, f.plonkPK, full)
		if err != nil {
			return Proof{}, fmt.Errorf("keys: plonk prove: %w", err)
		}
		if _, err := p.WriteTo(&buf); err != nil {
			return Proof{}, err
		}
	}
	bin, err := public.MarshalBinary()
	if err != nil {
		return Proof{}, err
	}
	return Proof{Proof: buf.Bytes(), PublicInputs: bin, PublicJSON: encodeJSON(pub), curve: f.Curve, scheme: f.Scheme}, nil
}

// Job packages a proof for verifier.VerifyProof (binary public inputs).
func (f *Fixture) Job(p Proof) verifier.ProofJob {
	return verifier.ProofJob{
		Scheme:       f.Scheme,
		Curve:        f.Curve,
		VerifyingKey: bytes.Clone(f.VerifyingKey),
		Proof:        bytes.Clone(p.Proof),
		PublicInputs: bytes.Clone(p.PublicInputs),
	}
}

func encodeJSON(values []*big.Int) []byte {
	s := make([]string, len(values))
	for i, v := range values {
		s[i] = v.String()
	}
	b, _ := json.Marshal(s)
	return b
}

// EncodeWitness encodes values as a gnark public witness (u32 nbPublic,
// u32 nbSecret = 0, u32 length, 32-byte big-endian values).
func EncodeWitness(values []*big.Int) []byte {
	b := make([]byte, 12+32*len(values))
	binary.BigEndian.PutUint32(b[0:], uint32(len(values)))
	binary.BigEndian.PutUint32(b[8:], uint32(len(values)))
	for i, v := range values {
		v.FillBytes(b[12+32*i : 12+32*(i+1)])
	}
	return b
}

// DecodeWitness is the inverse of EncodeWitness.
func DecodeWitness(b []byte) ([]*big.Int, error) {
	if len(b) < 12 {
		return nil, errors.New("keys: witness too short")
	}
	n := binary.BigEndian.Uint32(b[8:])
	if uint64(len(b)) != 12+32*uint64(n) {
		return nil, errors.New("keys: witness length mismatch")
	}
	out := make([]*big.Int, n)
	for i := range out {
		out[i] = new(big.Int).SetBytes(b[12+32*i : 12+32*(i+1)])
	}
	return out, nil
}

func clone(p Proof) Proof {
	return Proof{
		Proof:        bytes.Clone(p.Proof),
		PublicInputs: bytes.Clone(p.PublicInputs),
		PublicJSON:   bytes.Clone(p.PublicJSON),
		curve:        p.curve,
		scheme:       p.scheme,
	}
}
