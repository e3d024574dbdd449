package compute

import (
	"bytes"
	"errors"
	"testing"
)

func TestCheckAccepts(t *testing.T) {
	mod := command(func(w *wMod) { w.wasi("fd_write"); w.wasi("proc_exit"); w.custom = true }, 0x01, opEnd)
	p := mustCheck(t, mod, DefaultLimits())
	if p.ID != ProgramIDOf(mod) || p.Functions != 1 || p.MemoryPages != 1 || p.MaxMemoryPages != DefaultLimits().MaxMemoryPages {
		t.Fatalf("program %+v", p)
	}
	if len(p.Imports) != 2 || p.Imports[0] != "fd_write" || p.Imports[1] != "proc_exit" {
		t.Fatalf("imports %v", p.Imports)
	}
	if err := validate(p.Metered); err != nil {
		t.Fatalf("metered module invalid: %v", err)
	}
	again := mustCheck(t, mod, DefaultLimits())
	if !bytes.Equal(again.Metered, p.Metered) {
		t.Fatal("Check is not deterministic")
	}
	id, err := ParseProgramID(p.ID.String())
	if err != nil || id != p.ID {
		t.Fatalf("ParseProgramID: %v", err)
	}
	if _, err := ParseProgramID("xyz"); err == nil {
		t.Fatal("ParseProgramID accepted garbage")
	}
	if m, err := Instrument(mod); err != nil || !bytes.Equal(m, p.Metered) {
		t.Fatalf("Instrument differs from Check's metered module: %v", err)
	}
}

// TestCheckExamples: the Go examples register, and import only the subset.
func TestCheckExamples(t *testing.T) {
	for _, name := range exampleNames {
		p := mustCheck(t, exampleModule(t, name), DefaultLimits())
		if !p.UsesFloat {
			t.Errorf("%s: Go's runtime uses floats", name)
		}
		if err := validate(p.Metered); err != nil {
			t.Fatalf("%s: metered module invalid: %v", name, err)
		}
		t.Logf("%s: %d functions, imports %v", name, p.Functions, p.Imports)
	}
}

func TestCheckRefuses(t *testing.T) {
	lim := DefaultLimits()
	small := lim
	small.MaxModuleBytes = 64
	withMem := func(mem []byte) func(*wMod) { return func(w *wMod) { w.memory = mem } }
	body := func(code ...byte) []byte { return command(nil, code...) }
	cases := []struct {
		name string
		mod  []byte
		lim  Limits
		want error
	}{
		{"not wasm", []byte("hello, world"), lim, ErrInvalidModule},
		{"empty", nil, lim, ErrInvalidModule},
		{"truncated", command(nil, opEnd)[:30], lim, ErrInvalidModule},
		{"version 2", []byte("\x00asm\x02\x00\x00\x00"), lim, ErrFeature},
		{"type error", body(0x6a, opEnd), lim, ErrInvalidModule},
		{"unknown opcode", body(0xc5, opEnd), lim, ErrInvalidModule},
		{"unknown global", body(opGlobalGet, 0, 0x1a, opEnd), lim, ErrInvalidModule},
		{"trailing bytes", append(command(nil, opEnd), 0), lim, ErrInvalidModule},
		{"import env", command(func(w *wMod) {
			w.imports = append(w.imports, wImport{"env", "now", w.typeIdx(nil, []byte{valI64})})
		}, opEnd), lim, ErrImport},
		{"import unknown wasi", command(func(w *wMod) {
			w.imports = append(w.imports, wImport{WASIModule, "proc_raise", w.typeIdx(i32x1, i32x1)})
		}, opEnd), lim, ErrImport},
		{"import wrong signature", command(func(w *wMod) {
			w.imports = append(w.imports, wImport{WASIModule, "fd_write", w.typeIdx(i32x2, i32x1)})
		}, opEnd), lim, ErrImport},
		{"import memory", command(func(w *wMod) {
			w.extra = nil
			w.imports = append(w.imports, wImport{"env", "memory", 0})
		}, opEnd), lim, nil /* patched below */},
		{"too large", command(nil, bytes.Repeat([]byte{0x01}, 100)...), small, ErrTooLarge},
		{"memory min", command(withMem([]byte{1, 0, 0x81, 0x10}), opEnd), lim, ErrMemory},    // 2049 pages
		{"memory max", command(withMem([]byte{1, 1, 1, 0x81, 0x10}), opEnd), lim, ErrMemory}, // max 2049
		{"shared memory", command(withMem([]byte{1, 3, 1, 1}), opEnd), lim, ErrMemory},       // threads
		{"memory64", command(withMem([]byte{1, 4, 1}), opEnd), lim, ErrMemory},               //
		{"two memories", command(withMem([]byte{2, 0, 1, 0, 1}), opEnd), lim, ErrMemory},     //
		{"no memory", command(func(w *wMod) { w.noMem = true }, opEnd), lim, ErrMemory},      //
		{"two tables", command(func(w *wMod) { w.table = []byte{2, refFunc, 0, 1, refFunc, 0, 1} }, opEnd), lim, ErrTable},
		{"externref table", command(func(w *wMod) { w.table = []byte{1, refExt, 0, 1} }, opEnd), lim, ErrTable},
		{"table too big", command(func(w *wMod) { w.table = []byte{1, refFunc, 0, 0x81, 0x80, 0x04} }, opEnd), lim, ErrTable},
		{"data outside memory", command(func(w *wMod) {
			w.datas = cat([]byte{1, 0}, i32c(65535), []byte{opEnd, 2, 'h', 'i'})
		}, opEnd), lim, ErrMemory},
		{"elements outside table", command(func(w *wMod) {
			w.table = []byte{1, refFunc, 0, 1}
			w.fn(nil, nil, nil, opEnd)
			w.elems = cat([]byte{1, 0}, i32c(1), []byte{opEnd, 1, 0})
		}, opEnd), lim, ErrTable},
		{"SIMD", body(0xfd, 0x0c, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x1a, opEnd), lim, ErrFeature},
		{"v128 local", command(func(w *wMod) {
			w.fn(nil, nil, []localDecl{{1, valV128}}, opEnd)
		}, opEnd), lim, ErrFeature},
		{"atomics", body(0xfe, 0x03, 0x00, opEnd), lim, ErrFeature},
		{"ref.func", body(0xd2, 0, 0x1a, opEnd), lim, ErrFeature},
		{"table.size", body(0xfc, 16, 0, 0x1a, opEnd), lim, ErrFeature},
		{"tail call", body(0x12, 0, opEnd), lim, ErrFeature},
		{"exceptions", body(0x06, blockEmpty, opEnd, opEnd), lim, ErrFeature},
		{"start function", command(func(w *wMod) { s := uint32(0); w.start = &s }, opEnd), lim, ErrFeature},
		{"global.get init", command(func(w *wMod) { w.globals = []byte{1, valI32, 0, 0x23, 0, opEnd} }, opEnd), lim, ErrFeature},
		{"no _start", (&wMod{exports: []exportEntry{{"memory", externMemory, 0}}, funcs: []wFunc{{0, nil, []byte{opEnd}}}, types: []funcType{{}}}).bytes(), lim, ErrEntryPoint},
		{"_start type", command(func(w *wMod) { w.typeIdx(i32x1, nil) }, opEnd), lim, nil /* patched below */},
		{"no memory export", (&wMod{exports: []exportEntry{{"_start", externFunc, 0}}, funcs: []wFunc{{0, nil, []byte{opEnd}}}, types: []funcType{{}}}).bytes(), lim, ErrEntryPoint},
		{"reserved export", command(func(w *wMod) { w.exports = []exportEntry{{"lightkeeper_fuel", externMemory, 0}} }, opEnd), lim, ErrEntryPoint},
	}
	// A memory import: the type section must exist for the import to be
	// well formed, and the kind byte is 2 (memory) with limits.
	for i := range cases {
		switch cases[i].name {
		case "import memory":
			w := &wMod{types: []funcType{{}}, funcs: []wFunc{{0, nil, []byte{opEnd}}}, noMem: true,
				exports: []exportEntry{{"_start", externFunc, 0}}}
			m := w.bytes()
			imp := sect(nil, secImport, cat([]byte{1}, appendName(nil, "env"), appendName(nil, "memory"), []byte{externMemory, 0, 1}))
			cases[i].mod = cat(m[:8+len(sect(nil, secType, []byte{1, 0x60, 0, 0}))], imp, m[8+len(sect(nil, secType, []byte{1, 0x60, 0, 0})):])
			cases[i].want = ErrImport
		case "_start type":
			w := &wMod{}
			f := w.fn(i32x1, nil, nil, opEnd)
			w.exports = []exportEntry{{"memory", externMemory, 0}, {"_start", externFunc, f}}
			cases[i].mod = w.bytes()
			cases[i].want = ErrEntryPoint
		}
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, err := Check(c.mod, c.lim)
			if !errors.Is(err, c.want) {
				t.Fatalf("got %v (program %v), want %v", err, p != nil, c.want)
			}
			var ce *CheckError
			if !errors.As(err, &ce) || ce.Detail == "" {
				t.Fatalf("error %v has no detail", err)
			}
			if ReasonOf(err) != c.want.(*CheckError).Reason {
				t.Fatalf("ReasonOf = %v", ReasonOf(err))
			}
			t.Log(err)
		})
	}
}

// TestFloatsAccepted: floating point is not refused (ErrFloat is never
// returned); its NaN results are canonicalised instead (TestNaNCanonical).
func TestFloatsAccepted(t *testing.T) {
	p := mustCheck(t, command(nil, cat(appendF64([]byte{opF64Const}, 0), appendF64([]byte{opF64Const}, 0), []byte{0xa3, 0x1a, opEnd})...), DefaultLimits())
	if !p.UsesFloat {
		t.Fatal("UsesFloat not set")
	}
	if bytes.Count(p.Metered, []byte{opF64Eq, opSelect}) != 1 {
		t.Fatal("the division's result is not canonicalised")
	}
}

func TestLimitsValidate(t *testing.T) {
	if err := DefaultLimits().Validate(); err != nil {
		t.Fatal(err)
	}
	for _, f := range []func(*Limits){
		func(l *Limits) { l.MaxModuleBytes = 0 },
		func(l *Limits) { l.MaxMemoryPages = 0 },
		func(l *Limits) { l.MaxMemoryPages = 65537 },
		func(l *Limits) { l.MaxCallDepth = EngineCallDepthCeiling + 1 },
		func(l *Limits) { l.MaxFuel = 1<<62 + 1 },
		func(l *Limits) { l.MaxOutputBytes = -1 },
		func(l *Limits) { l.MaxTableElements = 1 << 30 },
	} {
		l := DefaultLimits()
		f(&l)
		if l.Validate() == nil {
			t.Errorf("limits %+v accepted", l)
		}
		if _, err := Check(command(nil, opEnd), l); err == nil || ReasonOf(err) != ReasonNone {
			t.Errorf("Check with bad limits: %v", err)
		}
	}
}
