package keys

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/big"

	bls12381 "github.com/consensys/gnark-crypto/ecc/bls12-381"
	"github.com/consensys/gnark-crypto/ecc/bn254"
	groth16bls12381 "github.com/consensys/gnark/backend/groth16/bls12-381"
	groth16bn254 "github.com/consensys/gnark/backend/groth16/bn254"
	plonkbls12381 "github.com/consensys/gnark/backend/plonk/bls12-381"
	plonkbn254 "github.com/consensys/gnark/backend/plonk/bn254"

	"github.com/lightkeeper-net/lightkeeper/verifier"
)

// Invalid proofs that only the full check rejects. devtools/proofgen's FlipBit and
// WrongPublicInput always change the same place in the same way;
// ReplacePublicInput and TamperPoint choose where and how at random, so
// that an invalid proof made from a fresh valid one says nothing about
// which part was changed, and nothing short of verifying it tells it from
// a valid one.

// ReplacePublicInput returns the proof with one public input, chosen at
// random, replaced by a different value drawn uniformly from the scalar
// field (so still a canonical field element), in both encodings. The proof
// must come from ProveSecret.
func ReplacePublicInput(p Proof, r io.Reader) (Proof, error) {
	id, err := CurveID(p.curve)
	if err != nil {
		return Proof{}, errors.New("keys: ReplacePublicInput needs a proof made by ProveSecret")
	}
	values, err := DecodeWitness(p.PublicInputs)
	if err != nil {
		return Proof{}, err
	}
	if len(values) == 0 {
		return Proof{}, errors.New("keys: the proof has no public inputs to replace")
	}
	i, err := uniform(r, len(values))
	if err != nil {
		return Proof{}, err
	}
	// A uniform draw equals the old value with probability 1/r; a source
	// that keeps repeating it is broken, and looping on it would hang.
	replaced := false
	for range 8 {
		v, err := rand.Int(r, id.ScalarField())
		if err != nil {
			return Proof{}, fmt.Errorf("keys: random public input: %w", err)
		}
		if v.Cmp(values[i]) != 0 {
			values[i], replaced = v, true
			break
		}
	}
	if !replaced {
		return Proof{}, errors.New("keys: the random source keeps drawing the same public input")
	}
	q := clone(p)
	q.PublicInputs = EncodeWitness(values)
	q.PublicJSON = encodeJSON(values)
	return q, nil
}

// TamperPoint returns the proof with one of its curve points, chosen at
// random, replaced by another point of the same prime-order subgroup: its
// negation, or the point plus a random multiple of the group's generator.
// The result is re-encoded by gnark, so it has the same length, passes
// every structural check and gnark's ReadFrom (on the curve, in the
// subgroup), and fails only the pairing check. Only points that the
// verifier uses are chosen: a Groth16 proof without commitments carries a
// commitment proof of knowledge that gnark never looks at. The proof must
// come from ProveSecret.
func TamperPoint(p Proof, r io.Reader) (Proof, error) {
	n, err := tamperablePoints(p)
	if err != nil {
		return Proof{}, err
	}
	i, err := uniform(r, n)
	if err != nil {
		return Proof{}, err
	}
	// A tweak leaving the point unchanged or at infinity has negligible
	// probability; draw another rather than hand out a degenerate proof.
	for range 8 {
		t, err := randomTweak(r)
		if err != nil {
			return Proof{}, err
		}
		b, ok, _, err := tamperPoints(p, i, t)
		if err != nil {
			return Proof{}, err
		}
		if ok {
			q := clone(p)
			q.Proof = b
			return q, nil
		}
	}
	return Proof{}, errors.New("keys: could not tamper with the proof (degenerate points)")
}

// tweak says how a point changes: negated, or plus [k]·generator.
type tweak struct {
	negate bool
	k      *big.Int
}

func randomTweak(r io.Reader) (tweak, error) {
	var b [9]byte
	if _, err := io.ReadFull(r, b[:]); err != nil {
		return tweak{}, fmt.Errorf("keys: randomness: %w", err)
	}
	k := binary.BigEndian.Uint64(b[1:])
	return tweak{negate: b[0]&1 == 1, k: new(big.Int).SetUint64(max(k, 1))}, nil
}

// uniform returns a uniform integer in [0, n), n > 0.
func uniform(r io.Reader, n int) (int, error) {
	v, err := rand.Int(r, big.NewInt(int64(n)))
	if err != nil {
		return 0, fmt.Errorf("keys: randomness: %w", err)
	}
	return int(v.Int64()), nil
}

// tamperablePoints returns how many points of p TamperPoint may change.
func tamperablePoints(p Proof) (int, error) {
	_, _, n, err := tamperPoints(p, -1, tweak{})
	return n, err
}

// tamperPoints decodes p's proof, applies t to its i-th tamperable point
// and re-encodes it. It returns the new bytes, whether the changed point is
// a usable replacement (different and not at infinity), and the number of
// tamperable points (an i out of range only counts them).
func tamperPoints(p Proof, i int, t tweak) ([]byte, bool, int, error) {
	switch p.curve {
	case verifier.CurveBN254:
		return tamperBn254(p.scheme, p.Proof, i, t)
	case verifier.CurveBLS12_381:
		return tamperBls12381(p.scheme, p.Proof, i, t)
	}
	return nil, false, 0, errors.New("keys: TamperPoint needs a proof made by ProveSecret")
}

// decodeExactly reads b with gnark's ReadFrom, which must use every byte.
func decodeExactly(v io.ReaderFrom, b []byte) error {
	r := bytes.NewReader(b)
	if _, err := v.ReadFrom(r); err != nil {
		return fmt.Errorf("keys: decoding the proof: %w", err)
	}
	if r.Len() != 0 {
		return fmt.Errorf("keys: %d bytes after the proof", r.Len())
	}
	return nil
}

func encode(v io.WriterTo) ([]byte, error) {
	var buf bytes.Buffer
	if _, err := v.WriteTo(&buf); err != nil {
		return nil, fmt.Errorf("keys: encoding the proof: %w", err)
	}
	return buf.Bytes(), nil
}

// BN254. The BLS12-381 functions below are the same code on the other
// curve's types.

func tweakG1Bn254(p *bn254.G1Affine, t tweak) bool {
	orig := *p
	if t.negate {
		p.Neg(p)
	} else {
		var d bn254.G1Affine
		d.ScalarMultiplicationBase(t.k)
		p.Add(p, &d)
	}
	return !p.IsInfinity() && !p.Equal(&orig)
}

func tweakG2Bn254(p *bn254.G2Affine, t tweak) bool {
	orig := *p
	if t.negate {
		p.Neg(p)
	} else {
		var d bn254.G2Affine
		d.ScalarMultiplicationBase(t.k)
		p.Add(p, &d)
	}
	return !p.IsInfinity() && !p.Equal(&orig)
}

func tamperBn254(scheme verifier.Scheme, b []byte, i int, t tweak) ([]byte, bool, int, error) {
	var (
		g1 []*bn254.G1Affine
		g2 []*bn254.G2Affine
		v  io.WriterTo
	)
	switch scheme {
	case verifier.SchemeGroth16:
		p := new(groth16bn254.Proof)
		if err := decodeExactly(p, b); err != nil {
			return nil, false, 0, err
		}
		g1 = []*bn254.G1Affine{&p.Ar, &p.Krs}
		if len(p.Commitments) > 0 {
			for j := range p.Commitments {
				g1 = append(g1, &p.Commitments[j])
			}
			g1 = append(g1, &p.CommitmentPok)
		}
		g2 = []*bn254.G2Affine{&p.Bs}
		v = p
	case verifier.SchemePlonk:
		p := new(plonkbn254.Proof)
		if err := decodeExactly(p, b); err != nil {
			return nil, false, 0, err
		}
		g1 = []*bn254.G1Affine{&p.LRO[0], &p.LRO[1], &p.LRO[2], &p.Z, &p.H[0], &p.H[1], &p.H[2], &p.BatchedProof.H, &p.ZShiftedOpening.H}
		for j := range p.Bsb22Commitments {
			g1 = append(g1, &p.Bsb22Commitments[j])
		}
		v = p
	default:
		return nil, false, 0, errors.New("keys: TamperPoint needs a proof made by ProveSecret")
	}
	n := len(g1) + len(g2)
	if i < 0 || i >= n {
		return nil, false, n, nil
	}
	var ok bool
	if i < len(g1) {
		ok = tweakG1Bn254(g1[i], t)
	} else {
		ok = tweakG2Bn254(g2[i-len(g1)], t)
	}
	out, err := encode(v)
	return out, ok, n, err
}

// BLS12-381: the same as above.

func tweakG1Bls12381(p *bls12381.G1Affine, t tweak) bool {
	orig := *p
	if t.negate {
		p.Neg(p)
	} else {
		var d bls12381.G1Affine
		d.ScalarMultiplicationBase(t.k)
		p.Add(p, &d)
	}
	return !p.IsInfinity() && !p.Equal(&orig)
}

func tweakG2Bls12381(p *bls12381.G2Affine, t tweak) bool {
	orig := *p
	if t.negate {
		p.Neg(p)
	} else {
		var d bls12381.G2Affine
		d.ScalarMultiplicationBase(t.k)
		p.Add(p, &d)
	}
	return !p.IsInfinity() && !p.Equal(&orig)
}

func tamperBls12381(scheme verifier.Scheme, b []byte, i int, t tweak) ([]byte, bool, int, error) {
	var (
		g1 []*bls12381.G1Affine
		g2 []*bls12381.G2Affine
		v  io.WriterTo
	)
	switch scheme {
	case verifier.SchemeGroth16:
		p := new(groth16bls12381.Proof)
		if err := decodeExactly(p, b); err != nil {
			return nil, false, 0, err
		}
		g1 = []*bls12381.G1Affine{&p.Ar, &p.Krs}
		if len(p.Commitments) > 0 {
			for j := range p.Commitments {
				g1 = append(g1, &p.Commitments[j])
			}
			g1 = append(g1, &p.CommitmentPok)
		}
		g2 = []*bls12381.G2Affine{&p.Bs}
		v = p
	case verifier.SchemePlonk:
		p := new(plonkbls12381.Proof)
		if err := decodeExactly(p, b); err != nil {
			return nil, false, 0, err
		}
		g1 = []*bls12381.G1Affine{&p.LRO[0], &p.LRO[1], &p.LRO[2], &p.Z, &p.H[0], &p.H[1], &p.H[2], &p.BatchedProof.H, &p.ZShiftedOpening.H}
		for j := range p.Bsb22Commitments {
			g1 = append(g1, &p.Bsb22Commitments[j])
		}
		v = p
	default:
		return nil, false, 0, errors.New("keys: TamperPoint needs a proof made by ProveSecret")
	}
	n := len(g1) + len(g2)
	if i < 0 || i >= n {
		return nil, false, n, nil
	}
	var ok bool
	if i < len(g1) {
		ok = tweakG1Bls12381(g1[i], t)
	} else {
		ok = tweakG2Bls12381(g2[i-len(g1)], t)
	}
	out, err := encode(v)
	return out, ok, n, err
}
