package verifier

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// cursor is an io.Reader over a byte slice that knows how many bytes are
// left, so that every length prefix can be checked against the bytes really
// present before a gnark-crypto decoder allocates a slice of that length.
// gnark-crypto decoders read straight from it (they do not buffer), so the
// offset always matches what they consumed.
type cursor struct {
	b   []byte
	off int
}

func newCursor(b []byte) *cursor { return &cursor{b: b} }

// Read implements io.Reader.
func (c *cursor) Read(p []byte) (int, error) {
	if c.off >= len(c.b) {
		if len(p) == 0 {
			return 0, nil
		}
		return 0, io.EOF
	}
	n := copy(p, c.b[c.off:])
	c.off += n
	return n, nil
}

// Len returns the number of unread bytes (fr.Vector.ReadFrom uses it to
// bound its allocation too).
func (c *cursor) Len() int { return len(c.b) - c.off }

// peekUint32 returns the big-endian uint32 at the current offset without
// consuming it.
func (c *cursor) peekUint32() (uint32, error) {
	if c.Len() < 4 {
		return 0, io.ErrUnexpectedEOF
	}
	return binary.BigEndian.Uint32(c.b[c.off:]), nil
}

func (c *cursor) readUint32() (uint32, error) {
	v, err := c.peekUint32()
	if err == nil {
		c.off += 4
	}
	return v, err
}

func (c *cursor) readUint64() (uint64, error) {
	if c.Len() < 8 {
		return 0, io.ErrUnexpectedEOF
	}
	v := binary.BigEndian.Uint64(c.b[c.off:])
	c.off += 8
	return v, nil
}

// checkSliceLen verifies that the length prefix at the current offset
// announces no more elements than the remaining bytes can hold, given the
// smallest possible encoding of one element.
func (c *cursor) checkSliceLen(minElemSize int) error {
	n, err := c.peekUint32()
	if err != nil {
		return err
	}
	if uint64(n)*uint64(minElemSize) > uint64(c.Len()-4) {
		return fmt.Errorf("length prefix %d exceeds the %d bytes left", n, c.Len()-4)
	}
	return nil
}

// readUint64Slice reads gnark-crypto's []uint64 encoding (u32 length, then
// big-endian u64s).
func (c *cursor) readUint64Slice() ([]uint64, error) {
	if err := c.checkSliceLen(8); err != nil {
		return nil, err
	}
	n, _ := c.readUint32()
	s := make([]uint64, n)
	for i := range s {
		s[i], _ = c.readUint64()
	}
	return s, nil
}

// readUint64SliceSlice reads gnark-crypto's [][]uint64 encoding.
func (c *cursor) readUint64SliceSlice() ([][]uint64, error) {
	if err := c.checkSliceLen(4); err != nil {
		return nil, err
	}
	n, _ := c.readUint32()
	s := make([][]uint64, n)
	for i := range s {
		var err error
		if s[i], err = c.readUint64Slice(); err != nil {
			return nil, err
		}
	}
	return s, nil
}

var errTrailingBytes = errors.New("trailing bytes")

// done reports trailing bytes.
func (c *cursor) done() error {
	if c.Len() != 0 {
		return fmt.Errorf("%w: %d after the end of the encoding", errTrailingBytes, c.Len())
	}
	return nil
}

// decodeAll runs decode (a gnark-crypto Decoder's Decode method) on each value
// in order and wraps the first failure with the field's index.
func decodeAll(decode func(any) error, what string, values ...any) error {
	for i, v := range values {
		if err := decode(v); err != nil {
			return fmt.Errorf("%s field %d: %w", what, i, err)
		}
	}
	return nil
}
