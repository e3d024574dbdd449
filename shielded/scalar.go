package shielded

import (
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
)

// ScalarSize is the size of an encoded Scalar: 32 big-endian bytes.
const ScalarSize = fr.Bytes

// Scalar is an element of the BN254 scalar field (the field the withdrawal
// circuit works in). Every Scalar is canonical by construction: the only
// ways to make one from bytes (ParseScalar, UnmarshalText) reject values that
// are not less than the field modulus, so two different byte strings never
// name the same Scalar. That matters for nullifiers: a spent set keyed by a
// non-canonical encoding could be bypassed by writing the same value as
// value+r.
//
// The zero value is the field element 0. Scalars are comparable with ==
// and can be map keys.
type Scalar struct{ e fr.Element }

// ErrNotCanonical is returned (wrapped) for 32-byte strings that are not
// less than the BN254 scalar field modulus.
var ErrNotCanonical = errors.New("not a canonical BN254 scalar (must be less than the field modulus)")

// ParseScalar decodes exactly 32 big-endian bytes and rejects values that
// are not less than the field modulus.
func ParseScalar(b []byte) (Scalar, error) {
	if len(b) != ScalarSize {
		return Scalar{}, fmt.Errorf("scalar must be %d bytes, got %d", ScalarSize, len(b))
	}
	e, err := fr.BigEndian.Element((*[ScalarSize]byte)(b))
	if err != nil {
		return Scalar{}, ErrNotCanonical
	}
	return Scalar{e}, nil
}

// ScalarFromUint64 returns v as a field element.
func ScalarFromUint64(v uint64) Scalar {
	var s Scalar
	s.e.SetUint64(v)
	return s
}

// Bytes returns the canonical 32-byte big-endian encoding.
func (s Scalar) Bytes() [ScalarSize]byte { return s.e.Bytes() }

// BigInt returns the value as a new big.Int (for circuit assignments).
func (s Scalar) BigInt() *big.Int { return s.e.BigInt(new(big.Int)) }

// IsZero reports whether s is 0.
func (s Scalar) IsZero() bool { return s.e.IsZero() }

// String returns "0x" and 64 lowercase hex digits.
func (s Scalar) String() string {
	b := s.Bytes()
	return "0x" + hex.EncodeToString(b[:])
}

// MarshalText implements encoding.TextMarshaler (the String form).
func (s Scalar) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler. It accepts exactly the
// String form: "0x" and 64 hex digits (either case), canonical.
func (s *Scalar) UnmarshalText(text []byte) error {
	if len(text) != 2+2*ScalarSize || text[0] != '0' || (text[1] != 'x' && text[1] != 'X') {
		return fmt.Errorf("scalar text must be 0x followed by %d hex digits", 2*ScalarSize)
	}
	var b [ScalarSize]byte
	if _, err := hex.Decode(b[:], text[2:]); err != nil {
		return fmt.Errorf("scalar text: %w", err)
	}
	v, err := ParseScalar(b[:])
	if err != nil {
		return err
	}
	*s = v
	return nil
}

// element returns the gnark-crypto field element.
func (s Scalar) element() fr.Element { return s.e }

// appendScalar appends the 32-byte encoding of s to b.
func appendScalar(b []byte, s Scalar) []byte {
	e := s.Bytes()
	return append(b, e[:]...)
}
