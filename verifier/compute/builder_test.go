package compute

// A tiny WebAssembly assembler for tests: enough to write the hand-made
// modules the checks and the host are tested with, without a toolchain.

type wImport struct {
	module, name string
	typ          uint32
}

type wFunc struct {
	typ    uint32
	locals []localDecl
	code   []byte // the expression, including its final end
}

type wMod struct {
	types   []funcType
	imports []wImport
	funcs   []wFunc
	memory  []byte // raw memory section body; nil: one page, no maximum
	noMem   bool
	table   []byte // raw table section body
	globals []byte // raw global section body
	exports []exportEntry
	elems   []byte
	datas   []byte
	start   *uint32
	custom  bool
	extra   []section // raw sections appended at the end
}

func (w *wMod) typeIdx(params, results []byte) uint32 {
	for i, t := range w.types {
		if string(t.params) == string(params) && string(t.results) == string(results) {
			return uint32(i)
		}
	}
	w.types = append(w.types, funcType{params, results})
	return uint32(len(w.types) - 1)
}

// wasi adds an import of a subset function with its proper signature and
// returns its function index (imports must all be added before functions).
func (w *wMod) wasi(name string) uint32 {
	f := wasiFuncs[name]
	w.imports = append(w.imports, wImport{WASIModule, name, w.typeIdx(f.params, f.results)})
	return uint32(len(w.imports) - 1)
}

func (w *wMod) fn(params, results []byte, locals []localDecl, code ...byte) uint32 {
	w.funcs = append(w.funcs, wFunc{w.typeIdx(params, results), locals, code})
	return uint32(len(w.imports) + len(w.funcs) - 1)
}

func sect(out []byte, id byte, body []byte) []byte {
	out = append(out, id)
	out = appendU32(out, uint32(len(body)))
	return append(out, body...)
}

func (w *wMod) bytes() []byte {
	out := []byte("\x00asm\x01\x00\x00\x00")
	if w.custom {
		out = sect(out, secCustom, appendName(nil, "test"))
	}
	var b []byte
	b = appendU32(b, uint32(len(w.types)))
	for _, t := range w.types {
		b = append(b, 0x60)
		b = appendU32(b, uint32(len(t.params)))
		b = append(b, t.params...)
		b = appendU32(b, uint32(len(t.results)))
		b = append(b, t.results...)
	}
	out = sect(out, secType, b)
	if len(w.imports) > 0 {
		b = appendU32(nil, uint32(len(w.imports)))
		for _, im := range w.imports {
			b = appendName(b, im.module)
			b = appendName(b, im.name)
			b = append(b, externFunc)
			b = appendU32(b, im.typ)
		}
		out = sect(out, secImport, b)
	}
	b = appendU32(nil, uint32(len(w.funcs)))
	for _, f := range w.funcs {
		b = appendU32(b, f.typ)
	}
	out = sect(out, secFunction, b)
	if w.table != nil {
		out = sect(out, secTable, w.table)
	}
	if !w.noMem {
		mem := w.memory
		if mem == nil {
			mem = []byte{1, 0, 1}
		}
		out = sect(out, secMemory, mem)
	}
	if w.globals != nil {
		out = sect(out, secGlobal, w.globals)
	}
	b = appendU32(nil, uint32(len(w.exports)))
	for _, e := range w.exports {
		b = appendName(b, e.name)
		b = append(b, e.kind)
		b = appendU32(b, e.index)
	}
	out = sect(out, secExport, b)
	if w.start != nil {
		out = sect(out, secStart, appendU32(nil, *w.start))
	}
	if w.elems != nil {
		out = sect(out, secElement, w.elems)
	}
	b = appendU32(nil, uint32(len(w.funcs)))
	for _, f := range w.funcs {
		var body []byte
		body = appendU32(body, uint32(len(f.locals)))
		for _, l := range f.locals {
			body = appendU32(body, l.count)
			body = append(body, l.typ)
		}
		body = append(body, f.code...)
		b = appendU32(b, uint32(len(body)))
		b = append(b, body...)
	}
	out = sect(out, secCode, b)
	if w.datas != nil {
		out = sect(out, secData, w.datas)
	}
	for _, s := range w.extra {
		out = sect(out, s.id, s.body)
	}
	return out
}

// command returns a wasip1 command whose _start runs code (which must end
// with end). setup may add imports and helper functions first; _start is
// added last.
func command(setup func(w *wMod), code ...byte) []byte {
	w := &wMod{}
	if setup != nil {
		setup(w)
	}
	start := w.fn(nil, nil, nil, code...)
	if !w.noMem {
		w.exports = append(w.exports, exportEntry{"memory", externMemory, 0})
	}
	w.exports = append(w.exports, exportEntry{"_start", externFunc, start})
	return w.bytes()
}

// Instruction helpers.
func i32c(v int32) []byte  { return appendS64([]byte{opI32Const}, int64(v)) }
func i64c(v int64) []byte  { return appendS64([]byte{opI64Const}, v) }
func call(f uint32) []byte { return appendU32([]byte{0x10}, f) }
func cat(parts ...[]byte) []byte {
	var b []byte
	for _, p := range parts {
		b = append(b, p...)
	}
	return b
}

var (
	params0 []byte
	i32x1   = []byte{valI32}
	i32x2   = []byte{valI32, valI32}
)
