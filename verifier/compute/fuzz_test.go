package compute

import (
	"bytes"
	"math"
	"testing"
)

// fuzzSeeds are small modules covering every section and instruction class
// the codec and the instrumenter handle, valid and refused.
func fuzzSeeds() [][]byte {
	f64 := func(v float64) []byte { return appendF64([]byte{opF64Const}, math.Float64bits(v)) }
	loop := cat(i32c(10), []byte{0x21, 0, 0x03, blockEmpty, 0x20, 0}, i32c(1), []byte{opI32Sub, 0x22, 0, 0x0d, 0, opEnd, opEnd})
	w := &wMod{}
	f := w.fn(nil, nil, []localDecl{{1, valI32}}, loop...)
	w.exports = []exportEntry{{"memory", externMemory, 0}, {"_start", externFunc, f}}
	seeds := [][]byte{
		w.bytes(),
		command(nil, opEnd),
		command(func(w *wMod) { w.wasi("fd_write"); w.wasi("proc_exit"); w.custom = true }, 0x01, opEnd),
		nanModule(cat(f64(0), f64(0), []byte{0xa3}), false),
		writeModule(10),
		command(func(w *wMod) {
			w.fn(nil, nil, nil, opEnd)
			w.table = []byte{1, refFunc, 0, 2}
			w.elems = cat([]byte{1, 0}, i32c(0), []byte{opEnd, 1, 0})
			w.globals = []byte{2, valI64, 1, 0x42, 5, opEnd, valF32, 0, 0x43, 0, 0, 0x80, 0x3f, opEnd}
			w.datas = cat([]byte{2, 0}, i32c(8), []byte{opEnd, 2, 'h', 'i', 1, 1, 'x'})
		}, cat(
			i32c(1), []byte{0x04, valI32}, i32c(2), []byte{0x05}, i32c(3), []byte{opEnd, 0x1a},
			[]byte{0x02, blockEmpty}, i32c(0), []byte{0x0e, 1, 0, 0, opEnd},
			i32c(0), i32c(0), i32c(4), []byte{0xfc, 10, 0, 0},
			i32c(0), i32c(0), i32c(4), []byte{0xfc, 11, 0},
			i32c(0), []byte{0x11, 0, 0},
			[]byte{0x3f, 0, 0x40, 0, 0x1a},
			f64(2), []byte{0x9f, 0xfc, 2, 0x1a},
			[]byte{0x23, 0, 0x42, 1, 0x7c, 0x24, 0, opEnd},
		)...),
		command(nil, 0xfd, 0x0c, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x1a, opEnd),
		command(func(w *wMod) { w.memory = []byte{1, 3, 1, 1} }, opEnd),
		[]byte("\x00asm\x01\x00\x00\x00"),
		[]byte("\x00asm\x01\x00\x00\x00\x01\xff\xff\xff\xff\x0f"),
	}
	return seeds
}

// FuzzCheck: Check never panics on any input, and whatever it accepts has
// a metered form that is itself a valid module.
func FuzzCheck(f *testing.F) {
	for _, s := range fuzzSeeds() {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := Check(b, DefaultLimits())
		if err != nil {
			if p != nil {
				t.Fatal("program with an error")
			}
			if ReasonOf(err) == ReasonNone {
				t.Fatalf("error without a reason: %v", err)
			}
			return
		}
		if err := validate(p.Metered); err != nil {
			t.Fatalf("accepted module meters into an invalid one: %v", err)
		}
	})
}

// FuzzInstrument: Instrument never panics, and the instrumented form of a
// valid module is valid, deterministic and instruments again without error.
func FuzzInstrument(f *testing.F) {
	for _, s := range fuzzSeeds() {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		out, err := Instrument(b)
		if err != nil {
			return
		}
		again, _ := Instrument(b)
		if !bytes.Equal(out, again) {
			t.Fatal("Instrument is not deterministic")
		}
		if validate(b) != nil {
			return // garbage in: only "no panic" is promised
		}
		if err := validate(out); err != nil {
			t.Fatalf("valid module instruments into an invalid one: %v", err)
		}
		if _, err := Instrument(out); err != nil {
			t.Fatalf("instrumented module does not decode: %v", err)
		}
	})
}
