package circuit

import (
	"bytes"
	"errors"
	"fmt"
	"io"

	"github.com/consensys/gnark-crypto/ecc"
	"github.com/consensys/gnark/backend/groth16"
	groth16bn254 "github.com/consensys/gnark/backend/groth16/bn254"
	"github.com/consensys/gnark/backend/groth16/bn254/mpcsetup"
	"github.com/consensys/gnark/constraint"
	cs "github.com/consensys/gnark/constraint/bn254"
	"github.com/consensys/gnark/frontend"
	"github.com/consensys/gnark/frontend/cs/r1cs"
)

// Compile compiles the circuit to its BN254 R1CS. Deterministic: the same
// gnark version gives the same constraint system (and Setup's keys depend on
// it, so a gnark upgrade that changes compilation needs a new setup).
func Compile() (constraint.ConstraintSystem, error) {
	ccs, err := frontend.Compile(ecc.BN254.ScalarField(), r1cs.NewBuilder, &Circuit{})
	if err != nil {
		return nil, fmt.Errorf("circuit: compile: %w", err)
	}
	return ccs, nil
}

// setupSeedSize is how many bytes Setup reads from rand for each phase.
const setupSeedSize = 32

// Setup makes the withdrawal circuit's Groth16 proving and verifying keys
// (gnark's WriteTo encodings; the verifying key is what genesis registers
// and verifier.VerifyProof takes) with all of its secret randomness drawn
// from rand.
//
// Trust model: this is a single-party setup. The keys are sound only if
// the 64 bytes read from rand were secret and are destroyed: whoever knows
// them can recompute the toxic waste (τ, α, β, δ) and forge proofs of
// withdrawals that never had a deposit, i.e. drain the pool. Proofs stay
// zero-knowledge even against the setup party. Use crypto/rand.Reader at
// genesis on a machine you trust, and throw the process away; a seeded
// reader is for tests only (it gives reproducible keys).
//
// How: it runs gnark's MPC ceremony code (backend/groth16/bn254/mpcsetup)
// with no contributors and two secret "beacons" read from rand, one per
// phase. The beacon's contribution is a hash of the transcript and the
// beacon, so the toxic waste is a deterministic function of the secret
// bytes. A real ceremony replaces this with the same two phases, many
// independent contributions (sound if any one contributor was honest) and
// a public beacon at the end; the circuit, the prover and the verifier do
// not change, only the keys. (gnark's own groth16.Setup cannot be used: it
// samples its toxic waste from crypto/rand internally.)
func Setup(rand io.Reader) (pk, vk []byte, err error) {
	defer func() {
		if r := recover(); r != nil { // gnark's mpcsetup panics on internal errors
			pk, vk, err = nil, nil, fmt.Errorf("circuit: setup: %v", r)
		}
	}()
	if rand == nil {
		return nil, nil, errors.New("circuit: Setup needs a randomness source")
	}
	var seeds [2][setupSeedSize]byte
	for i := range seeds {
		if _, err := io.ReadFull(rand, seeds[i][:]); err != nil {
			return nil, nil, fmt.Errorf("circuit: reading setup randomness: %w", err)
		}
	}
	defer func() { seeds = [2][setupSeedSize]byte{} }()

	ccs, err := Compile()
	if err != nil {
		return nil, nil, err
	}
	r1csBN254, ok := ccs.(*cs.R1CS)
	if !ok {
		return nil, nil, fmt.Errorf("circuit: compiled to %T, want a BN254 R1CS", ccs)
	}
	if n := len(r1csBN254.GetCommitments().(constraint.Groth16Commitments)); n != 0 {
		return nil, nil, errors.New("circuit: unexpected commitments in the withdrawal circuit")
	}
	domain := ecc.NextPowerOfTwo(uint64(ccs.GetNbConstraints()))

	var p1 mpcsetup.Phase1
	p1.Initialize(domain)
	commons := p1.Seal(seeds[0][:])

	var p2 mpcsetup.Phase2
	evals := p2.Initialize(r1csBN254, &commons)
	provingKey, verifyingKey := p2.Seal(&commons, &evals, seeds[1][:])

	var pkBuf, vkBuf bytes.Buffer
	if _, err := provingKey.WriteTo(&pkBuf); err != nil {
		return nil, nil, fmt.Errorf("circuit: encoding proving key: %w", err)
	}
	if _, err := verifyingKey.WriteTo(&vkBuf); err != nil {
		return nil, nil, fmt.Errorf("circuit: encoding verifying key: %w", err)
	}
	return pkBuf.Bytes(), vkBuf.Bytes(), nil
}

// readProvingKey decodes a proving key written by Setup (gnark's ReadFrom,
// which checks every point).
func readProvingKey(b []byte) (groth16.ProvingKey, error) {
	pk := new(groth16bn254.ProvingKey)
	n, err := pk.ReadFrom(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("circuit: decoding proving key: %w", err)
	}
	if n != int64(len(b)) {
		return nil, fmt.Errorf("circuit: proving key has %d trailing bytes", int64(len(b))-n)
	}
	return pk, nil
}
