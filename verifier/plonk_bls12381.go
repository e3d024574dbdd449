// Code generated from plonk_bn254.go by gen.go; DO NOT EDIT.

//go:build !lightkeeper_noplonk && !lightkeeper_nobls12381

package verifier

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/big"

	curve "github.com/consensys/gnark-crypto/ecc/bls12-381"
	"github.com/consensys/gnark-crypto/ecc/bls12-381/fr"
	"github.com/consensys/gnark-crypto/ecc/bls12-381/kzg"
	plonk "github.com/consensys/gnark/backend/plonk/bls12-381"
	"github.com/lightkeeper-net/lightkeeper/protocol"
)

func init() {
	keyParsers[SchemePlonk][CurveBLS12_381] = func(b []byte, _ protocol.Limits) (parsedKey, *Error) {
		k, e := newPlonkKeyBls12381(b)
		if e != nil {
			return nil, e
		}
		return k, nil
	}
}

// kzgLinesBytesBls12381 is the size of a KZG verifying key's precomputed
// pairing lines, a fixed-size array gnark-crypto reads as raw big-endian
// limbs (the pre-check skips it).
var kzgLinesBytesBls12381 = binary.Size(kzg.VerifyingKey{}.Lines)

// plonkKeyBls12381 is a decoded and checked PLONK key.
type plonkKeyBls12381 struct{ vk *plonk.VerifyingKey }

func newPlonkKeyBls12381(b []byte) (*plonkKeyBls12381, *Error) {
	vk, e := readPlonkVKBls12381(b)
	if e != nil {
		return nil, e
	}
	return &plonkKeyBls12381{vk: vk}, nil
}

func (k *plonkKeyBls12381) nbPublic() int {
	return int(k.vk.NbPublicVariables) // at most the domain size, 2^40
}

func (k *plonkKeyBls12381) verify(job *ProofJob, limits protocol.Limits) *Error {
	return verifyPlonkKeyBls12381(k.vk, job, limits)
}

func (k *plonkKeyBls12381) verifyBatch(jobs []*ProofJob, limits protocol.Limits) []*Error {
	errs := make([]*Error, len(jobs))
	for i, job := range jobs {
		errs[i] = k.verify(job, limits)
	}
	return errs
}

// readPlonkVKBls12381 pre-checks a PLONK key, decodes it with gnark and checks
// its consistency.
func readPlonkVKBls12381(b []byte) (*plonk.VerifyingKey, *Error) {
	if err := scanPlonkVK(CurveBLS12_381, kzgLinesBytesBls12381, b); err != nil {
		return nil, asError(ReasonMalformedVerifyingKey, err)
	}
	vk := new(plonk.VerifyingKey)
	if err := readExactly(vk, b); err != nil {
		return nil, newError(ReasonMalformedVerifyingKey, "verifying key: "+err.Error())
	}
	if err := checkPlonkVKBls12381(vk); err != nil {
		return nil, newError(ReasonMalformedVerifyingKey, err.Error())
	}
	return vk, nil
}

// checkPlonkVKBls12381 checks what an honest setup guarantees and gnark's
// Verify relies on without checking: the integers (checkPlonkShape), a
// primitive root of unity of the domain size and its inverse size, and
// pairing lines that really belong to the KZG key's two G2 points (gnark
// decodes the lines as they come and pairs with them).
func checkPlonkVKBls12381(vk *plonk.VerifyingKey) error {
	if err := checkPlonkShape(vk.Size, vk.NbPublicVariables, len(vk.Qcp), vk.CommitmentConstraintIndexes); err != nil {
		return err
	}
	var n, one fr.Element
	n.SetUint64(vk.Size)
	one.SetOne()
	if t := new(fr.Element).Mul(&n, &vk.SizeInv); !t.Equal(&one) {
		return errors.New("verifying key SizeInv is not the inverse of Size")
	}
	var e big.Int
	e.SetUint64(vk.Size)
	if t := new(fr.Element).Exp(vk.Generator, &e); !t.Equal(&one) {
		return errors.New("verifying key generator is not a root of unity of the domain size")
	}
	if vk.Size > 1 {
		e.SetUint64(vk.Size / 2)
		if t := new(fr.Element).Exp(vk.Generator, &e); t.Equal(&one) {
			return errors.New("verifying key generator is not a primitive root of unity")
		}
	}
	// The Miller loop reads the addition lines [1][i] only where the loop
	// counter is non-zero; honest keys hold zeros elsewhere and gnark
	// ignores those entries, so do we.
	for j := range vk.Kzg.G2 {
		want := curve.PrecomputeLines(vk.Kzg.G2[j])
		got := &vk.Kzg.Lines[j]
		for i := range want[0] {
			if got[0][i] != want[0][i] || (curve.LoopCounter[i] != 0 && got[1][i] != want[1][i]) {
				return fmt.Errorf("verifying key pairing lines do not match its G2 point %d", j)
			}
		}
	}
	return nil
}

// verifyPlonkKeyBls12381 runs one job under a parsed key.
func verifyPlonkKeyBls12381(vk *plonk.VerifyingKey, job *ProofJob, limits protocol.Limits) *Error {
	if err := scanPlonkProof(CurveBLS12_381, job.Proof); err != nil {
		return newError(ReasonMalformedProof, err.Error())
	}
	proof := new(plonk.Proof)
	if err := readExactly(proof, job.Proof); err != nil {
		return newError(ReasonMalformedProof, "proof: "+err.Error())
	}
	public, e := publicInputsBls12381(job.PublicInputs, limits)
	if e != nil {
		return e
	}
	if uint64(len(public)) != vk.NbPublicVariables {
		return wrongInputCount(len(public), int(vk.NbPublicVariables))
	}
	if err := plonk.Verify(proof, vk, public); err != nil {
		return newError(ReasonInvalidProof, err.Error())
	}
	return nil
}
