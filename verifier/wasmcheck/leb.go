package wasmcheck

import (
	"encoding/binary"
	"errors"
	"unicode/utf8"
)

// This file is the smallest WebAssembly binary codec the package needs:
// LEB128 integers, names and byte vectors, read strictly (the encodings the
// spec allows and nothing else) with every length bounded by the bytes
// actually present, so a hostile length prefix can never allocate more than
// the module's own size. See docs/compute.md, "Dependency decision", for
// why this is ours and not a library's.

var errEOF = errors.New("unexpected end of input")

type reader struct {
	b   []byte
	off int
}

func (r *reader) done() bool { return r.off >= len(r.b) }
func (r *reader) rest() int  { return len(r.b) - r.off }

func (r *reader) byte() (byte, error) {
	if r.off >= len(r.b) {
		return 0, errEOF
	}
	c := r.b[r.off]
	r.off++
	return c, nil
}

func (r *reader) bytes(n uint32) ([]byte, error) {
	if uint64(n) > uint64(r.rest()) {
		return nil, errEOF
	}
	s := r.b[r.off : r.off+int(n)]
	r.off += int(n)
	return s, nil
}

// u32 reads an unsigned LEB128 of at most 5 bytes whose unused high bits in
// the last byte are zero, as the spec requires.
func (r *reader) u32() (uint32, error) {
	var v uint32
	for i := 0; i < 5; i++ {
		c, err := r.byte()
		if err != nil {
			return 0, err
		}
		if i == 4 && c&0xf0 != 0 {
			return 0, errors.New("u32 overflows")
		}
		v |= uint32(c&0x7f) << (7 * i)
		if c&0x80 == 0 {
			return v, nil
		}
	}
	return 0, errors.New("u32 too long")
}

// sleb reads a signed LEB128 of the given bit width (32, 33 or 64).
func (r *reader) sleb(bits uint) (int64, error) {
	var v int64
	maxBytes := int((bits + 6) / 7)
	for i := 0; i < maxBytes; i++ {
		c, err := r.byte()
		if err != nil {
			return 0, err
		}
		shift := uint(7 * i)
		v |= int64(c&0x7f) << shift
		if c&0x80 == 0 {
			if i == maxBytes-1 {
				// The bits of the last byte beyond the type's width must
				// all equal the type's sign bit.
				used := bits - shift
				p := c & 0x7f
				sign := (p >> (used - 1)) & 1
				high := p >> used
				if (sign == 0 && high != 0) || (sign == 1 && high != byte(0x7f>>used)) {
					return 0, errors.New("signed integer overflows")
				}
			}
			if shift+7 < 64 && c&0x40 != 0 {
				v |= -1 << (shift + 7)
			}
			return v, nil
		}
	}
	return 0, errors.New("signed integer too long")
}

func (r *reader) name() (string, error) {
	n, err := r.u32()
	if err != nil {
		return "", err
	}
	b, err := r.bytes(n)
	if err != nil {
		return "", err
	}
	if !utf8.Valid(b) {
		return "", errors.New("name is not UTF-8")
	}
	return string(b), nil
}

func appendU32(b []byte, v uint32) []byte {
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if v != 0 {
			b = append(b, c|0x80)
			continue
		}
		return append(b, c)
	}
}

func appendS64(b []byte, v int64) []byte {
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if (v == 0 && c&0x40 == 0) || (v == -1 && c&0x40 != 0) {
			return append(b, c)
		}
		b = append(b, c|0x80)
	}
}

func appendName(b []byte, s string) []byte {
	b = appendU32(b, uint32(len(s)))
	return append(b, s...)
}

func appendF32(b []byte, bits uint32) []byte { return binary.LittleEndian.AppendUint32(b, bits) }
func appendF64(b []byte, bits uint64) []byte { return binary.LittleEndian.AppendUint64(b, bits) }

// Canonical NaNs (positive, quiet, zero payload): what every float result
// that is a NaN is replaced by.
const (
	canonicalNaN32 = uint32(0x7fc00000)
	canonicalNaN64 = uint64(0x7ff8000000000000)
)
