// Package circuit is the shielded pool's withdrawal circuit: a Groth16
// circuit on BN254 written with gnark's frontend, its setup, and a prover
// whose output verifier.VerifyProof accepts (gnark's binary proof and
// public witness).
//
// The circuit proves, for public (Root, Nullifier, Amount, Recipient), that
// the prover knows a nullifier key nk, a secret, a 20-bit leaf index and a
// Merkle path such that
//
//	leaf      = H_com(H_pre(nk, secret), Amount)   and Amount < 2⁶⁴
//	Root      = the root the path gives from leaf at index
//	Nullifier = H_nf(nk, index)
//
// and it binds Recipient (a Groth16 public input that no constraint touches
// would not be bound: the proof would verify for any recipient). The hashes
// are package shielded's, with the same domain IVs; TestNativeMatchesCircuit
// checks they agree.
package circuit

import (
	"fmt"

	"github.com/consensys/gnark/frontend"
	"github.com/consensys/gnark/std/hash/mimc"

	"github.com/lightkeeper-net/lightkeeper/shielded"
)

// Depth is the tree depth the circuit proves membership in.
const Depth = shielded.DefaultDepth

// Circuit is the withdrawal circuit. The order of the public fields is the
// order of shielded.PublicInputs and of the public witness.
type Circuit struct {
	Root      frontend.Variable `gnark:",public"`
	Nullifier frontend.Variable `gnark:",public"`
	Amount    frontend.Variable `gnark:",public"`
	Recipient frontend.Variable `gnark:",public"`

	Secret       frontend.Variable
	NullifierKey frontend.Variable
	// Path[l] is the sibling at height l; IndexBits[l] is bit l of the
	// leaf index (1: the path's node at height l is a right child).
	Path      [Depth]frontend.Variable
	IndexBits [Depth]frontend.Variable
}

// Define implements frontend.Circuit.
func (c *Circuit) Define(api frontend.API) error {
	hash := func(d shielded.Domain, a, b frontend.Variable) (frontend.Variable, error) {
		h, err := mimc.New(api)
		if err != nil {
			return nil, err
		}
		if err := h.SetState([]frontend.Variable{shielded.DomainIV(d).BigInt()}); err != nil {
			return nil, err
		}
		h.Write(a, b)
		return h.Sum(), nil
	}

	// The amount is a u64, as the state machine's deposits are. (The leaf
	// already binds it to the deposited value; the range check keeps a
	// field element ≥ 2⁶⁴ out of the public inputs for certain.)
	api.ToBinary(c.Amount, 64)

	pre, err := hash(shielded.DomainPrecommitment, c.NullifierKey, c.Secret)
	if err != nil {
		return err
	}
	cur, err := hash(shielded.DomainCommitment, pre, c.Amount)
	if err != nil {
		return err
	}

	// Walk up: at height l the node is the right child iff bit l is 1.
	// With d = bit·(sibling − cur): left = cur + d, right = sibling − d
	// (one constraint per level instead of two selects).
	index := frontend.Variable(0)
	for l := 0; l < Depth; l++ {
		bit := c.IndexBits[l]
		api.AssertIsBoolean(bit)
		d := api.Mul(bit, api.Sub(c.Path[l], cur))
		left := api.Add(cur, d)
		right := api.Sub(c.Path[l], d)
		if cur, err = hash(shielded.DomainNode, left, right); err != nil {
			return err
		}
		index = api.Add(index, api.Mul(bit, uint64(1)<<l))
	}
	api.AssertIsEqual(cur, c.Root)

	// The nullifier is derived from the same bits that steer the path, so
	// it names this leaf's position and no other.
	nf, err := hash(shielded.DomainNullifier, c.NullifierKey, index)
	if err != nil {
		return err
	}
	api.AssertIsEqual(nf, c.Nullifier)

	// Bind the recipient: make it appear in a constraint (Tornado's
	// recipient² trick). Without this, its verifying-key point would be
	// the identity and the proof would verify for any recipient.
	sq := api.Mul(c.Recipient, c.Recipient)
	api.AssertIsEqual(sq, api.Mul(c.Recipient, c.Recipient))
	return nil
}

// assignment fills a full witness from the prover's values.
func assignment(w *Witness, pub shielded.PublicInputs) (*Circuit, error) {
	if len(w.Path.Siblings) != Depth {
		return nil, fmt.Errorf("circuit: path has %d siblings, the circuit needs %d", len(w.Path.Siblings), Depth)
	}
	if w.Path.Index>>Depth != 0 {
		return nil, fmt.Errorf("circuit: leaf index %d does not fit %d bits", w.Path.Index, Depth)
	}
	a := &Circuit{
		Root:         pub.Root.BigInt(),
		Nullifier:    pub.Nullifier.BigInt(),
		Amount:       pub.Amount,
		Recipient:    pub.Recipient.BigInt(),
		Secret:       w.Note.Secret.BigInt(),
		NullifierKey: w.Note.NullifierKey.BigInt(),
	}
	for l := 0; l < Depth; l++ {
		a.Path[l] = w.Path.Siblings[l].BigInt()
		a.IndexBits[l] = w.Path.Index >> l & 1
	}
	return a, nil
}
