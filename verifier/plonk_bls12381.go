// Code generated from plonk_bn254.go by gen.go; DO NOT EDIT.

package verifier

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"math/big"
	"math/bits"

	"github.com/consensys/gnark-crypto/ecc"
	curve "github.com/consensys/gnark-crypto/ecc/bls12-381"
	"github.com/consensys/gnark-crypto/ecc/bls12-381/fr"
	"github.com/consensys/gnark-crypto/ecc/bls12-381/fr/hash_to_field"
	"github.com/consensys/gnark-crypto/ecc/bls12-381/kzg"
	fiatshamir "github.com/consensys/gnark-crypto/fiat-shamir"
)

// plonkVKBls12381 mirrors gnark's plonk VerifyingKey.
type plonkVKBls12381 struct {
	size                        uint64
	sizeInv, generator          fr.Element
	nbPublicVariables           uint64
	cosetShift                  fr.Element
	s                           [3]kzg.Digest
	ql, qr, qm, qo, qk          kzg.Digest
	qcp                         []kzg.Digest
	kzg                         kzg.VerifyingKey
	commitmentConstraintIndexes []uint64
}

// parsePlonkVKBls12381 decodes gnark's VerifyingKey.WriteTo/WriteRawTo
// encoding, versioned (u64 0 marker, u64 version 1, u64 size, ...) or legacy
// (u64 size, ...), then checks that the key is internally consistent. Too
// many commitments is an *Error (ReasonUnsupported) found before decoding
// them; every other failure is a plain error meaning a malformed key.
func parsePlonkVKBls12381(b []byte) (*plonkVKBls12381, error) {
	c := newCursor(b)
	dec := curve.NewDecoder(c)
	vk := new(plonkVKBls12381)

	first, err := c.readUint64()
	if err != nil {
		return nil, fmt.Errorf("verifying key header: %w", err)
	}
	if first == plonkKeyVersionMarker {
		version, err := c.readUint64()
		if err != nil {
			return nil, fmt.Errorf("verifying key version: %w", err)
		}
		if version != plonkKeyVersion1 {
			return nil, fmt.Errorf("unsupported verifying key serialization version %d", version)
		}
		if vk.size, err = c.readUint64(); err != nil {
			return nil, fmt.Errorf("verifying key size: %w", err)
		}
	} else {
		vk.size = first // legacy, unversioned layout
	}
	if err := decodeAll(dec.Decode, "verifying key", &vk.sizeInv, &vk.generator); err != nil {
		return nil, err
	}
	if vk.nbPublicVariables, err = c.readUint64(); err != nil {
		return nil, fmt.Errorf("verifying key public variables: %w", err)
	}
	if err := decodeAll(dec.Decode, "verifying key",
		&vk.cosetShift, &vk.s[0], &vk.s[1], &vk.s[2],
		&vk.ql, &vk.qr, &vk.qm, &vk.qo, &vk.qk); err != nil {
		return nil, err
	}
	if err := c.checkSliceLen(curve.SizeOfG1AffineCompressed); err != nil {
		return nil, fmt.Errorf("verifying key Qcp: %w", err)
	}
	if n, _ := c.peekUint32(); n > maxCommitments {
		return nil, tooManyCommitments(int64(n))
	}
	if err := decodeAll(dec.Decode, "verifying key",
		&vk.qcp, &vk.kzg.G1, &vk.kzg.G2[0], &vk.kzg.G2[1], &vk.kzg.Lines); err != nil {
		return nil, err
	}
	if vk.commitmentConstraintIndexes, err = c.readUint64Slice(); err != nil {
		return nil, fmt.Errorf("verifying key commitment indexes: %w", err)
	}
	if err := c.done(); err != nil {
		return nil, fmt.Errorf("verifying key: %w", err)
	}
	if err := vk.check(); err != nil {
		return nil, err
	}
	return vk, nil
}

// check verifies what an honest setup guarantees and Verify relies on: a
// power-of-two domain with a primitive root of unity and its inverse size,
// public inputs and commitment rows inside the domain, and pairing lines
// that really belong to the two G2 points.
func (vk *plonkVKBls12381) check() error {
	if vk.size == 0 || vk.size&(vk.size-1) != 0 || bits.TrailingZeros64(vk.size) > plonkMaxLogSize {
		return fmt.Errorf("verifying key domain size %d is not a power of two up to 2^%d", vk.size, plonkMaxLogSize)
	}
	var n, one fr.Element
	n.SetUint64(vk.size)
	one.SetOne()
	if t := new(fr.Element).Mul(&n, &vk.sizeInv); !t.Equal(&one) {
		return errors.New("verifying key SizeInv is not the inverse of Size")
	}
	var e big.Int
	e.SetUint64(vk.size)
	if t := new(fr.Element).Exp(vk.generator, &e); !t.Equal(&one) {
		return errors.New("verifying key generator is not a root of unity of the domain size")
	}
	if vk.size > 1 {
		e.SetUint64(vk.size / 2)
		if t := new(fr.Element).Exp(vk.generator, &e); t.Equal(&one) {
			return errors.New("verifying key generator is not a primitive root of unity")
		}
	}
	if vk.nbPublicVariables > vk.size {
		return fmt.Errorf("verifying key has %d public variables in a domain of %d", vk.nbPublicVariables, vk.size)
	}
	if len(vk.commitmentConstraintIndexes) != len(vk.qcp) {
		return fmt.Errorf("verifying key has %d commitment indexes for %d Qcp", len(vk.commitmentConstraintIndexes), len(vk.qcp))
	}
	for _, idx := range vk.commitmentConstraintIndexes {
		if idx >= vk.size-vk.nbPublicVariables {
			return fmt.Errorf("verifying key commitment constraint %d is outside the domain", idx)
		}
	}
	// The Miller loop reads the addition lines [1][i] only where the loop
	// counter is non-zero; honest keys hold zeros elsewhere and gnark
	// ignores those entries, so do we.
	for j := range vk.kzg.G2 {
		want := curve.PrecomputeLines(vk.kzg.G2[j])
		got := &vk.kzg.Lines[j]
		for i := range want[0] {
			if got[0][i] != want[0][i] || (curve.LoopCounter[i] != 0 && got[1][i] != want[1][i]) {
				return fmt.Errorf("verifying key pairing lines do not match its G2 point %d", j)
			}
		}
	}
	return nil
}

// plonkProofBls12381 mirrors gnark's plonk Proof.
type plonkProofBls12381 struct {
	lro              [3]kzg.Digest
	z                kzg.Digest
	h                [3]kzg.Digest
	bsb22Commitments []kzg.Digest
	batchedProof     kzg.BatchOpeningProof
	zShiftedOpening  kzg.OpeningProof
}

// parsePlonkProofBls12381 decodes gnark's Proof.WriteTo/WriteRawTo encoding.
// The decoder checks that every point is on the curve and in the
// prime-order subgroup, and that every scalar is canonical.
func parsePlonkProofBls12381(b []byte) (*plonkProofBls12381, error) {
	c := newCursor(b)
	dec := curve.NewDecoder(c)
	p := new(plonkProofBls12381)
	if err := decodeAll(dec.Decode, "proof",
		&p.lro[0], &p.lro[1], &p.lro[2], &p.z, &p.h[0], &p.h[1], &p.h[2], &p.batchedProof.H); err != nil {
		return nil, err
	}
	if err := c.checkSliceLen(fr.Bytes); err != nil {
		return nil, fmt.Errorf("proof claimed values: %w", err)
	}
	if err := decodeAll(dec.Decode, "proof",
		&p.batchedProof.ClaimedValues, &p.zShiftedOpening.H, &p.zShiftedOpening.ClaimedValue); err != nil {
		return nil, err
	}
	if err := c.checkSliceLen(curve.SizeOfG1AffineCompressed); err != nil {
		return nil, fmt.Errorf("proof BSB22 commitments: %w", err)
	}
	if n, _ := c.peekUint32(); n > maxCommitments {
		return nil, fmt.Errorf("proof has %d BSB22 commitments, more than the %d supported", n, maxCommitments)
	}
	if err := dec.Decode(&p.bsb22Commitments); err != nil {
		return nil, fmt.Errorf("proof BSB22 commitments: %w", err)
	}
	if err := c.done(); err != nil {
		return nil, fmt.Errorf("proof: %w", err)
	}
	return p, nil
}

var (
	errPlonkAlgebraicRelationBls12381 = errors.New("algebraic relation does not hold")
	errPlonkPointBls12381             = errors.New("point is not in the prime-order subgroup")
)

// verify checks the proof against the key and the public inputs.
func (vk *plonkVKBls12381) verify(proof *plonkProofBls12381, publicWitness fr.Vector) error {
	if len(proof.bsb22Commitments) != len(vk.qcp) {
		return fmt.Errorf("proof has %d BSB22 commitments, key expects %d", len(proof.bsb22Commitments), len(vk.qcp))
	}
	if len(proof.batchedProof.ClaimedValues) != 6+len(vk.qcp) {
		return fmt.Errorf("proof has %d claimed values, key expects %d", len(proof.batchedProof.ClaimedValues), 6+len(vk.qcp))
	}
	if uint64(len(publicWitness)) != vk.nbPublicVariables {
		return fmt.Errorf("got %d public inputs, key expects %d", len(publicWitness), vk.nbPublicVariables)
	}

	// The decoder already checked subgroup membership; gnark checks again
	// here and so do we, it is cheap next to the pairing.
	for i := range proof.lro {
		if !proof.lro[i].IsInSubGroup() {
			return errPlonkPointBls12381
		}
	}
	if !proof.z.IsInSubGroup() {
		return errPlonkPointBls12381
	}
	for i := range proof.h {
		if !proof.h[i].IsInSubGroup() {
			return errPlonkPointBls12381
		}
	}
	for i := range proof.bsb22Commitments {
		if !proof.bsb22Commitments[i].IsInSubGroup() {
			return errPlonkPointBls12381
		}
	}
	if !proof.batchedProof.H.IsInSubGroup() || !proof.zShiftedOpening.H.IsInSubGroup() {
		return errPlonkPointBls12381
	}

	// Fiat-Shamir transcript.
	fs := fiatshamir.NewTranscript(sha256.New(), "gamma", "beta", "alpha", "zeta")
	if err := vk.bindPublicData(fs, "gamma", publicWitness); err != nil {
		return err
	}
	gamma, err := plonkDeriveRandomnessBls12381(fs, "gamma", &proof.lro[0], &proof.lro[1], &proof.lro[2])
	if err != nil {
		return err
	}
	beta, err := plonkDeriveRandomnessBls12381(fs, "beta")
	if err != nil {
		return err
	}
	alphaDeps := make([]*curve.G1Affine, len(proof.bsb22Commitments)+1)
	for i := range proof.bsb22Commitments {
		alphaDeps[i] = &proof.bsb22Commitments[i]
	}
	alphaDeps[len(alphaDeps)-1] = &proof.z
	alpha, err := plonkDeriveRandomnessBls12381(fs, "alpha", alphaDeps...)
	if err != nil {
		return err
	}
	zeta, err := plonkDeriveRandomnessBls12381(fs, "zeta", &proof.h[0], &proof.h[1], &proof.h[2])
	if err != nil {
		return err
	}

	// ζⁿ-1 and L₁(ζ) = (ζⁿ-1)/(n(ζ-1))
	var zetaPowerM, zhZeta, lagrangeZero fr.Element
	var bExpo big.Int
	one := fr.One()
	bExpo.SetUint64(vk.size)
	zetaPowerM.Exp(zeta, &bExpo)
	zhZeta.Sub(&zetaPowerM, &one)
	lagrangeZero.Sub(&zeta, &one).
		Inverse(&lagrangeZero).
		Mul(&lagrangeZero, &zhZeta).
		Mul(&lagrangeZero, &vk.sizeInv)

	// PI(ζ) = ∑ Lᵢ(ζ)·wᵢ, plus the BSB22 commitment terms.
	var pi, accw fr.Element
	{
		dens := make([]fr.Element, len(publicWitness))
		accw.SetOne()
		for i := range publicWitness {
			dens[i].Sub(&zeta, &accw)
			accw.Mul(&accw, &vk.generator)
		}
		invDens := fr.BatchInvert(dens)
		accw.SetOne()
		var xiLi fr.Element
		for i := range publicWitness {
			xiLi.Mul(&zhZeta, &invDens[i]).
				Mul(&xiLi, &vk.sizeInv).
				Mul(&xiLi, &accw).
				Mul(&xiLi, &publicWitness[i])
			accw.Mul(&accw, &vk.generator)
			pi.Add(&pi, &xiLi)
		}

		hashToField := hash_to_field.New([]byte(plonkCommitmentDst))
		nbBuf := min(fr.Bytes, hashToField.Size())
		var hashedCmt, wPowI, den, lagrange fr.Element
		for i, cci := range vk.commitmentConstraintIndexes {
			hashToField.Write(proof.bsb22Commitments[i].Marshal())
			hashBts := hashToField.Sum(nil)
			hashToField.Reset()
			hashedCmt.SetBytes(hashBts[:nbBuf])

			// Lᵢ(ζ) for i = nbPublic + cci (both bounded by the domain
			// size, so the int64 conversion is exact).
			wPowI.Exp(vk.generator, big.NewInt(int64(vk.nbPublicVariables)+int64(cci)))
			den.Sub(&zeta, &wPowI)
			lagrange.SetOne().
				Sub(&zetaPowerM, &lagrange).
				Mul(&lagrange, &wPowI).
				Div(&lagrange, &den).
				Mul(&lagrange, &vk.sizeInv)

			xiLi.Mul(&lagrange, &hashedCmt)
			pi.Add(&pi, &xiLi)
		}
	}

	var _s1, _s2, tmp fr.Element
	l := proof.batchedProof.ClaimedValues[1]
	r := proof.batchedProof.ClaimedValues[2]
	o := proof.batchedProof.ClaimedValues[3]
	s1 := proof.batchedProof.ClaimedValues[4]
	s2 := proof.batchedProof.ClaimedValues[5]
	zu := proof.zShiftedOpening.ClaimedValue // Z(ωζ)

	var alphaSquareLagrangeZero fr.Element
	alphaSquareLagrangeZero.Mul(&lagrangeZero, &alpha).
		Mul(&alphaSquareLagrangeZero, &alpha) // α²·L₁(ζ)

	// -[PI(ζ) - α²·L₁(ζ) + α(l(ζ)+β·s1(ζ)+γ)(r(ζ)+β·s2(ζ)+γ)(o(ζ)+γ)·z(ωζ)]
	var constLin fr.Element
	constLin.Mul(&beta, &s1).Add(&constLin, &gamma).Add(&constLin, &l)
	tmp.Mul(&s2, &beta).Add(&tmp, &gamma).Add(&tmp, &r)
	constLin.Mul(&constLin, &tmp)
	tmp.Add(&o, &gamma)
	constLin.Mul(&tmp, &constLin).Mul(&constLin, &alpha).Mul(&constLin, &zu)
	constLin.Sub(&constLin, &alphaSquareLagrangeZero).Add(&constLin, &pi)
	constLin.Neg(&constLin)

	// The opening of the linearised polynomial must equal -constLin.
	openingLinPol := proof.batchedProof.ClaimedValues[0]
	if !constLin.Equal(&openingLinPol) {
		return errPlonkAlgebraicRelationBls12381
	}

	// _s1 = α(l(ζ)+β·s1(ζ)+γ)(r(ζ)+β·s2(ζ)+γ)·β·Z(ωζ)
	_s1.Mul(&beta, &s1).Add(&_s1, &l).Add(&_s1, &gamma)
	tmp.Mul(&beta, &s2).Add(&tmp, &r).Add(&tmp, &gamma)
	_s1.Mul(&_s1, &tmp).Mul(&_s1, &beta).Mul(&_s1, &alpha).Mul(&_s1, &zu)

	// _s2 = -α(l(ζ)+β·ζ+γ)(r(ζ)+β·u·ζ+γ)(o(ζ)+β·u²·ζ+γ)
	_s2.Mul(&beta, &zeta).Add(&_s2, &gamma).Add(&_s2, &l)
	tmp.Mul(&beta, &vk.cosetShift).Mul(&tmp, &zeta).Add(&tmp, &gamma).Add(&tmp, &r)
	_s2.Mul(&_s2, &tmp)
	tmp.Mul(&beta, &vk.cosetShift).Mul(&tmp, &vk.cosetShift).Mul(&tmp, &zeta).Add(&tmp, &o).Add(&tmp, &gamma)
	_s2.Mul(&_s2, &tmp).Mul(&_s2, &alpha).Neg(&_s2)

	var coeffZ fr.Element
	coeffZ.Add(&alphaSquareLagrangeZero, &_s2)

	var rl fr.Element
	rl.Mul(&l, &r)

	// -ζⁿ⁺²(ζⁿ-1), -ζ²⁽ⁿ⁺²⁾(ζⁿ-1), -(ζⁿ-1)
	nPlusTwo := new(big.Int).SetUint64(vk.size)
	nPlusTwo.Add(nPlusTwo, big.NewInt(2))
	var zetaNPlusTwoZh, zetaNPlusTwoSquareZh, zh fr.Element
	zetaNPlusTwoZh.Exp(zeta, nPlusTwo)
	zetaNPlusTwoSquareZh.Mul(&zetaNPlusTwoZh, &zetaNPlusTwoZh)
	zetaNPlusTwoZh.Mul(&zetaNPlusTwoZh, &zhZeta).Neg(&zetaNPlusTwoZh)
	zetaNPlusTwoSquareZh.Mul(&zetaNPlusTwoSquareZh, &zhZeta).Neg(&zetaNPlusTwoSquareZh)
	zh.Neg(&zhZeta)

	// Digest of the linearised polynomial.
	points := make([]curve.G1Affine, 0, len(proof.bsb22Commitments)+10)
	points = append(points, proof.bsb22Commitments...)
	points = append(points,
		vk.ql, vk.qr, vk.qm, vk.qo, vk.qk,
		vk.s[2], proof.z,
		proof.h[0], proof.h[1], proof.h[2],
	)
	scalars := make([]fr.Element, 0, len(points))
	scalars = append(scalars, proof.batchedProof.ClaimedValues[6:]...)
	scalars = append(scalars,
		l, r, rl, o, one,
		_s1, coeffZ,
		zh, zetaNPlusTwoZh, zetaNPlusTwoSquareZh,
	)
	var linearizedPolynomialDigest curve.G1Affine
	if _, err := linearizedPolynomialDigest.MultiExp(points, scalars, ecc.MultiExpConfig{NbTasks: 1}); err != nil {
		return err
	}

	// Fold the batched opening at ζ.
	digestsToFold := make([]curve.G1Affine, len(vk.qcp)+6)
	copy(digestsToFold[6:], vk.qcp)
	digestsToFold[0] = linearizedPolynomialDigest
	digestsToFold[1] = proof.lro[0]
	digestsToFold[2] = proof.lro[1]
	digestsToFold[3] = proof.lro[2]
	digestsToFold[4] = vk.s[0]
	digestsToFold[5] = vk.s[1]
	zuBytes := zu.Marshal()
	foldedProof, foldedDigest, err := kzg.FoldProof(digestsToFold, &proof.batchedProof, zeta, sha256.New(), zuBytes)
	if err != nil {
		return err
	}

	// Check the folded opening at ζ and Z's opening at ωζ together.
	var shiftedZeta fr.Element
	shiftedZeta.Mul(&zeta, &vk.generator)
	return kzg.BatchVerifyMultiPoints(
		[]kzg.Digest{foldedDigest, proof.z},
		[]kzg.OpeningProof{foldedProof, proof.zShiftedOpening},
		[]fr.Element{zeta, shiftedZeta},
		vk.kzg,
	)
}

// bindPublicData binds the key's commitments and the public inputs to the
// first challenge.
func (vk *plonkVKBls12381) bindPublicData(fs *fiatshamir.Transcript, challenge string, publicInputs []fr.Element) error {
	for _, d := range []*kzg.Digest{&vk.s[0], &vk.s[1], &vk.s[2], &vk.ql, &vk.qr, &vk.qm, &vk.qo, &vk.qk} {
		if err := fs.Bind(challenge, d.Marshal()); err != nil {
			return err
		}
	}
	for i := range vk.qcp {
		if err := fs.Bind(challenge, vk.qcp[i].Marshal()); err != nil {
			return err
		}
	}
	for i := range publicInputs {
		if err := fs.Bind(challenge, publicInputs[i].Marshal()); err != nil {
			return err
		}
	}
	return nil
}

func plonkDeriveRandomnessBls12381(fs *fiatshamir.Transcript, challenge string, points ...*curve.G1Affine) (fr.Element, error) {
	var r fr.Element
	for _, p := range points {
		buf := p.RawBytes()
		if err := fs.Bind(challenge, buf[:]); err != nil {
			return r, err
		}
	}
	b, err := fs.ComputeChallenge(challenge)
	if err != nil {
		return r, err
	}
	r.SetBytes(b)
	return r, nil
}

// checkPlonkBls12381 parses a key and returns its number of public inputs.
func checkPlonkBls12381(vkBytes []byte) (int, *Error) {
	vk, err := parsePlonkVKBls12381(vkBytes)
	if err != nil {
		return 0, asError(ReasonMalformedVerifyingKey, err)
	}
	return int(vk.nbPublicVariables), nil
}

// verifyPlonkBls12381 runs one job: key, proof, inputs, count, verification.
func verifyPlonkBls12381(job *ProofJob, limits Limits) *Error {
	vk, err := parsePlonkVKBls12381(job.VerifyingKey)
	if err != nil {
		return asError(ReasonMalformedVerifyingKey, err)
	}
	proof, err := parsePlonkProofBls12381(job.Proof)
	if err != nil {
		return newError(ReasonMalformedProof, err.Error())
	}
	public, perr := publicInputsBls12381(job.PublicInputs, limits)
	if perr != nil {
		return perr
	}
	if uint64(len(public)) != vk.nbPublicVariables {
		return wrongInputCount(len(public), int(vk.nbPublicVariables))
	}
	if err := vk.verify(proof, public); err != nil {
		return newError(ReasonInvalidProof, err.Error())
	}
	return nil
}
