package circuit

import (
	"bytes"
	"fmt"

	"github.com/consensys/gnark-crypto/ecc"
	"github.com/consensys/gnark/backend/groth16"
	"github.com/consensys/gnark/constraint"
	"github.com/consensys/gnark/frontend"

	"github.com/lightkeeper-net/lightkeeper/protocol"
	"github.com/lightkeeper-net/lightkeeper/shielded"
	"github.com/lightkeeper-net/lightkeeper/verifier"
)

// Witness is what a wallet needs to withdraw a note: the note, its
// membership path (Path.Index is the leaf index) against Root, which must
// be one of the pool's known roots, and the recipient's field element
// (shielded.RecipientFromAddress).
type Witness struct {
	Note      shielded.Note
	Path      shielded.MerklePath
	Root      shielded.Scalar
	Recipient shielded.Scalar
}

// PublicInputs returns the public inputs a proof of w has: Root, the note's
// nullifier at Path.Index, the note's amount and Recipient.
func (w *Witness) PublicInputs() shielded.PublicInputs {
	return shielded.PublicInputs{
		Root:      w.Root,
		Nullifier: w.Note.Nullifier(w.Path.Index),
		Amount:    w.Note.Amount,
		Recipient: w.Recipient,
	}
}

// Check runs the circuit's relation natively, so a wallet gets a clear
// error before spending a second on a proof that cannot succeed.
func (w *Witness) Check() error {
	if len(w.Path.Siblings) != Depth {
		return fmt.Errorf("circuit: path has %d siblings, the circuit needs %d", len(w.Path.Siblings), Depth)
	}
	if err := w.Path.Verify(w.Root, w.Note.Commitment()); err != nil {
		return fmt.Errorf("circuit: the note is not in the tree under this root: %w", err)
	}
	return nil
}

// Prover proves withdrawals with one decoded proving key and compiled
// circuit (decoding a key takes longer than a proof, so keep one Prover).
// Safe for concurrent use.
type Prover struct {
	ccs constraint.ConstraintSystem
	pk  groth16.ProvingKey
}

// NewProver decodes a proving key made by Setup and compiles the circuit.
func NewProver(pk []byte) (*Prover, error) {
	ccs, err := Compile()
	if err != nil {
		return nil, err
	}
	key, err := readProvingKey(pk)
	if err != nil {
		return nil, err
	}
	return &Prover{ccs: ccs, pk: key}, nil
}

// NbConstraints returns the circuit's number of R1CS constraints.
func (p *Prover) NbConstraints() int { return p.ccs.GetNbConstraints() }

// Prove checks w natively, then proves it. It returns gnark's binary proof
// (Proof.WriteTo) and the public inputs in gnark's binary public-witness
// form: with the verifying key, exactly a verifier.ProofJob for
// SchemeGroth16 and CurveBN254 (see Job).
//
// The proof's blinding randomness comes from crypto/rand inside gnark (it
// has no option to pass a reader). It protects only zero-knowledge: a bad
// source could leak the witness, never make a false statement provable.
func (p *Prover) Prove(w Witness) (proof, public []byte, err error) {
	if err := w.Check(); err != nil {
		return nil, nil, err
	}
	pub := w.PublicInputs()
	a, err := assignment(&w, pub)
	if err != nil {
		return nil, nil, err
	}
	return p.prove(a)
}

// prove proves an assignment as is (tests use it to show that the circuit,
// not only Check, refuses bad witnesses).
func (p *Prover) prove(a *Circuit) (proof, public []byte, err error) {
	full, err := frontend.NewWitness(a, ecc.BN254.ScalarField())
	if err != nil {
		return nil, nil, fmt.Errorf("circuit: witness: %w", err)
	}
	pr, err := groth16.Prove(p.ccs, p.pk, full)
	if err != nil {
		return nil, nil, fmt.Errorf("circuit: prove: %w", err)
	}
	var buf bytes.Buffer
	if _, err := pr.WriteTo(&buf); err != nil {
		return nil, nil, fmt.Errorf("circuit: encoding proof: %w", err)
	}
	pw, err := full.Public()
	if err != nil {
		return nil, nil, fmt.Errorf("circuit: public witness: %w", err)
	}
	public, err = pw.MarshalBinary()
	if err != nil {
		return nil, nil, fmt.Errorf("circuit: encoding public witness: %w", err)
	}
	return buf.Bytes(), public, nil
}

// Prove is NewProver(pk) followed by one Prove.
func Prove(pk []byte, w Witness) (proof, public []byte, err error) {
	p, err := NewProver(pk)
	if err != nil {
		return nil, nil, err
	}
	return p.Prove(w)
}

// Job returns the verifier job for a withdrawal proof: Groth16 on BN254
// with the pool's verifying key and the public inputs encoded from pub.
// The state machine builds pub from the request's own fields, so what the
// keepers verify is exactly what it checks (known root, unspent nullifier,
// amount, recipient).
func Job(vk, proof []byte, pub shielded.PublicInputs) verifier.ProofJob {
	public, _ := pub.MarshalBinary()
	return verifier.ProofJob{
		Scheme:       verifier.SchemeGroth16,
		Curve:        verifier.CurveBN254,
		VerifyingKey: vk,
		Proof:        proof,
		PublicInputs: public,
	}
}

// Verify is verifier.VerifyProof(Job(vk, proof, pub), protocol.DefaultLimits()).
func Verify(vk, proof []byte, pub shielded.PublicInputs) verifier.Verdict {
	return verifier.VerifyProof(Job(vk, proof, pub), protocol.DefaultLimits())
}
