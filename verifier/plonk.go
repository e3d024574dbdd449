package verifier

import (
	"fmt"
	"math/bits"
)

// PLONK (gnark's variant with KZG commitments and optional BSB22
// commitments). Keys and proofs are decoded and verified by gnark's
// backends (plonk_bn254.go and the generated plonk_bls12381.go); this
// file holds the curve-independent pre-check of their encodings and the
// integer checks on a decoded key.

const (
	// Key serialization header, as in gnark v0.16.1
	// backend/plonk/*/marshal.go: a leading u64 0 marks a versioned key.
	plonkKeyVersionMarker uint64 = 0
	plonkKeyVersion1      uint64 = 1

	// plonkMaxLogSize bounds the evaluation domain (2^40 rows is far beyond
	// both curves' two-adicity, so no real key comes near it).
	plonkMaxLogSize = 40
)

// scanPlonkVK walks gnark's PLONK VerifyingKey encoding (WriteTo or
// WriteRawTo of gnark v0.16.1 backend/plonk/<curve>), versioned (u64 0
// marker, u64 version 1, u64 size, ...) or legacy (u64 size, ...): SizeInv,
// Generator (scalars), u64 NbPublicVariables, CosetShift (scalar), S[0..2],
// Ql, Qr, Qm, Qo, Qk (G1), []G1 Qcp, the KZG key (G1, two G2, the fixed-size
// precomputed lines, kzgLinesBytes long), []u64 commitment constraint
// indexes. More than maxCommitments Qcp is an *Error with
// ReasonUnsupported, found before the points are walked; any other failure is a plain error meaning a malformed
// key.
func scanPlonkVK(curve Curve, kzgLinesBytes int, b []byte) error {
	s := newScanner(curve, b)
	first, err := s.uint64("verifying key header")
	if err != nil {
		return err
	}
	if first == plonkKeyVersionMarker {
		version, err := s.uint64("verifying key version")
		if err != nil {
			return err
		}
		if version != plonkKeyVersion1 {
			return fmt.Errorf("unsupported verifying key serialization version %d", version)
		}
		if _, err := s.uint64("verifying key size"); err != nil {
			return err
		}
	}
	if err := s.scalar("verifying key SizeInv"); err != nil {
		return err
	}
	if err := s.scalar("verifying key Generator"); err != nil {
		return err
	}
	if _, err := s.uint64("verifying key NbPublicVariables"); err != nil {
		return err
	}
	if err := s.scalar("verifying key CosetShift"); err != nil {
		return err
	}
	for _, what := range []string{"S[0]", "S[1]", "S[2]", "Ql", "Qr", "Qm", "Qo", "Qk"} {
		if err := s.g1("verifying key " + what); err != nil {
			return err
		}
	}
	if _, err := s.g1Slice(maxCommitments, func(n int) error {
		return tooManyCommitments(int64(n))
	}, "verifying key Qcp"); err != nil {
		return err
	}
	if err := s.g1("verifying key KZG G1"); err != nil {
		return err
	}
	if err := s.g2("verifying key KZG G2[0]"); err != nil {
		return err
	}
	if err := s.g2("verifying key KZG G2[1]"); err != nil {
		return err
	}
	if err := s.skip(kzgLinesBytes, "verifying key KZG lines"); err != nil {
		return err
	}
	if _, err := s.uint64Slice("verifying key commitment constraint indexes"); err != nil {
		return err
	}
	return s.done("verifying key")
}

// scanPlonkProof walks gnark's PLONK Proof encoding: LRO[0..2], Z, H[0..2],
// BatchedProof.H (G1), []fr BatchedProof.ClaimedValues,
// ZShiftedOpening.H (G1), ZShiftedOpening.ClaimedValue (scalar), []G1
// Bsb22Commitments.
func scanPlonkProof(curve Curve, b []byte) error {
	s := newScanner(curve, b)
	for _, what := range []string{"LRO[0]", "LRO[1]", "LRO[2]", "Z", "H[0]", "H[1]", "H[2]", "batched opening H"} {
		if err := s.g1("proof " + what); err != nil {
			return err
		}
	}
	n, err := s.length(scalarBytes, "proof claimed values")
	if err != nil {
		return err
	}
	if err := s.skip(n*scalarBytes, "proof claimed values"); err != nil {
		return err
	}
	if err := s.g1("proof shifted opening H"); err != nil {
		return err
	}
	if err := s.scalar("proof shifted opening value"); err != nil {
		return err
	}
	if _, err := s.g1Slice(maxCommitments, func(n int) error {
		return fmt.Errorf("proof has %d BSB22 commitments, more than the %d supported", n, maxCommitments)
	}, "proof BSB22 commitments"); err != nil {
		return err
	}
	return s.done("proof")
}

// checkPlonkShape checks the integers of a decoded key that gnark's Verify
// trusts: a power-of-two domain, public inputs and commitment rows inside
// it, one commitment index per Qcp.
func checkPlonkShape(size, nbPublic uint64, nbQcp int, commitmentIndexes []uint64) error {
	if size == 0 || size&(size-1) != 0 || bits.TrailingZeros64(size) > plonkMaxLogSize {
		return fmt.Errorf("verifying key domain size %d is not a power of two up to 2^%d", size, plonkMaxLogSize)
	}
	if nbPublic > size {
		return fmt.Errorf("verifying key has %d public variables in a domain of %d", nbPublic, size)
	}
	if len(commitmentIndexes) != nbQcp {
		return fmt.Errorf("verifying key has %d commitment indexes for %d Qcp", len(commitmentIndexes), nbQcp)
	}
	for _, idx := range commitmentIndexes {
		if idx >= size-nbPublic {
			return fmt.Errorf("verifying key commitment constraint %d is outside the domain", idx)
		}
	}
	return nil
}
