package wasmcheck

// Metering is injected into the module itself, so that every engine that
// runs the metered module (wazero's compiler and interpreter, V8, workerd)
// counts exactly the same fuel and traps at exactly the same instruction.
// The scheme (docs/compute.md, "Fuel"):
//
//   - Two globals are appended and exported: lightkeeper_fuel (mut i64, the
//     fuel left) and lightkeeper_depth (mut i32, the calls left). The host
//     sets both before calling _start and reads them afterwards.
//   - Every function body is cut into segments at control boundaries: the
//     function entry, the start of every loop (the loop header, so every
//     iteration pays) and if arm, and the instruction after every
//     non-final end (the target of branches out of a block). A block's
//     opening is not a boundary: nothing runs between the instructions
//     before it and the first ones inside, so one charge pays for both.
//     At the start of each segment the fuel is reduced by the number of
//     original instructions in the segment, up to and including the
//     control instruction that closes it.
//   - The fuel is checked — trap with unreachable if negative — at every
//     loop header (after its charge), before every call and call_indirect
//     (so before every host call, which reads the fuel for the clocks and
//     is the only way out to the host), before memory.grow and with every
//     bulk charge. Between checks the program runs straight-line code or
//     returns to a caller; whatever it does there is invisible (memory is
//     not a result) or a trap, and a trap with fuel < 0 is out of fuel with
//     the whole limit used, exactly as if it had trapped at the charge. A
//     _start that returns with fuel < 0 ran out of fuel too (the host
//     checks). So results — output, exit code, fuel used, trap — are those
//     of checking at every segment, which costs twice as much on the
//     interpreter (docs/compute.md, Figures).
//   - memory.copy, memory.fill and memory.init additionally pay one unit per
//     64 bytes, charged and checked just before they run.
//   - Every call and call_indirect is preceded by a decrement of the depth
//     counter (trapping with unreachable when it goes negative) and
//     followed by the matching increment, so recursion stops at the same
//     depth on every engine, far below any engine's own stack limit.
//   - The result of every float operation whose NaN bits the spec leaves
//     open is canonicalised: x is replaced by x == x ? x : canonical NaN.
//
// After a trap, or a return from _start, the host tells the reasons apart
// by the globals: fuel < 0 means out of fuel, depth < 0 means the call
// depth was exhausted, anything else is the program's own trap.

const (
	ExportFuel  = "lightkeeper_fuel"
	ExportDepth = "lightkeeper_depth"
	// reservedExportPrefix: a module may not export names the metering uses.
	reservedExportPrefix = "lightkeeper_"
	// BulkCostShift: bulk memory operations (and the WASI calls that move
	// bytes) pay len >> 6, one unit per 64 bytes.
	BulkCostShift = 6
)

// Instrument returns the metered form of module under DefaultLimits: the
// bytes Check(module, DefaultLimits()) puts in Program.Metered, without the
// registration policy checks (imports, exports) and without validating the
// module. Modules it cannot meter (SIMD, threads, reference types, tail
// calls, exceptions, more than one memory) are refused with a *CheckError.
func Instrument(module []byte) ([]byte, error) {
	m, err := decodeModule(module)
	if err != nil {
		return nil, err
	}
	if len(m.memories) > 1 {
		return nil, refuse(ReasonMemory, "%d memories", len(m.memories))
	}
	return m.instrument(DefaultLimits())
}

func (m *module) instrument(lim Limits) ([]byte, error) {
	fuelIdx := uint32(len(m.globals))
	depthIdx := fuelIdx + 1

	size := 0
	for _, s := range m.sections {
		size += len(s.body) + 6
	}
	// Metering roughly doubles the code; the rest is copied.
	out := make([]byte, 0, 2*size+64)
	out = append(out, "\x00asm\x01\x00\x00\x00"...)
	var code []byte
	var err error
	if code, err = m.meterCode(fuelIdx, depthIdx); err != nil {
		return nil, err
	}
	for _, id := range []byte{secType, secImport, secFunction, secTable, secMemory, secGlobal, secExport, secElement, secDataCount, secCode, secData} {
		var body []byte
		present := false
		for _, s := range m.sections {
			if s.id == id {
				body, present = s.body, true
			}
		}
		switch id {
		case secMemory:
			if present {
				body = m.memorySection(lim)
			}
		case secGlobal:
			body = m.globalSection(body)
			present = true
		case secExport:
			body = m.exportSection(fuelIdx, depthIdx)
			present = true
		case secCode:
			if present {
				body = code
			}
		}
		if !present {
			continue
		}
		out = append(out, id)
		out = appendU32(out, uint32(len(body)))
		out = append(out, body...)
	}
	return out, nil
}

// memorySection writes the memory with an explicit maximum: the declared
// one, or the page limit when none was declared, so that memory.grow
// fails at the same size on every engine.
func (m *module) memorySection(lim Limits) []byte {
	b := appendU32(nil, uint32(len(m.memories)))
	for _, l := range m.memories {
		max := l.max
		if !l.hasMax {
			max = lim.MaxMemoryPages
			if max < l.min {
				max = l.min
			}
		}
		b = append(b, 0x01)
		b = appendU32(b, l.min)
		b = appendU32(b, max)
	}
	return b
}

func (m *module) globalSection(orig []byte) []byte {
	var b []byte
	b = appendU32(b, uint32(len(m.globals)+2))
	if len(orig) > 0 {
		r := &reader{b: orig}
		_, _ = r.u32() // decoded before: cannot fail
		b = append(b, orig[r.off:]...)
	}
	b = append(b, valI64, 1, 0x42, 0, 0x0b) // fuel: mut i64 = 0
	b = append(b, valI32, 1, 0x41, 0, 0x0b) // depth: mut i32 = 0
	return b
}

func (m *module) exportSection(fuelIdx, depthIdx uint32) []byte {
	b := appendU32(nil, uint32(len(m.exports)+2))
	for _, e := range m.exports {
		b = appendName(b, e.name)
		b = append(b, e.kind)
		b = appendU32(b, e.index)
	}
	b = appendName(b, ExportFuel)
	b = append(b, externGlobal)
	b = appendU32(b, fuelIdx)
	b = appendName(b, ExportDepth)
	b = append(b, externGlobal)
	b = appendU32(b, depthIdx)
	return b
}

// meterCode rewrites every function body and returns the new code section.
func (m *module) meterCode(fuelIdx, depthIdx uint32) ([]byte, error) {
	sec := appendU32(nil, uint32(len(m.codes)))
	var ins []instr
	var costs, oldCosts []uint32
	var body []byte
	work := 0
	for fi := range m.codes {
		info, list, err := m.scanBody(fi, ins[:0])
		ins = list
		if err != nil {
			return nil, err
		}
		// Nesting work (limits.go): what a deep body costs the compiler
		// beyond its size, summed so that many deep bodies cannot add up
		// to a long compile either.
		work += info.shape.blocks * info.shape.maxDepth
		if work > MaxNestingWork {
			return nil, refuse(ReasonTooLarge, "function %d (body %d): nesting work (blocks × depth, summed over the bodies so far) reaches %d (limit %d)", m.nImpFuncs+uint32(fi), fi, work, MaxNestingWork)
		}
		m.usesFloat = m.usesFloat || info.floats
		src := m.codes[fi].body
		ft := m.types[m.funcs[fi]]

		// Scratch locals go after the function's own, so no original
		// local index moves.
		next := uint32(len(ft.params)) + info.nLocals
		var tI32, tF32, tF64 uint32
		decls := info.localDecls
		if info.needI32 {
			tI32, next = next, next+1
			decls = append(decls, localDecl{1, valI32})
		}
		if info.needF32 {
			tF32, next = next, next+1
			decls = append(decls, localDecl{1, valF32})
		}
		if info.needF64 {
			tF64 = next
			decls = append(decls, localDecl{1, valF64})
		}

		// costs[i]: instructions from i up to and including the next
		// control boundary, i.e. the charge of a segment starting at i.
		if cap(costs) < len(ins) {
			costs = make([]uint32, len(ins))
		}
		costs = costs[:len(ins)]
		run := uint32(0)
		for i := len(ins) - 1; i >= 0; i-- {
			switch in := ins[i]; in.cls {
			case clsOpen, clsElse, clsEnd:
				if in.cls == clsOpen && src[in.start] == opBlock {
					run++ // paid with the block's first segment
				} else {
					run = 1
				}
			default:
				run++
			}
			costs[i] = run
		}
		// oldCosts: the same under the metering that checked at every
		// segment and cut at blocks too. Registration keeps applying the
		// function size limit (V8's) to that metering's size as well as to
		// this one's, so that no module it accepted is refused now or the
		// other way round.
		if cap(oldCosts) < len(ins) {
			oldCosts = make([]uint32, len(ins))
		}
		oldCosts = oldCosts[:len(ins)]
		run = 0
		for i := len(ins) - 1; i >= 0; i-- {
			switch ins[i].cls {
			case clsOpen, clsElse, clsEnd:
				run = 1
			default:
				run++
			}
			oldCosts[i] = run
		}

		body = body[:0]
		body = appendU32(body, uint32(len(decls)))
		for _, d := range decls {
			body = appendU32(body, d.count)
			body = append(body, d.typ)
		}
		// oldExtra: what the old metering's body has more than this one.
		oldExtra := 0
		var scratch [32]byte
		segStart, segLoop, oldSegStart := true, false, true
		last := len(ins) - 1
		for i, in := range ins {
			if oldSegStart {
				oldExtra += len(chargeConst(scratch[:0], fuelIdx, int64(oldCosts[i])))
				oldSegStart = false
			}
			if segStart {
				n := len(body)
				if segLoop {
					body = chargeConst(body, fuelIdx, int64(costs[i]))
				} else {
					body = charge(body, fuelIdx, int64(costs[i]))
				}
				oldExtra -= len(body) - n
				segStart = false
			}
			switch {
			case in.cls == clsCall:
				body = checkFuel(body, fuelIdx)
				oldExtra -= len(checkFuel(scratch[:0], fuelIdx))
				body = depthEnter(body, depthIdx)
			case in.cls == clsBulk:
				body = chargeBulk(body, fuelIdx, tI32)
			case in.cls == clsPlain && src[in.start] == opMemoryGrow:
				body = checkFuel(body, fuelIdx)
				oldExtra -= len(checkFuel(scratch[:0], fuelIdx))
			}
			body = append(body, src[in.start:in.end]...)
			switch in.cls {
			case clsCall:
				body = depthLeave(body, depthIdx)
			case clsCanonF32:
				body = canonF32(body, tF32)
			case clsCanonF64:
				body = canonF64(body, tF64)
			case clsOpen, clsElse:
				oldSegStart = true
				segStart = src[in.start] != opBlock
				segLoop = src[in.start] == opLoop
			case clsEnd:
				oldSegStart = i != last
				segStart, segLoop = i != last, false
			}
		}
		if size := max(len(body), len(body)+oldExtra); size > MaxFunctionBytes {
			return nil, refuse(ReasonTooLarge, "function %d grows to %d bytes when metered (limit %d)", fi, size, MaxFunctionBytes)
		}
		sec = appendU32(sec, uint32(len(body)))
		sec = append(sec, body...)
	}
	return sec, nil
}

// Opcodes used by the injected sequences.
const (
	opUnreachable = 0x00
	opBlock       = 0x02
	opLoop        = 0x03
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
	opMemoryGrow  = 0x40
	blockEmpty    = 0x40
)

// trapIfNegative: [x] -> []; traps when x < 0 (x of type i64 or i32, given
// by lt).
func trapIfNegative(b []byte, zero byte, lt byte) []byte {
	return append(b, zero, 0, lt, opIf, blockEmpty, opUnreachable, opEnd)
}

// charge: fuel -= c (checked later).
func charge(b []byte, fuel uint32, c int64) []byte {
	b = append(b, opGlobalGet)
	b = appendU32(b, fuel)
	b = append(b, opI64Const)
	b = appendS64(b, c)
	b = append(b, opI64Sub, opGlobalSet)
	return appendU32(b, fuel)
}

// checkFuel: trap if fuel < 0.
func checkFuel(b []byte, fuel uint32) []byte {
	b = append(b, opGlobalGet)
	b = appendU32(b, fuel)
	return trapIfNegative(b, opI64Const, opI64LtS)
}

// chargeConst: fuel -= c; trap if fuel < 0.
func chargeConst(b []byte, fuel uint32, c int64) []byte {
	return checkFuel(charge(b, fuel, c), fuel)
}

// chargeBulk: with the byte count n on top of the stack (left there),
// fuel -= n >> 6; trap if fuel < 0.
func chargeBulk(b []byte, fuel, tmp uint32) []byte {
	b = append(b, opLocalTee)
	b = appendU32(b, tmp)
	b = append(b, opGlobalGet)
	b = appendU32(b, fuel)
	b = append(b, opLocalGet)
	b = appendU32(b, tmp)
	b = append(b, opI64ExtI32U, opI64Const, BulkCostShift, opI64ShrU, opI64Sub, opGlobalSet)
	b = appendU32(b, fuel)
	b = append(b, opGlobalGet)
	b = appendU32(b, fuel)
	return trapIfNegative(b, opI64Const, opI64LtS)
}

// depthEnter: depth -= 1; trap if depth < 0.
func depthEnter(b []byte, depth uint32) []byte {
	b = append(b, opGlobalGet)
	b = appendU32(b, depth)
	b = append(b, opI32Const, 1, opI32Sub, opGlobalSet)
	b = appendU32(b, depth)
	b = append(b, opGlobalGet)
	b = appendU32(b, depth)
	return trapIfNegative(b, opI32Const, opI32LtS)
}

// depthLeave: depth += 1 (after the call returned; a trap never returns).
func depthLeave(b []byte, depth uint32) []byte {
	b = append(b, opGlobalGet)
	b = appendU32(b, depth)
	b = append(b, opI32Const, 1, opI32Add, opGlobalSet)
	return appendU32(b, depth)
}

// canonF32: [x] -> [x == x ? x : NaN32].
func canonF32(b []byte, tmp uint32) []byte {
	b = append(b, opLocalTee)
	b = appendU32(b, tmp)
	b = append(b, opF32Const)
	b = appendF32(b, canonicalNaN32)
	b = append(b, opLocalGet)
	b = appendU32(b, tmp)
	b = append(b, opLocalGet)
	b = appendU32(b, tmp)
	return append(b, opF32Eq, opSelect)
}

// canonF64: [x] -> [x == x ? x : NaN64].
func canonF64(b []byte, tmp uint32) []byte {
	b = append(b, opLocalTee)
	b = appendU32(b, tmp)
	b = append(b, opF64Const)
	b = appendF64(b, canonicalNaN64)
	b = append(b, opLocalGet)
	b = appendU32(b, tmp)
	b = append(b, opLocalGet)
	b = appendU32(b, tmp)
	return append(b, opF64Eq, opSelect)
}
