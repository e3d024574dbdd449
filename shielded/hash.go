package shielded

import (
	"crypto/sha256"
	"sync"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
	"github.com/consensys/gnark-crypto/ecc/bn254/fr/mimc"
)

// The hash is gnark-crypto's MiMC on BN254 (x⁵, 110 rounds, Miyaguchi–
// Preneel), whose in-circuit twin is github.com/consensys/gnark/std/hash/mimc.
// docs/withdrawals.md says why MiMC rather than Poseidon2.
//
// Every use of the hash is domain-separated by its initial chaining value
// (the Miyaguchi–Preneel "IV", MiMC's SetState): node, precommitment,
// commitment and nullifier hashes are four different functions, so a value
// of one kind can never be passed off as another (an internal node as a
// leaf, a nullifier as a node). Setting the IV costs no constraints in the
// circuit, unlike hashing an extra tag element (330 constraints a hash).

// Domain names one use of the hash.
type Domain uint8

const (
	DomainNode          Domain = iota + 1 // Merkle tree node: H(left, right)
	DomainPrecommitment                   // H(nullifier_key, secret)
	DomainCommitment                      // the leaf: H(precommitment, amount)
	DomainNullifier                       // H(nullifier_key, leaf_index)
)

// domainLabels are hashed with SHA-256 into the IVs. Changing one changes
// every commitment, root and nullifier: it is a new pool.
var domainLabels = [...]string{
	DomainNode:          "lightkeeper/shielded/v1/node",
	DomainPrecommitment: "lightkeeper/shielded/v1/precommitment",
	DomainCommitment:    "lightkeeper/shielded/v1/commitment",
	DomainNullifier:     "lightkeeper/shielded/v1/nullifier",
}

// emptyLeafLabel is hashed into the value of an empty leaf.
const emptyLeafLabel = "lightkeeper/shielded/v1/empty-leaf"

// recipientLabel prefixes an address before it is hashed into the field.
const recipientLabel = "lightkeeper/shielded/v1/recipient\x00"

// labelScalar is SHA-256(label) reduced modulo r.
func labelScalar(label string) Scalar {
	d := sha256.Sum256([]byte(label))
	var s Scalar
	s.e.SetBytes(d[:])
	return s
}

var domainIVs = sync.OnceValue(func() (ivs [len(domainLabels)]Scalar) {
	for d := range domainLabels {
		if domainLabels[d] != "" {
			ivs[d] = labelScalar(domainLabels[d])
		}
	}
	return ivs
})

// DomainIV returns the initial MiMC chaining value of domain d (the circuit
// sets the same value). It panics on an unknown domain.
func DomainIV(d Domain) Scalar {
	if d < DomainNode || d > DomainNullifier {
		panic("shielded: unknown hash domain")
	}
	return domainIVs()[d]
}

// hash2 is MiMC with IV DomainIV(d) over (a, b).
func hash2(d Domain, a, b fr.Element) Scalar {
	h := mimc.NewFieldHasher()
	iv := DomainIV(d).Bytes()
	if err := h.SetState(iv[:]); err != nil {
		panic("shielded: MiMC SetState: " + err.Error()) // iv is canonical
	}
	return Scalar{h.SumElements([]fr.Element{a, b})}
}

// HashNode is the Merkle tree's inner-node hash.
func HashNode(left, right Scalar) Scalar {
	return hash2(DomainNode, left.element(), right.element())
}

// Precommitment hides a note's two secrets: H(nullifier_key, secret). A
// depositor sends it with the (public) amount; it reveals neither secret.
func Precommitment(nullifierKey, secret Scalar) Scalar {
	return hash2(DomainPrecommitment, nullifierKey.element(), secret.element())
}

// Commitment is the tree leaf of a note: H(precommitment, amount). The state
// machine computes it itself from a deposit's precommitment and the amount
// the deposit actually paid, so a leaf can never claim more than was
// deposited.
func Commitment(precommitment Scalar, amount uint64) Scalar {
	a := ScalarFromUint64(amount)
	return hash2(DomainCommitment, precommitment.element(), a.element())
}

// Nullifier is the value a withdrawal publishes to spend the note at
// leafIndex: H(nullifier_key, leaf_index). It is unique per deposit (two
// deposits of the same note sit at different indices), deterministic (one
// note, one nullifier, whatever root the proof uses) and unlinkable to the
// leaf without the nullifier key.
func Nullifier(nullifierKey Scalar, leafIndex uint64) Scalar {
	i := ScalarFromUint64(leafIndex)
	return hash2(DomainNullifier, nullifierKey.element(), i.element())
}

// zeroHashes[l] is the root of an empty subtree of height l: zeroHashes[0]
// is the empty leaf, zeroHashes[l+1] = HashNode(zeroHashes[l], zeroHashes[l]).
var zeroHashes = sync.OnceValue(func() (z [MaxDepth + 1]Scalar) {
	z[0] = labelScalar(emptyLeafLabel)
	for l := 1; l <= MaxDepth; l++ {
		z[l] = HashNode(z[l-1], z[l-1])
	}
	return z
})

// EmptyLeaf is the value of a leaf not yet appended: SHA-256 of a fixed
// label, reduced modulo r (nobody knows a note that commits to it).
func EmptyLeaf() Scalar { return zeroHashes()[0] }

// ZeroHash returns the root of an empty subtree of the given height
// (0 ≤ height ≤ MaxDepth); ZeroHash(depth) is the root of an empty tree.
func ZeroHash(height int) Scalar {
	if height < 0 || height > MaxDepth {
		panic("shielded: ZeroHash height out of range")
	}
	return zeroHashes()[height]
}

// RecipientFromAddress maps an address (any byte string: a Lightkeeper
// ed25519 public key, a bridge's destination address) to the withdrawal's
// Recipient public input: SHA-256("lightkeeper/shielded/v1/recipient\x00" ||
// address) with the top three bits cleared, i.e. a uniformly distributed
// 253-bit value (always less than r, so never reduced). Binding an address
// rests on SHA-256's collision resistance over 253 bits (~126 bits). The
// state machine recomputes it from the address in the withdrawal request
// and compares it with the proof's public input.
func RecipientFromAddress(address []byte) Scalar {
	h := sha256.New()
	h.Write([]byte(recipientLabel))
	h.Write(address)
	var d [ScalarSize]byte
	h.Sum(d[:0])
	d[0] &= 0x1f
	s, err := ParseScalar(d[:])
	if err != nil {
		panic("shielded: 253-bit value is not canonical") // impossible: 2²⁵³ < r
	}
	return s
}
