package wasmcheck

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
)

// ProgramID names a program: SHA-256 of the module bytes as registered.
type ProgramID [32]byte

// ProgramIDOf returns the id of module.
func ProgramIDOf(module []byte) ProgramID { return sha256.Sum256(module) }

func (id ProgramID) String() string { return hex.EncodeToString(id[:]) }

// ParseProgramID parses the 64-hex-digit form.
func ParseProgramID(s string) (ProgramID, error) {
	var id ProgramID
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != len(id) {
		return id, fmt.Errorf("compute: program id %q is not 64 hex digits", s)
	}
	copy(id[:], b)
	return id, nil
}

// Program is a module that passed the registration checks, in its metered
// form. Check is deterministic: every keeper that checks the same bytes
// under the same Limits gets the same Program, byte for byte, so keepers
// can fetch the original module by id and check it themselves.
type Program struct {
	ID     ProgramID
	Limits Limits
	// Metered is the module with fuel and call-depth metering and NaN
	// canonicalisation injected: what every keeper host runs.
	Metered []byte
	// MeteredHash is SHA-256(Metered), to compare hosts cheaply.
	MeteredHash [32]byte
	// Imports are the WASI functions the program imports, in module order.
	Imports []string
	// MemoryPages is the initial memory; MaxMemoryPages the maximum of the
	// metered module (declared, or Limits.MaxMemoryPages).
	MemoryPages    uint32
	MaxMemoryPages uint32
	// Functions is the number of functions defined by the module.
	Functions int
	// UsesFloat reports float instructions (their NaNs are canonicalised).
	UsesFloat bool
}

// Check runs the registration checks on module and returns the program in
// its metered form, or a *CheckError naming the reason (match it with
// errors.Is against ErrInvalidModule, ErrTooLarge, ErrImport, ErrMemory,
// ErrTable, ErrFeature, ErrEntryPoint). An error that is not a
// *CheckError means the limits themselves are unusable.
func Check(module []byte, limits Limits) (*Program, error) {
	if err := limits.Validate(); err != nil {
		return nil, err
	}
	if len(module) > limits.MaxModuleBytes {
		return nil, refuse(ReasonTooLarge, "module has %d bytes (limit %d)", len(module), limits.MaxModuleBytes)
	}
	m, err := decodeModule(module)
	if err != nil {
		return nil, err
	}
	p := &Program{ID: ProgramIDOf(module), Limits: limits, Functions: len(m.funcs)}
	if err := m.checkPolicy(limits, p); err != nil {
		return nil, err
	}
	metered, err := m.instrument(limits)
	if err != nil {
		return nil, err
	}
	p.UsesFloat = m.usesFloat
	p.Metered = metered
	p.MeteredHash = sha256.Sum256(metered)
	return p, nil
}

// checkPolicy applies the registration rules that are not about single
// instructions: imports, memory, table, segments, exports.
func (m *module) checkPolicy(lim Limits, p *Program) error {
	seen := map[string]bool{}
	for _, im := range m.imports {
		full := im.module + "." + im.name
		if im.module != WASIModule {
			return refuse(ReasonImport, "%s (only %s functions may be imported)", full, WASIModule)
		}
		f, ok := wasiSignatures[im.name]
		if !ok {
			return refuse(ReasonImport, "%s is not in the deterministic subset", full)
		}
		got := m.types[im.typeIdx]
		if string(got.params) != string(f.params) || string(got.results) != string(f.results) {
			return refuse(ReasonImport, "%s imported as %v, want %v", full, got, funcType{f.params, f.results})
		}
		if !seen[im.name] {
			seen[im.name] = true
			p.Imports = append(p.Imports, im.name)
		}
	}

	if len(m.memories) != 1 {
		return refuse(ReasonMemory, "%d memories defined (exactly one, exported as \"memory\")", len(m.memories))
	}
	mem := m.memories[0]
	if mem.min > lim.MaxMemoryPages {
		return refuse(ReasonMemory, "initial memory %d pages (limit %d)", mem.min, lim.MaxMemoryPages)
	}
	if mem.hasMax && mem.max > lim.MaxMemoryPages {
		return refuse(ReasonMemory, "maximum memory %d pages (limit %d)", mem.max, lim.MaxMemoryPages)
	}
	p.MemoryPages, p.MaxMemoryPages = mem.min, lim.MaxMemoryPages
	if mem.hasMax {
		p.MaxMemoryPages = mem.max
	}

	if len(m.tables) > 1 {
		return refuse(ReasonTable, "%d tables (at most one)", len(m.tables))
	}
	tableMin := uint32(0)
	if len(m.tables) == 1 {
		if m.tableTypes[0] != refFunc {
			return refuse(ReasonTable, "table of type 0x%02x (only funcref)", m.tableTypes[0])
		}
		tableMin = m.tables[0].min
		if tableMin > lim.MaxTableElements {
			return refuse(ReasonTable, "table of %d elements (limit %d)", tableMin, lim.MaxTableElements)
		}
	}
	// Segments must fit the initial memory and table, so that
	// instantiation cannot fail on one engine and not another.
	for i, e := range m.elems {
		if uint64(e.offset)+uint64(e.count) > uint64(tableMin) || len(m.tables) == 0 {
			return refuse(ReasonTable, "element segment %d (offset %d, %d entries) outside the table of %d", i, e.offset, e.count, tableMin)
		}
	}
	for i, d := range m.datas {
		if d.active && uint64(d.offset)+uint64(d.size) > uint64(mem.min)*65536 {
			return refuse(ReasonMemory, "data segment %d (offset %d, %d bytes) outside the initial memory", i, d.offset, d.size)
		}
	}

	var start, memExp bool
	for _, e := range m.exports {
		switch {
		case strings.HasPrefix(e.name, reservedExportPrefix):
			return refuse(ReasonEntryPoint, "export %q uses the reserved prefix %q", e.name, reservedExportPrefix)
		case e.name == "_start":
			if e.kind != externFunc {
				return refuse(ReasonEntryPoint, "_start is not a function")
			}
			ft, ok := m.funcType(e.index)
			if !ok {
				return invalid("_start exports unknown function %d", e.index)
			}
			if len(ft.params) != 0 || len(ft.results) != 0 {
				return refuse(ReasonEntryPoint, "_start has type %v, want [] -> []", ft)
			}
			start = true
		case e.name == "memory":
			if e.kind != externMemory || e.index != 0 {
				return refuse(ReasonEntryPoint, "\"memory\" does not export memory 0")
			}
			memExp = true
		}
	}
	if !start {
		return refuse(ReasonEntryPoint, "no _start export (programs are wasip1 commands)")
	}
	if !memExp {
		return refuse(ReasonEntryPoint, "no \"memory\" export (WASI needs it)")
	}
	return nil
}
