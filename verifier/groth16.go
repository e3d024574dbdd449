package verifier

import "fmt"

// Groth16 (gnark's variant, with optional BSB22 commitments). Keys and
// proofs are decoded and verified by gnark's backends (backend_bn254.go and
// the generated backend_bls12381.go); this file holds the curve-independent
// pre-check of their encodings.

// scanGroth16VK walks gnark's Groth16 VerifyingKey encoding (WriteTo or
// WriteRawTo of gnark v0.16.1 backend/groth16/<curve>): [α]1, [β]1, [β]2,
// [γ]2, [δ]1, [δ]2, u32 n and n points [K]1 (the ONE wire, the public
// inputs, one point per commitment), [][]u64 committed wires, u32 number of
// commitment keys, then the pedersen keys (two G2 points each).
//
// Besides the length prefixes it checks what gnark's Verify relies on
// without checking (it indexes with these numbers): as many commitment keys
// as committed-wire lists, at least one K point per commitment plus the ONE
// wire, committed wires in range. Too many K points (more than maxPublic
// inputs plus maxCommitments, found before the points are walked) is an
// *Error with ReasonOversized, too many commitments one with
// ReasonUnsupported; any other failure is a plain error meaning a malformed
// key.
func scanGroth16VK(curve Curve, b []byte, maxPublic int) error {
	s := newScanner(curve, b)
	for _, p := range []struct {
		skip func(string) error
		what string
	}{{s.g1, "[α]1"}, {s.g1, "[β]1"}, {s.g2, "[β]2"}, {s.g2, "[γ]2"}, {s.g1, "[δ]1"}, {s.g2, "[δ]2"}} {
		if err := p.skip("verifying key " + p.what); err != nil {
			return err
		}
	}
	nbK, err := s.g1Slice(1+maxPublic+maxCommitments, func(n int) error {
		return tooManyKeyInputs(int64(n)-1-maxCommitments, maxPublic)
	}, "verifying key K")
	if err != nil {
		return err
	}
	committed, err := s.uint64SliceSlice("verifying key committed wires")
	if err != nil {
		return err
	}
	if len(committed) > maxCommitments {
		return tooManyCommitments(int64(len(committed)))
	}
	nbKeys, err := s.uint32("verifying key commitment count")
	if err != nil {
		return err
	}
	if int64(nbKeys) != int64(len(committed)) {
		return fmt.Errorf("verifying key has %d commitment keys but %d committed-wire lists", nbKeys, len(committed))
	}
	for i := range int(nbKeys) {
		if err := s.g2(fmt.Sprintf("verifying key commitment key %d", i)); err != nil {
			return err
		}
		if err := s.g2(fmt.Sprintf("verifying key commitment key %d", i)); err != nil {
			return err
		}
	}
	if err := s.done("verifying key"); err != nil {
		return err
	}

	if nbK < 1+len(committed) {
		return fmt.Errorf("verifying key has %d K points, needs at least %d", nbK, 1+len(committed))
	}
	nbPublicVars := nbK - len(committed) // including the ONE wire
	for i, wires := range committed {
		for _, w := range wires {
			// Commitment i hashes public wires 1..nbPublicVars-1 and the
			// values of commitments 0..i-1 (appended after them).
			if w < 1 || w > uint64(nbPublicVars-1+i) {
				return fmt.Errorf("verifying key commitment %d commits to wire %d, out of range", i, w)
			}
		}
	}
	return nil
}

// scanGroth16Proof walks gnark's Groth16 Proof encoding: Ar (G1), Bs (G2),
// Krs (G1), []G1 commitments, CommitmentPok (G1).
func scanGroth16Proof(curve Curve, b []byte) error {
	s := newScanner(curve, b)
	if err := s.g1("proof Ar"); err != nil {
		return err
	}
	if err := s.g2("proof Bs"); err != nil {
		return err
	}
	if err := s.g1("proof Krs"); err != nil {
		return err
	}
	if _, err := s.g1Slice(maxCommitments, func(n int) error {
		return fmt.Errorf("proof has %d commitments, more than the %d supported", n, maxCommitments)
	}, "proof commitments"); err != nil {
		return err
	}
	if err := s.g1("proof commitment proof of knowledge"); err != nil {
		return err
	}
	return s.done("proof")
}
