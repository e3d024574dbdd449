package compute

import "encoding/binary"

// WebAssembly binary-format constants and encoders for the modules this
// package writes itself (the JavaScript host's WASI trampoline) and its
// tests build. They are facts of the WebAssembly 2.0 specification, not
// rules of ours; the decoder and the metering are wasmcheck's.

// Section ids.
const (
	secCustom    = 0
	secType      = 1
	secImport    = 2
	secFunction  = 3
	secTable     = 4
	secMemory    = 5
	secGlobal    = 6
	secExport    = 7
	secStart     = 8
	secElement   = 9
	secCode      = 10
	secData      = 11
	secDataCount = 12
)

// Value, reference and extern kinds.
const (
	valI32  = 0x7f
	valI64  = 0x7e
	valF32  = 0x7d
	valF64  = 0x7c
	valV128 = 0x7b
	refFunc = 0x70
	refExt  = 0x6f

	externFunc   = 0
	externTable  = 1
	externMemory = 2
	externGlobal = 3
)

// Opcodes.
const (
	opUnreachable = 0x00
	opIf          = 0x04
	opEnd         = 0x0b
	opSelect      = 0x1b
	opLocalGet    = 0x20
	opLocalTee    = 0x22
	opGlobalGet   = 0x23
	opGlobalSet   = 0x24
	opI32Const    = 0x41
	opI64Const    = 0x42
	opF32Const    = 0x43
	opF64Const    = 0x44
	opI32LtS      = 0x48
	opI64LtS      = 0x53
	opF32Eq       = 0x5b
	opF64Eq       = 0x61
	opI32Add      = 0x6a
	opI32Sub      = 0x6b
	opI64Sub      = 0x7d
	opI64ShrU     = 0x88
	opI64ExtI32U  = 0xad
	blockEmpty    = 0x40
)

// canonicalNaN64 is the canonical (positive, quiet, zero payload) f64 NaN.
const canonicalNaN64 = uint64(0x7ff8000000000000)

type funcType struct{ params, results []byte }

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
