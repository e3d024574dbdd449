package wasmcheck

import (
	"math"
	"testing"
)

// FuzzLEB128: the integer codec round-trips and never accepts an encoding
// the spec forbids.
func FuzzLEB128(f *testing.F) {
	f.Add(uint32(0), int64(0), []byte{0x80, 0x80, 0x80, 0x80, 0x10})
	f.Add(uint32(math.MaxUint32), int64(math.MinInt64), []byte{0xff, 0xff, 0xff, 0xff, 0x0f})
	f.Add(uint32(624485), int64(-123456), []byte{0x7f})
	f.Fuzz(func(t *testing.T, u uint32, s int64, raw []byte) {
		r := &reader{b: appendU32(nil, u)}
		if got, err := r.u32(); err != nil || got != u || !r.done() {
			t.Fatalf("u32 %d: %d %v", u, got, err)
		}
		r = &reader{b: appendS64(nil, s)}
		if got, err := r.sleb(64); err != nil || got != s || !r.done() {
			t.Fatalf("s64 %d: %d %v", s, got, err)
		}
		s32 := int64(int32(s))
		r = &reader{b: appendS64(nil, s32)}
		if got, err := r.sleb(32); err != nil || got != s32 {
			t.Fatalf("s32 %d: %d %v", s32, got, err)
		}
		// Whatever raw decodes to must re-encode within the type's range.
		r = &reader{b: raw}
		if v, err := r.u32(); err == nil && r.off > 5 {
			t.Fatalf("u32 %d read from %d bytes", v, r.off)
		}
		r = &reader{b: raw}
		if v, err := r.sleb(32); err == nil && (v < math.MinInt32 || v > math.MaxInt32) {
			t.Fatalf("s32 out of range: %d", v)
		}
		r = &reader{b: raw}
		if v, err := r.sleb(33); err == nil && (v < -(1<<32) || v >= 1<<32) {
			t.Fatalf("s33 out of range: %d", v)
		}
	})
}
