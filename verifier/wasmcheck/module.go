package wasmcheck

import "fmt"

// Section ids of the WebAssembly 2.0 binary format.
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
	secTag       = 13 // exception handling
)

// sectionRank is the order non-custom sections must appear in (DataCount
// sits between Element and Code).
var sectionRank = map[byte]int{
	secType: 1, secImport: 2, secFunction: 3, secTable: 4, secMemory: 5,
	secTag: 6, secGlobal: 7, secExport: 8, secStart: 9, secElement: 10,
	secDataCount: 11, secCode: 12, secData: 13,
}

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

type section struct {
	id   byte
	body []byte
}

type funcType struct{ params, results []byte }

type importEntry struct {
	module, name string
	kind         byte
	typeIdx      uint32
}

type exportEntry struct {
	name  string
	kind  byte
	index uint32
}

type limitsDecl struct {
	min    uint32
	max    uint32
	hasMax bool
}

type codeEntry struct {
	body []byte // the whole entry: locals, then the expression
}

type dataSegment struct {
	active bool
	offset uint32
	size   uint32
}

// module is the decoded shape of a module: enough to check it against the
// rules of this package and to rewrite it. Function bodies stay raw bytes
// and are walked instruction by instruction by the checker and the
// instrumenter (instr.go).
type module struct {
	sections   []section // non-custom sections in order, raw
	types      []funcType
	imports    []importEntry
	nImpFuncs  uint32
	funcs      []uint32 // type index of each defined function
	tables     []limitsDecl
	tableTypes []byte
	memories   []limitsDecl
	memFlags   []byte
	globals    []byte // value type of each defined global
	exports    []exportEntry
	hasStart   bool
	elems      []elemSegment
	codes      []codeEntry
	datas      []dataSegment
	dataCount  int64 // -1 when absent
	usesFloat  bool  // set by instrument
}

type elemSegment struct {
	offset uint32
	count  uint32
}

func invalid(format string, args ...any) *CheckError {
	return refuse(ReasonInvalidModule, format, args...)
}

// decodeModule splits and decodes b. It never panics and never allocates
// more than a small multiple of len(b).
func decodeModule(b []byte) (*module, error) {
	if len(b) < 8 || string(b[:4]) != "\x00asm" {
		return nil, invalid("no wasm magic number")
	}
	if b[4] != 1 || b[5] != 0 || b[6] != 0 || b[7] != 0 {
		return nil, refuse(ReasonFeature, "binary version %x (only version 1, the core module format)", b[4:8])
	}
	m := &module{dataCount: -1}
	r := &reader{b: b, off: 8}
	lastRank := 0
	for !r.done() {
		id, err := r.byte()
		if err != nil {
			return nil, invalid("section id: %v", err)
		}
		size, err := r.u32()
		if err != nil {
			return nil, invalid("section %d size: %v", id, err)
		}
		body, err := r.bytes(size)
		if err != nil {
			return nil, invalid("section %d: %v", id, err)
		}
		if id == secCustom {
			// Custom sections never change execution; they are checked for
			// a well-formed name and dropped from the metered module.
			if _, err := (&reader{b: body}).name(); err != nil {
				return nil, invalid("custom section name: %v", err)
			}
			continue
		}
		rank, ok := sectionRank[id]
		if !ok {
			return nil, invalid("unknown section id %d", id)
		}
		if rank <= lastRank {
			return nil, invalid("section %d out of order or repeated", id)
		}
		lastRank = rank
		m.sections = append(m.sections, section{id: id, body: body})
		sr := &reader{b: body}
		if err := m.decodeSection(id, sr); err != nil {
			return nil, err
		}
		if !sr.done() {
			return nil, invalid("section %d has %d trailing bytes", id, sr.rest())
		}
	}
	if len(m.funcs) != len(m.codes) {
		return nil, invalid("%d functions declared but %d bodies", len(m.funcs), len(m.codes))
	}
	if m.dataCount >= 0 && int64(len(m.datas)) != m.dataCount {
		return nil, invalid("data count %d but %d data segments", m.dataCount, len(m.datas))
	}
	return m, nil
}

// vecLen reads a vector length and bounds it by the bytes left (every
// element takes at least minSize bytes) and by limit.
func vecLen(r *reader, what string, minSize int, limit int) (uint32, error) {
	n, err := r.u32()
	if err != nil {
		return 0, invalid("%s count: %v", what, err)
	}
	if uint64(n)*uint64(minSize) > uint64(r.rest()) {
		return 0, invalid("%s count %d exceeds the section", what, n)
	}
	if limit > 0 && uint64(n) > uint64(limit) {
		return 0, refuse(ReasonTooLarge, "%d %s (limit %d)", n, what, limit)
	}
	return n, nil
}

func (m *module) decodeSection(id byte, r *reader) error {
	switch id {
	case secType:
		return m.decodeTypes(r)
	case secImport:
		return m.decodeImports(r)
	case secFunction:
		n, err := vecLen(r, "functions", 1, MaxDefinedFunctions)
		if err != nil {
			return err
		}
		m.funcs = make([]uint32, n)
		for i := range m.funcs {
			t, err := r.u32()
			if err != nil {
				return invalid("function %d type: %v", i, err)
			}
			if t >= uint32(len(m.types)) {
				return invalid("function %d has unknown type %d", i, t)
			}
			m.funcs[i] = t
		}
		return nil
	case secTable:
		n, err := vecLen(r, "tables", 2, 0)
		if err != nil {
			return err
		}
		for i := uint32(0); i < n; i++ {
			t, err := r.byte()
			if err != nil {
				return invalid("table type: %v", err)
			}
			l, _, err := decodeLimits(r, "table")
			if err != nil {
				return err
			}
			m.tableTypes = append(m.tableTypes, t)
			m.tables = append(m.tables, l)
		}
		return nil
	case secMemory:
		n, err := vecLen(r, "memories", 2, 0)
		if err != nil {
			return err
		}
		for i := uint32(0); i < n; i++ {
			l, flags, err := decodeLimits(r, "memory")
			if err != nil {
				return err
			}
			m.memories = append(m.memories, l)
			m.memFlags = append(m.memFlags, flags)
		}
		return nil
	case secTag:
		return refuse(ReasonFeature, "exception handling (tag section)")
	case secGlobal:
		n, err := vecLen(r, "globals", 3, maxGlobals)
		if err != nil {
			return err
		}
		for i := uint32(0); i < n; i++ {
			vt, err := r.byte()
			if err != nil {
				return invalid("global type: %v", err)
			}
			if err := numericType(vt, "global"); err != nil {
				return err
			}
			mut, err := r.byte()
			if err != nil || mut > 1 {
				return invalid("global %d mutability", i)
			}
			if _, err := constExpr(r, vt); err != nil {
				return err
			}
			m.globals = append(m.globals, vt)
		}
		return nil
	case secExport:
		n, err := vecLen(r, "exports", 2, maxExports)
		if err != nil {
			return err
		}
		seen := make(map[string]bool, n)
		for i := uint32(0); i < n; i++ {
			name, err := r.name()
			if err != nil {
				return invalid("export name: %v", err)
			}
			kind, err := r.byte()
			if err != nil {
				return invalid("export kind: %v", err)
			}
			idx, err := r.u32()
			if err != nil {
				return invalid("export index: %v", err)
			}
			if seen[name] {
				return invalid("duplicate export %q", name)
			}
			seen[name] = true
			m.exports = append(m.exports, exportEntry{name: name, kind: kind, index: idx})
		}
		return nil
	case secStart:
		// wasip1 commands start at the exported _start; a start function
		// would run during instantiation, before the host has set the fuel.
		return refuse(ReasonFeature, "start function (a wasip1 command starts at the _start export)")
	case secElement:
		return m.decodeElems(r)
	case secDataCount:
		n, err := r.u32()
		if err != nil {
			return invalid("data count: %v", err)
		}
		m.dataCount = int64(n)
		return nil
	case secCode:
		n, err := vecLen(r, "function bodies", 2, MaxDefinedFunctions)
		if err != nil {
			return err
		}
		m.codes = make([]codeEntry, n)
		for i := range m.codes {
			size, err := r.u32()
			if err != nil {
				return invalid("body %d size: %v", i, err)
			}
			if size > MaxBodyBytes {
				return refuse(ReasonTooLarge, "function %d (body %d) has %d bytes (limit %d)", m.nImpFuncs+uint32(i), i, size, MaxBodyBytes)
			}
			b, err := r.bytes(size)
			if err != nil {
				return invalid("body %d: %v", i, err)
			}
			m.codes[i] = codeEntry{body: b}
		}
		return nil
	case secData:
		return m.decodeDatas(r)
	}
	return invalid("unknown section id %d", id)
}

func (m *module) decodeTypes(r *reader) error {
	n, err := vecLen(r, "types", 3, maxTypes)
	if err != nil {
		return err
	}
	m.types = make([]funcType, n)
	for i := range m.types {
		form, err := r.byte()
		if err != nil {
			return invalid("type %d: %v", i, err)
		}
		if form != 0x60 {
			return refuse(ReasonFeature, "type %d is not a function type (form 0x%02x)", i, form)
		}
		var ft funcType
		for k, lim := range []int{maxParams, maxResults} {
			cnt, err := vecLen(r, "params/results", 1, lim)
			if err != nil {
				return err
			}
			vs, _ := r.bytes(cnt)
			for _, v := range vs {
				if err := numericType(v, "function type"); err != nil {
					return err
				}
			}
			if k == 0 {
				ft.params = vs
			} else {
				ft.results = vs
			}
		}
		m.types[i] = ft
	}
	return nil
}

func (m *module) decodeImports(r *reader) error {
	n, err := vecLen(r, "imports", 4, maxImports)
	if err != nil {
		return err
	}
	for i := uint32(0); i < n; i++ {
		mod, err := r.name()
		if err != nil {
			return invalid("import module name: %v", err)
		}
		name, err := r.name()
		if err != nil {
			return invalid("import name: %v", err)
		}
		kind, err := r.byte()
		if err != nil {
			return invalid("import kind: %v", err)
		}
		if kind != externFunc {
			// Tables, memories and globals come only from the module
			// itself: the host provides functions and nothing else.
			what := map[byte]string{externTable: "table", externMemory: "memory", externGlobal: "global"}[kind]
			if what == "" {
				return invalid("import %s.%s has unknown kind %d", mod, name, kind)
			}
			return refuse(ReasonImport, "%s.%s: a %s import (only functions may be imported)", mod, name, what)
		}
		t, err := r.u32()
		if err != nil {
			return invalid("import type: %v", err)
		}
		if t >= uint32(len(m.types)) {
			return invalid("import %s.%s has unknown type %d", mod, name, t)
		}
		m.imports = append(m.imports, importEntry{module: mod, name: name, kind: kind, typeIdx: t})
		m.nImpFuncs++
	}
	return nil
}

func (m *module) decodeElems(r *reader) error {
	n, err := vecLen(r, "element segments", 2, maxElemSegments)
	if err != nil {
		return err
	}
	for i := uint32(0); i < n; i++ {
		flags, err := r.u32()
		if err != nil {
			return invalid("element segment flags: %v", err)
		}
		// Only active segments of function indices into table 0 (forms 0
		// and 2): passive and declarative segments exist for the
		// reference-types instructions, which are refused.
		switch flags {
		case 0:
		case 2:
			t, err := r.u32()
			if err != nil || t != 0 {
				return refuse(ReasonTable, "element segment %d targets table %d", i, t)
			}
		default:
			return refuse(ReasonFeature, "element segment %d has form %d (only active function-index segments)", i, flags)
		}
		off, err := constExpr(r, valI32)
		if err != nil {
			return err
		}
		if flags == 2 {
			kind, err := r.byte()
			if err != nil || kind != 0 {
				return invalid("element segment %d kind", i)
			}
		}
		cnt, err := vecLen(r, "element indices", 1, 0)
		if err != nil {
			return err
		}
		for k := uint32(0); k < cnt; k++ {
			if _, err := r.u32(); err != nil {
				return invalid("element index: %v", err)
			}
		}
		m.elems = append(m.elems, elemSegment{offset: uint32(off), count: cnt})
	}
	return nil
}

func (m *module) decodeDatas(r *reader) error {
	n, err := vecLen(r, "data segments", 2, maxDataSegments)
	if err != nil {
		return err
	}
	for i := uint32(0); i < n; i++ {
		flags, err := r.u32()
		if err != nil {
			return invalid("data segment flags: %v", err)
		}
		var d dataSegment
		switch flags {
		case 0, 2:
			if flags == 2 {
				mi, err := r.u32()
				if err != nil || mi != 0 {
					return refuse(ReasonMemory, "data segment %d targets memory %d", i, mi)
				}
			}
			off, err := constExpr(r, valI32)
			if err != nil {
				return err
			}
			d.active, d.offset = true, uint32(off)
		case 1:
		default:
			return invalid("data segment %d has form %d", i, flags)
		}
		size, err := r.u32()
		if err != nil {
			return invalid("data segment size: %v", err)
		}
		if _, err := r.bytes(size); err != nil {
			return invalid("data segment %d: %v", i, err)
		}
		d.size = size
		m.datas = append(m.datas, d)
	}
	return nil
}

// decodeLimits reads table or memory limits. Memories also carry the
// shared (0x02) and 64-bit (0x04) flags, which are refused.
func decodeLimits(r *reader, what string) (limitsDecl, byte, error) {
	flags, err := r.byte()
	if err != nil {
		return limitsDecl{}, 0, invalid("%s limits: %v", what, err)
	}
	reason := ReasonMemory
	if what == "table" {
		reason = ReasonTable
	}
	switch {
	case flags&0x02 != 0:
		return limitsDecl{}, 0, refuse(reason, "shared %s (threads)", what)
	case flags&0x04 != 0:
		return limitsDecl{}, 0, refuse(reason, "64-bit %s", what)
	case flags > 1:
		return limitsDecl{}, 0, invalid("%s limits flags 0x%02x", what, flags)
	}
	var l limitsDecl
	if l.min, err = r.u32(); err != nil {
		return l, 0, invalid("%s minimum: %v", what, err)
	}
	if flags == 1 {
		if l.max, err = r.u32(); err != nil {
			return l, 0, invalid("%s maximum: %v", what, err)
		}
		l.hasMax = true
		if l.max < l.min {
			return l, 0, invalid("%s maximum %d below minimum %d", what, l.max, l.min)
		}
	}
	return l, flags, nil
}

// constExpr reads a constant expression of type want: exactly one t.const
// then end. global.get, ref.* and the extended-const arithmetic are
// refused: the only globals are the module's own, and they are
// initialised from literals.
func constExpr(r *reader, want byte) (int64, error) {
	op, err := r.byte()
	if err != nil {
		return 0, invalid("constant expression: %v", err)
	}
	var v int64
	var got byte
	switch op {
	case 0x41:
		got = valI32
		v, err = r.sleb(32)
	case 0x42:
		got = valI64
		v, err = r.sleb(64)
	case 0x43:
		got = valF32
		_, err = r.bytes(4)
	case 0x44:
		got = valF64
		_, err = r.bytes(8)
	case 0x23:
		return 0, refuse(ReasonFeature, "global.get in a constant expression")
	case 0xd0, 0xd2:
		return 0, refuse(ReasonFeature, "reference in a constant expression")
	default:
		return 0, refuse(ReasonFeature, "constant expression opcode 0x%02x", op)
	}
	if err != nil {
		return 0, invalid("constant expression: %v", err)
	}
	if got != want {
		return 0, invalid("constant expression of type 0x%02x, want 0x%02x", got, want)
	}
	end, err := r.byte()
	if err != nil || end != 0x0b {
		return 0, refuse(ReasonFeature, "constant expression longer than one instruction")
	}
	return v, nil
}

func numericType(v byte, where string) error {
	switch v {
	case valI32, valI64, valF32, valF64:
		return nil
	case valV128:
		return refuse(ReasonFeature, "v128 in %s (SIMD)", where)
	case refFunc, refExt:
		return refuse(ReasonFeature, "reference type in %s", where)
	}
	return invalid("value type 0x%02x in %s", v, where)
}

func (m *module) funcType(idx uint32) (funcType, bool) {
	var t uint32
	if idx < m.nImpFuncs {
		t = m.imports[idx].typeIdx
	} else if i := idx - m.nImpFuncs; i < uint32(len(m.funcs)) {
		t = m.funcs[i]
	} else {
		return funcType{}, false
	}
	return m.types[t], true
}

func (f funcType) String() string {
	name := func(v []byte) string {
		s := "["
		for i, t := range v {
			if i > 0 {
				s += " "
			}
			s += map[byte]string{valI32: "i32", valI64: "i64", valF32: "f32", valF64: "f64"}[t]
		}
		return s + "]"
	}
	return fmt.Sprintf("%s -> %s", name(f.params), name(f.results))
}
