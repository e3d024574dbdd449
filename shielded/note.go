package shielded

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// Note is what a depositor keeps to withdraw later: two secrets and the
// amount. Whoever holds a note can withdraw it (to any recipient), so a note
// file is as sensitive as a private key.
//
//	precommitment = H_pre(NullifierKey, Secret)          (sent with the deposit)
//	leaf          = H_com(precommitment, Amount)         (computed by the state machine)
//	nullifier     = H_nf(NullifierKey, leaf index)       (published by the withdrawal)
type Note struct {
	Secret       Scalar
	NullifierKey Scalar
	Amount       uint64
}

// NewNote draws Secret and NullifierKey uniformly from [1, r) using rand
// (crypto/rand.Reader in production; a seeded reader makes tests
// reproducible). It is the only function here that consumes randomness.
func NewNote(rand io.Reader, amount uint64) (Note, error) {
	secret, err := randomScalar(rand)
	if err != nil {
		return Note{}, err
	}
	nk, err := randomScalar(rand)
	if err != nil {
		return Note{}, err
	}
	return Note{Secret: secret, NullifierKey: nk, Amount: amount}, nil
}

// randomScalar samples a nonzero field element by rejection: 32 bytes with
// the top two bits cleared are below r with probability ~0.76, so 128 tries
// fail only for a broken reader.
func randomScalar(rand io.Reader) (Scalar, error) {
	var b [ScalarSize]byte
	for range 128 {
		if _, err := io.ReadFull(rand, b[:]); err != nil {
			return Scalar{}, fmt.Errorf("shielded: reading randomness: %w", err)
		}
		b[0] &= 0x3f
		if s, err := ParseScalar(b[:]); err == nil && !s.IsZero() {
			return s, nil
		}
	}
	return Scalar{}, errors.New("shielded: randomness source keeps returning values outside the field")
}

// Precommitment returns H_pre(NullifierKey, Secret), what a deposit sends.
func (n Note) Precommitment() Scalar { return Precommitment(n.NullifierKey, n.Secret) }

// Commitment returns the note's leaf, H_com(precommitment, Amount).
func (n Note) Commitment() Scalar { return Commitment(n.Precommitment(), n.Amount) }

// Nullifier returns the nullifier that spends the note at leafIndex.
func (n Note) Nullifier(leafIndex uint64) Scalar { return Nullifier(n.NullifierKey, leafIndex) }

// Note binary encoding: version (1) || secret (32) || nullifier key (32) ||
// amount (8, big-endian). Exactly NoteSize bytes.
const (
	noteVersion = 1
	NoteSize    = 1 + 2*ScalarSize + 8
)

// MarshalBinary encodes the note in its NoteSize-byte form.
func (n Note) MarshalBinary() ([]byte, error) {
	b := make([]byte, 0, NoteSize)
	b = append(b, noteVersion)
	b = appendScalar(b, n.Secret)
	b = appendScalar(b, n.NullifierKey)
	b = binary.BigEndian.AppendUint64(b, n.Amount)
	return b, nil
}

// UnmarshalBinary decodes MarshalBinary's form, strictly: exact length,
// known version, canonical scalars.
func (n *Note) UnmarshalBinary(b []byte) error {
	if len(b) != NoteSize {
		return fmt.Errorf("shielded: note must be %d bytes, got %d", NoteSize, len(b))
	}
	if b[0] != noteVersion {
		return fmt.Errorf("shielded: unknown note version %d", b[0])
	}
	secret, err := ParseScalar(b[1 : 1+ScalarSize])
	if err != nil {
		return fmt.Errorf("shielded: note secret: %w", err)
	}
	nk, err := ParseScalar(b[1+ScalarSize : 1+2*ScalarSize])
	if err != nil {
		return fmt.Errorf("shielded: note nullifier key: %w", err)
	}
	*n = Note{Secret: secret, NullifierKey: nk, Amount: binary.BigEndian.Uint64(b[1+2*ScalarSize:])}
	return nil
}
