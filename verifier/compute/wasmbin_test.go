package compute

import (
	"io"

	"github.com/lightkeeper-net/lightkeeper/verifier/wasmcheck"
)

// What the tests build modules with besides wasmbin.go: the declarations
// of the builder and the limits the compile tests probe.

type localDecl struct {
	count uint32
	typ   byte
}

type exportEntry struct {
	name  string
	kind  byte
	index uint32
}

type section struct {
	id   byte
	body []byte
}

const (
	maxBlockDepth       = wasmcheck.MaxBlockDepth
	maxNestingWork      = wasmcheck.MaxNestingWork
	maxBodyBytes        = wasmcheck.MaxBodyBytes
	maxFunctionLocals   = wasmcheck.MaxFunctionLocals
	maxBrTableTargets   = wasmcheck.MaxBrTableTargets
	maxDefinedFunctions = wasmcheck.MaxDefinedFunctions
	maxFunctionBytes    = wasmcheck.MaxFunctionBytes
	maxFunctions        = wasmcheck.MaxFunctions
	maxLocals           = wasmcheck.MaxLocals
	maxBrTableEntries   = wasmcheck.MaxBrTableEntries
	scratchLocalsAdded  = wasmcheck.ScratchLocalsAdded
)

// reader walks the sections of a module a test built.
type reader struct {
	b   []byte
	off int
}

func (r *reader) done() bool { return r.off >= len(r.b) }

func (r *reader) byte() (byte, error) {
	if r.off >= len(r.b) {
		return 0, io.ErrUnexpectedEOF
	}
	c := r.b[r.off]
	r.off++
	return c, nil
}

func (r *reader) bytes(n uint32) ([]byte, error) {
	if uint64(n) > uint64(len(r.b)-r.off) {
		return nil, io.ErrUnexpectedEOF
	}
	s := r.b[r.off : r.off+int(n)]
	r.off += int(n)
	return s, nil
}

func (r *reader) u32() (uint32, error) {
	var v uint32
	for i := 0; i < 5; i++ {
		c, err := r.byte()
		if err != nil {
			return 0, err
		}
		v |= uint32(c&0x7f) << (7 * i)
		if c&0x80 == 0 {
			return v, nil
		}
	}
	return 0, io.ErrUnexpectedEOF
}
