package wasmcheck

// The instruction walker: it decodes each function body instruction by
// instruction, refuses the opcodes this package does not allow, and records
// what the instrumenter needs (where instructions start and end, which are
// control boundaries, calls, float results and bulk-memory operations).

// Instruction classes the instrumenter cares about.
const (
	clsPlain    uint8 = iota
	clsOpen           // block, loop, if: ends a metered segment; a new one starts inside
	clsElse           // else: ends the then-arm's segment; a new one starts in the else-arm
	clsEnd            // end: a branch target; a new segment starts after it
	clsCall           // call, call_indirect: guarded by the call-depth counter
	clsCanonF32       // float op whose f32 result may be a NaN with unspecified bits
	clsCanonF64       // same, f64
	clsBulk           // memory.copy, memory.fill, memory.init: charged per byte moved
)

type instr struct {
	start, end uint32 // byte range in the body
	cls        uint8
}

// bodyInfo is what the walker learns about one function body.
type bodyInfo struct {
	localsEnd  uint32 // offset where the expression starts
	nLocals    uint32 // declared locals, not counting params
	localDecls []localDecl
	needF32    bool
	needF64    bool
	needI32    bool
	floats     bool
	shape      funcShape
}

// funcShape is what makes a body expensive to compile rather than to run:
// the figures the compile-complexity limits bound (limits.go).
type funcShape struct {
	bytes      int // the body as written: locals and expression
	instrs     int // instructions
	locals     int // params and declared locals
	blocks     int // block, loop and if instructions
	maxDepth   int // deepest nesting of block, loop and if (0: none)
	maxBrTable int // most entries of one br_table, default included
}

type localDecl struct {
	count uint32
	typ   byte
}

// f32/f64 operations whose NaN results the spec leaves unspecified (sign
// and payload): the arithmetic, rounding, sqrt, min/max and the
// promote/demote conversions. abs, neg and copysign only touch the sign bit
// and are exact; loads, stores, constants and reinterpretations keep bits;
// comparisons and integer conversions produce no float.
var canonOps = func() (t [256]uint8) {
	for op := 0x8d; op <= 0x97; op++ { // f32.ceil .. f32.max
		t[op] = clsCanonF32
	}
	for op := 0x9b; op <= 0xa5; op++ { // f64.ceil .. f64.max
		t[op] = clsCanonF64
	}
	t[0xb6] = clsCanonF32 // f32.demote_f64
	t[0xbb] = clsCanonF64 // f64.promote_f32
	return
}()

// scanBody walks body fi of m, appending its instructions to buf.
func (m *module) scanBody(fi int, buf []instr) (bodyInfo, []instr, error) {
	var info bodyInfo
	b := m.codes[fi].body
	ft := m.types[m.funcs[fi]]
	r := &reader{b: b}
	nDecl, err := vecLen(r, "local declarations", 2, 0)
	if err != nil {
		return info, buf, err
	}
	total := uint64(len(ft.params))
	for i := uint32(0); i < nDecl; i++ {
		n, err := r.u32()
		if err != nil {
			return info, buf, invalid("function %d locals: %v", fi, err)
		}
		t, err := r.byte()
		if err != nil {
			return info, buf, invalid("function %d local type: %v", fi, err)
		}
		if err := numericType(t, "locals"); err != nil {
			return info, buf, err
		}
		total += uint64(n)
		if total > MaxFunctionLocals {
			return info, buf, refuse(ReasonTooLarge, "function %d (body %d) has more than %d params and locals", m.nImpFuncs+uint32(fi), fi, MaxFunctionLocals)
		}
		info.localDecls = append(info.localDecls, localDecl{count: n, typ: t})
		info.nLocals += n
	}
	info.localsEnd = uint32(r.off)
	nAllLocals := uint32(total)
	info.shape.bytes, info.shape.locals = len(b), int(total)
	nFuncs := m.nImpFuncs + uint32(len(m.funcs))
	nGlobals := uint32(len(m.globals))

	depth := 0
	for {
		if r.done() {
			return info, buf, invalid("function %d: body ends without end", fi)
		}
		start := uint32(r.off)
		op, _ := r.byte()
		cls := clsPlain
		var e error
		switch {
		case op == 0x00 || op == 0x01 || op == 0x0f || op == 0x1a || op == 0x1b:
			// unreachable, nop, return, drop, select
		case op >= 0x02 && op <= 0x04:
			e = m.blockType(r)
			depth++
			cls = clsOpen
			info.shape.blocks++
			info.shape.maxDepth = max(info.shape.maxDepth, depth)
			if depth > MaxBlockDepth {
				return info, buf, refuse(ReasonTooLarge, "function %d (body %d): blocks nested deeper than %d", m.nImpFuncs+uint32(fi), fi, MaxBlockDepth)
			}
		case op == 0x05:
			cls = clsElse
		case op == 0x0b:
			cls = clsEnd
			depth--
		case op == 0x0c || op == 0x0d:
			_, e = r.u32()
		case op == 0x0e:
			var n uint32
			if n, e = r.u32(); e == nil {
				if n >= MaxBrTableTargets {
					return info, buf, refuse(ReasonTooLarge, "function %d (body %d): br_table with %d targets (limit %d)", m.nImpFuncs+uint32(fi), fi, uint64(n)+1, MaxBrTableTargets)
				}
				info.shape.maxBrTable = max(info.shape.maxBrTable, int(n)+1)
				for k := uint32(0); k <= n && e == nil; k++ {
					_, e = r.u32()
				}
			}
		case op == 0x10:
			var f uint32
			if f, e = r.u32(); e == nil && f >= nFuncs {
				return info, buf, invalid("call to unknown function %d", f)
			}
			cls = clsCall
		case op == 0x11:
			var t, tab uint32
			if t, e = r.u32(); e == nil {
				if t >= uint32(len(m.types)) {
					return info, buf, invalid("call_indirect of unknown type %d", t)
				}
				if tab, e = r.u32(); e == nil && tab != 0 {
					return info, buf, refuse(ReasonTable, "call_indirect through table %d", tab)
				}
			}
			cls = clsCall
		case op == 0x12 || op == 0x13 || op == 0x14 || op == 0x15:
			return info, buf, refuse(ReasonFeature, "tail calls or typed function references (opcode 0x%02x)", op)
		case (op >= 0x06 && op <= 0x0a) || op == 0x18 || op == 0x19 || op == 0x1f:
			return info, buf, refuse(ReasonFeature, "exception handling (opcode 0x%02x)", op)
		case op == 0x1c:
			var n uint32
			if n, e = r.u32(); e == nil {
				if n != 1 {
					return info, buf, invalid("typed select with %d types", n)
				}
				var t byte
				if t, e = r.byte(); e == nil {
					if err := numericType(t, "select"); err != nil {
						return info, buf, err
					}
				}
			}
		case op >= 0x20 && op <= 0x22:
			var x uint32
			if x, e = r.u32(); e == nil && x >= nAllLocals {
				return info, buf, invalid("unknown local %d", x)
			}
		case op == 0x23 || op == 0x24:
			// Checked here, not only by the validator: the metering adds
			// globals, and an index past the module's own would otherwise
			// reach the fuel counter after instrumentation.
			var x uint32
			if x, e = r.u32(); e == nil && x >= nGlobals {
				return info, buf, invalid("unknown global %d", x)
			}
		case op == 0x25 || op == 0x26:
			return info, buf, refuse(ReasonFeature, "table.get/table.set (reference types)")
		case op >= 0x28 && op <= 0x3e:
			var align uint32
			if align, e = r.u32(); e == nil {
				if align >= 64 {
					return info, buf, refuse(ReasonFeature, "multiple memories (memarg flags 0x%x)", align)
				}
				_, e = r.u32()
			}
			if op == 0x2a || op == 0x2b {
				info.floats = true
			}
		case op == 0x3f || op == 0x40:
			var z byte
			if z, e = r.byte(); e == nil && z != 0 {
				return info, buf, refuse(ReasonFeature, "multiple memories (memory index byte 0x%02x)", z)
			}
		case op == 0x41:
			_, e = r.sleb(32)
		case op == 0x42:
			_, e = r.sleb(64)
		case op == 0x43:
			_, e = r.bytes(4)
			info.floats = true
		case op == 0x44:
			_, e = r.bytes(8)
			info.floats = true
		case op >= 0x45 && op <= 0xc4:
			if c := canonOps[op]; c != 0 {
				cls = c
				if c == clsCanonF32 {
					info.needF32 = true
				} else {
					info.needF64 = true
				}
			}
			if (op >= 0x5b && op <= 0x66) || (op >= 0x8b && op <= 0xa6) || (op >= 0xa8 && op <= 0xbf) {
				info.floats = true // float comparisons, arithmetic, conversions
			}
		case op >= 0xd0 && op <= 0xd6:
			return info, buf, refuse(ReasonFeature, "reference instructions (opcode 0x%02x)", op)
		case op == 0xfb:
			return info, buf, refuse(ReasonFeature, "garbage-collection instructions")
		case op == 0xfc:
			var sub uint32
			if sub, e = r.u32(); e != nil {
				break
			}
			switch {
			case sub <= 7: // saturating float-to-int: defined for every input
				info.floats = true
			case sub == 8: // memory.init
				if _, e = r.u32(); e == nil {
					e = zeroByte(r)
				}
				cls = clsBulk
				info.needI32 = true
			case sub == 9: // data.drop
				_, e = r.u32()
			case sub == 10: // memory.copy
				if e = zeroByte(r); e == nil {
					e = zeroByte(r)
				}
				cls = clsBulk
				info.needI32 = true
			case sub == 11: // memory.fill
				e = zeroByte(r)
				cls = clsBulk
				info.needI32 = true
			case sub >= 12 && sub <= 17:
				return info, buf, refuse(ReasonFeature, "table instructions (0xfc %d, reference types)", sub)
			default:
				return info, buf, invalid("unknown opcode 0xfc %d", sub)
			}
		case op == 0xfd:
			return info, buf, refuse(ReasonFeature, "SIMD instructions")
		case op == 0xfe:
			return info, buf, refuse(ReasonFeature, "threads/atomic instructions")
		default:
			return info, buf, invalid("unknown opcode 0x%02x", op)
		}
		if e != nil {
			if ce, ok := e.(*CheckError); ok {
				return info, buf, ce
			}
			return info, buf, invalid("function %d at byte %d: %v", fi, start, e)
		}
		buf = append(buf, instr{start: start, end: uint32(r.off), cls: cls})
		info.shape.instrs++
		if depth < 0 {
			if !r.done() {
				return info, buf, invalid("function %d: %d bytes after the final end", fi, r.rest())
			}
			return info, buf, nil
		}
	}
}

func zeroByte(r *reader) error {
	z, err := r.byte()
	if err != nil {
		return err
	}
	if z != 0 {
		return refuse(ReasonFeature, "multiple memories (memory index byte 0x%02x)", z)
	}
	return nil
}

// blockType reads a block type: empty (0x40), one value type, or a type
// index (multi-value) as a non-negative s33.
func (m *module) blockType(r *reader) error {
	if r.done() {
		return errEOF
	}
	c := r.b[r.off]
	if c == 0x40 {
		r.off++
		return nil
	}
	if c&0xc0 == 0x40 { // a single-byte negative s33: a value type
		r.off++
		return numericType(c, "block type")
	}
	v, err := r.sleb(33)
	if err != nil {
		return err
	}
	if v < 0 || v >= int64(len(m.types)) {
		return invalid("block type index %d", v)
	}
	return nil
}
