//go:build !lightkeeper_noplonk

package verifier

// PLONK on BN254 through gnark's backend; a build with the tag
// lightkeeper_noplonk leaves this file (and gnark's PLONK packages) out.
// See backend_bn254.go for the BLS12-381 twin.

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/big"

	curve "github.com/consensys/gnark-crypto/ecc/bn254"
	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
	"github.com/consensys/gnark-crypto/ecc/bn254/kzg"
	plonk "github.com/consensys/gnark/backend/plonk/bn254"
	"github.com/lightkeeper-net/lightkeeper/protocol"
)

func init() {
	keyParsers[SchemePlonk][CurveBN254] = func(b []byte, _ protocol.Limits) (parsedKey, *Error) {
		k, e := newPlonkKeyBn254(b)
		if e != nil {
			return nil, e
		}
		return k, nil
	}
}

// kzgLinesBytesBn254 is the size of a KZG verifying key's precomputed
// pairing lines, a fixed-size array gnark-crypto reads as raw big-endian
// limbs (the pre-check skips it).
var kzgLinesBytesBn254 = binary.Size(kzg.VerifyingKey{}.Lines)

// plonkKeyBn254 is a decoded and checked PLONK key.
type plonkKeyBn254 struct{ vk *plonk.VerifyingKey }

func newPlonkKeyBn254(b []byte) (*plonkKeyBn254, *Error) {
	vk, e := readPlonkVKBn254(b)
	if e != nil {
		return nil, e
	}
	return &plonkKeyBn254{vk: vk}, nil
}

func (k *plonkKeyBn254) nbPublic() int {
	return int(k.vk.NbPublicVariables) // at most the domain size, 2^40
}

func (k *plonkKeyBn254) verify(job *ProofJob, limits protocol.Limits) *Error {
	return verifyPlonkKeyBn254(k.vk, job, limits)
}

func (k *plonkKeyBn254) verifyBatch(jobs []*ProofJob, limits protocol.Limits) []*Error {
	errs := make([]*Error, len(jobs))
	for i, job := range jobs {
		errs[i] = k.verify(job, limits)
	}
	return errs
}

// readPlonkVKBn254 pre-checks a PLONK key, decodes it with gnark and checks
// its consistency.
func readPlonkVKBn254(b []byte) (*plonk.VerifyingKey, *Error) {
	if err := scanPlonkVK(CurveBN254, kzgLinesBytesBn254, b); err != nil {
		return nil, asError(ReasonMalformedVerifyingKey, err)
	}
	vk := new(plonk.VerifyingKey)
	if err := readExactly(vk, b); err != nil {
		return nil, newError(ReasonMalformedVerifyingKey, "verifying key: "+err.Error())
	}
	if err := checkPlonkVKBn254(vk); err != nil {
		return nil, newError(ReasonMalformedVerifyingKey, err.Error())
	}
	return vk, nil
}

// checkPlonkVKBn254 checks what an honest setup guarantees and gnark's
// Verify relies on without checking: the integers (checkPlonkShape), a
// primitive root of unity of the domain size and its inverse size, and
// pairing lines that really belong to the KZG key's two G2 points (gnark
// decodes the lines as they come and pairs with them).
func checkPlonkVKBn254(vk *plonk.VerifyingKey) error {
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

// verifyPlonkKeyBn254 runs one job under a parsed key.
func verifyPlonkKeyBn254(vk *plonk.VerifyingKey, job *ProofJob, limits protocol.Limits) *Error {
	if err := scanPlonkProof(CurveBN254, job.Proof); err != nil {
		return newError(ReasonMalformedProof, err.Error())
	}
	proof := new(plonk.Proof)
	if err := readExactly(proof, job.Proof); err != nil {
		return newError(ReasonMalformedProof, "proof: "+err.Error())
	}
	public, e := publicInputsBn254(job.PublicInputs, limits)
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
