package keys

import (
	"crypto/rand"
	"fmt"
	"math/big"

	"github.com/consensys/gnark-crypto/ecc"
	kzgbls12381 "github.com/consensys/gnark-crypto/ecc/bls12-381/kzg"
	kzgbn254 "github.com/consensys/gnark-crypto/ecc/bn254/kzg"
	"github.com/consensys/gnark-crypto/kzg"
	"github.com/consensys/gnark/constraint"
)

// newSRS makes the KZG structured reference string a PLONK setup of ccs
// needs, in canonical and Lagrange form, from a secret τ drawn with
// crypto/rand and forgotten when it returns: gnark-crypto's kzg.NewSRS,
// not gnark's test-only unsafekzg (which caches SRSs by size and keeps τ
// to take a shortcut to the Lagrange form).
//
// A one-party SRS is acceptable here, where it would not be for a
// network's own circuits: the coordinator makes these keys to prove its
// own challenges, and knowing τ would only let it forge proofs for itself.
// Soundness against keepers is not at stake: a keeper never proves, it
// only verifies, so it cannot use the SRS to forge anything; and the
// challenge's point is whether a keeper's verdict matches the truth the
// coordinator already knows.
//
// Sizes are those of gnark's unsafekzg.NewSRS: the system (constraints
// plus public variables) rounded up to a power of two for the Lagrange
// form, plus 3 for the canonical one.
func newSRS(id ecc.ID, ccs constraint.ConstraintSystem) (canonical, lagrange kzg.SRS, err error) {
	sizeLagrange := ecc.NextPowerOfTwo(uint64(ccs.GetNbConstraints() + ccs.GetNbPublicVariables()))
	sizeCanonical := sizeLagrange + 3
	tau, err := rand.Int(rand.Reader, id.ScalarField())
	if err != nil {
		return nil, nil, fmt.Errorf("keys: drawing the SRS secret: %w", err)
	}
	defer tau.SetInt64(0) // forget τ (best effort: kzg.NewSRS copies it into field elements of its own)
	switch id {
	case ecc.BN254:
		srs, err := kzgbn254.NewSRS(sizeCanonical, new(big.Int).Set(tau))
		if err != nil {
			return nil, nil, fmt.Errorf("keys: SRS: %w", err)
		}
		g1, err := kzgbn254.ToLagrangeG1(srs.Pk.G1[:sizeLagrange])
		if err != nil {
			return nil, nil, fmt.Errorf("keys: Lagrange SRS: %w", err)
		}
		return srs, &kzgbn254.SRS{Pk: kzgbn254.ProvingKey{G1: g1}, Vk: srs.Vk}, nil
	case ecc.BLS12_381:
		srs, err := kzgbls12381.NewSRS(sizeCanonical, new(big.Int).Set(tau))
		if err != nil {
			return nil, nil, fmt.Errorf("keys: SRS: %w", err)
		}
		g1, err := kzgbls12381.ToLagrangeG1(srs.Pk.G1[:sizeLagrange])
		if err != nil {
			return nil, nil, fmt.Errorf("keys: Lagrange SRS: %w", err)
		}
		return srs, &kzgbls12381.SRS{Pk: kzgbls12381.ProvingKey{G1: g1}, Vk: srs.Vk}, nil
	}
	return nil, nil, fmt.Errorf("keys: no KZG SRS for curve %s", id)
}
