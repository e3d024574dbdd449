package verifier

// The pre-check: a bounded walk over gnark's binary encodings that runs
// before gnark's own ReadFrom sees the bytes.
//
// gnark's decoders (gnark-crypto's Decoder, under every backend's ReadFrom)
// read a u32 length prefix and allocate a slice of that many elements before
// reading a single element. A 292-byte Groth16 BN254 key (the six fixed
// points, then 0xffffffff as the number of K points) makes
// VerifyingKey.ReadFrom allocate 0xffffffff G1 points, 256 GiB, and a 132-byte
// proof does the same through its commitments: the Go runtime stops with
// "fatal error: out of memory", which recover cannot catch. So every encoding
// is walked here first: each length prefix is checked against the bytes
// actually present (and counts against the limits) and the walk must end
// exactly at the last byte. The walk only reads lengths and the flag bits
// that say how long a point's encoding is; decoding and checking the points
// and scalars is left to gnark.

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// pointEncoding describes gnark-crypto's encoding of one curve's points
// (curve_bn254.go, curve_bls12381.go).
type pointEncoding struct {
	// Compressed sizes of G1 and G2 points; an uncompressed point takes
	// twice as many bytes.
	g1, g2 int
	// uncompressed reports whether a point whose encoding starts with msb
	// is uncompressed (gnark-crypto's !isCompressed: the decoder reads the
	// compressed size, then the rest when this is true).
	uncompressed func(msb byte) bool
}

// encodingOf returns a curve's encoding, nil for a curve this build leaves
// out: every caller of the scanners checks Supported (or is a backend of
// that very curve) first.
func encodingOf(c Curve) *pointEncoding { return encodings[c] }

// scanner walks an encoding without decoding it.
type scanner struct {
	b   []byte
	off int
	enc *pointEncoding
}

func newScanner(c Curve, b []byte) *scanner { return &scanner{b: b, enc: encodingOf(c)} }

// left returns the number of unread bytes.
func (s *scanner) left() int { return len(s.b) - s.off }

func (s *scanner) skip(n int, what string) error {
	if s.left() < n {
		return fmt.Errorf("%s: %w (%d bytes needed, %d left)", what, io.ErrUnexpectedEOF, n, s.left())
	}
	s.off += n
	return nil
}

func (s *scanner) uint32(what string) (uint32, error) {
	if s.left() < 4 {
		return 0, fmt.Errorf("%s: %w", what, io.ErrUnexpectedEOF)
	}
	v := binary.BigEndian.Uint32(s.b[s.off:])
	s.off += 4
	return v, nil
}

func (s *scanner) uint64(what string) (uint64, error) {
	if s.left() < 8 {
		return 0, fmt.Errorf("%s: %w", what, io.ErrUnexpectedEOF)
	}
	v := binary.BigEndian.Uint64(s.b[s.off:])
	s.off += 8
	return v, nil
}

// point skips one point whose compressed encoding takes size bytes.
func (s *scanner) point(size int, what string) error {
	if s.left() < size {
		return fmt.Errorf("%s: %w", what, io.ErrUnexpectedEOF)
	}
	if s.enc.uncompressed(s.b[s.off]) {
		size *= 2
	}
	return s.skip(size, what)
}

func (s *scanner) g1(what string) error { return s.point(s.enc.g1, what) }
func (s *scanner) g2(what string) error { return s.point(s.enc.g2, what) }

func (s *scanner) scalar(what string) error { return s.skip(scalarBytes, what) }

// length reads a u32 length prefix and checks that the bytes left can hold
// that many elements of at least minSize bytes each.
func (s *scanner) length(minSize int, what string) (int, error) {
	n, err := s.uint32(what)
	if err != nil {
		return 0, err
	}
	if uint64(n)*uint64(minSize) > uint64(s.left()) {
		return 0, fmt.Errorf("%s: length prefix %d exceeds the %d bytes left", what, n, s.left())
	}
	return int(n), nil
}

// g1Slice skips gnark-crypto's []G1Affine encoding (u32 n, n points). A
// count above max is refused before the points are walked, with the error
// tooMany returns.
func (s *scanner) g1Slice(max int, tooMany func(n int) error, what string) (int, error) {
	n, err := s.length(s.enc.g1, what)
	if err != nil {
		return 0, err
	}
	if n > max {
		return 0, tooMany(n)
	}
	for i := range n {
		if err := s.g1(fmt.Sprintf("%s[%d]", what, i)); err != nil {
			return 0, err
		}
	}
	return n, nil
}

// uint64Slice reads gnark-crypto's []uint64 encoding (u32 n, n big-endian
// u64s).
func (s *scanner) uint64Slice(what string) ([]uint64, error) {
	n, err := s.length(8, what)
	if err != nil {
		return nil, err
	}
	v := make([]uint64, n)
	for i := range v {
		v[i], _ = s.uint64(what)
	}
	return v, nil
}

// uint64SliceSlice reads gnark-crypto's [][]uint64 encoding.
func (s *scanner) uint64SliceSlice(what string) ([][]uint64, error) {
	n, err := s.length(4, what)
	if err != nil {
		return nil, err
	}
	v := make([][]uint64, n)
	for i := range v {
		if v[i], err = s.uint64Slice(fmt.Sprintf("%s[%d]", what, i)); err != nil {
			return nil, err
		}
	}
	return v, nil
}

var errTrailingBytes = errors.New("trailing bytes")

// done reports trailing bytes.
func (s *scanner) done(what string) error {
	if s.left() != 0 {
		return fmt.Errorf("%s: %w: %d after the end of the encoding", what, errTrailingBytes, s.left())
	}
	return nil
}

// readExactly decodes b with one of gnark's ReadFrom methods, which must
// consume every byte. The reader is a *bytes.Reader: gnark-crypto bounds
// scalar vectors by its Len, on top of the pre-check.
func readExactly(v io.ReaderFrom, b []byte) error {
	r := bytes.NewReader(b)
	if _, err := v.ReadFrom(r); err != nil {
		return err
	}
	if r.Len() != 0 {
		return fmt.Errorf("%w: %d after the end of the encoding", errTrailingBytes, r.Len())
	}
	return nil
}

// ErrTrailingBytes is wrapped by CheckProofEncoding's error when a proof's
// encoding ends before its last byte.
var ErrTrailingBytes = errTrailingBytes

// CheckProofEncoding walks a proof's binary encoding (the pre-check every
// verification runs first, without decoding points) and reports trailing
// bytes after its end: an error wrapping ErrTrailingBytes, with the count.
// It returns nil for an encoding that ends exactly at the last byte, and
// also for one the walk cannot finish (truncated, or a length prefix larger
// than the bytes left): those are malformed proofs, which keepers reject
// by vote (ReasonMalformedProof) like any other invalid proof. Keepers
// reject trailing bytes the same way (VerifyProof runs the same walk), so
// the coordinator refusing them at submission (InvalidArgument) agrees
// with the committee while keeping padded proofs out of the ledger. An
// unsupported scheme or curve, or one this build leaves out (Supported),
// returns nil (refused elsewhere).
func CheckProofEncoding(scheme Scheme, curve Curve, proof []byte) error {
	if !Supported(scheme, curve) {
		return nil
	}
	var err error
	switch scheme {
	case SchemeGroth16:
		err = scanGroth16Proof(curve, proof)
	case SchemePlonk:
		err = scanPlonkProof(curve, proof)
	}
	if errors.Is(err, errTrailingBytes) {
		return err
	}
	return nil
}
