package state

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"

	lightkeeperv1 "github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1"
	"github.com/lightkeeper-net/lightkeeper/verifier/wasmcheck"
	"google.golang.org/protobuf/proto"
)

// COMPUTE rounds (docs/design.md §3, docs/compute.md): a registered WebAssembly
// program, an input and a fuel limit, re-executed by a committee of
// compute_validators keepers. A vote's result_hash is
// wasmcheck.ResultHash of the keeper's result; APPROVE means the run ended
// without a trap, REJECT that it trapped (a deterministic trap such as
// out_of_fuel is a result, not an error). The round is decided by the first
// result hash that threshold = ⌈2·compute_validators/3⌉ votes of the same
// kind carry (ComputeThreshold): APPROVED or REJECTED with that result.
// Since the threshold is more than half the committee, two results can
// never both reach it.

// Bounds of the [compute] parameters.
const (
	// MaxComputeModuleBytes bounds compute.max_module_bytes.
	MaxComputeModuleBytes = 64 << 20
	// MaxComputeOutputBytes bounds compute.max_output_bytes: the output
	// rides in the leader's vote.
	MaxComputeOutputBytes = 64 << 10
	// MaxComputeInputBytes bounds compute.max_input_bytes.
	MaxComputeInputBytes = 16 << 20
	// MaxComputeWorkUnits caps the work units one compute round is worth
	// (so fees and capacities of absurd fuel limits stay in range).
	MaxComputeWorkUnits = 1_000_000
	// maxFuelParam is the largest fuel a module's i64 counter can hold.
	maxFuelParam = uint64(1) << 62
	// maxTrap is the largest trap kind a result may carry.
	maxTrap = uint32(wasmcheck.TrapIndirectCall)
)

// wasmHeader starts every WebAssembly 1.0/2.0 binary module.
var wasmHeader = []byte("\x00asm\x01\x00\x00\x00")

// DefaultComputeParams returns the [compute] defaults: verifier/compute's
// DefaultLimits (8 MiB modules, 128 MiB memory, 65,536 table elements, call
// depth 1,024, 64 KiB of output, fuel up to 2⁴⁰) and inputs up to 1 MiB.
func DefaultComputeParams() *lightkeeperv1.ComputeParams {
	l := wasmcheck.DefaultLimits()
	return &lightkeeperv1.ComputeParams{
		MaxModuleBytes:   uint64(l.MaxModuleBytes),
		MaxMemoryPages:   l.MaxMemoryPages,
		MaxTableElements: l.MaxTableElements,
		MaxCallDepth:     l.MaxCallDepth,
		MaxOutputBytes:   uint32(l.MaxOutputBytes),
		MaxFuel:          l.MaxFuel,
		MaxInputBytes:    1 << 20,
	}
}

// ComputeLimits turns the chain's compute parameters into the limits
// verifier/compute checks and runs programs under.
func ComputeLimits(p *lightkeeperv1.ComputeParams) wasmcheck.Limits {
	return wasmcheck.Limits{
		MaxModuleBytes:   int(min(p.GetMaxModuleBytes(), MaxComputeModuleBytes)),
		MaxMemoryPages:   p.GetMaxMemoryPages(),
		MaxTableElements: p.GetMaxTableElements(),
		MaxCallDepth:     p.GetMaxCallDepth(),
		MaxOutputBytes:   int(p.GetMaxOutputBytes()),
		MaxFuel:          p.GetMaxFuel(),
	}
}

// validateCompute checks the [compute] parameters and staking.fuel_per_unit.
func validateCompute(p *lightkeeperv1.ConsensusParams) error {
	bad := func(field, format string, args ...any) error {
		return &ParamError{Field: field, Reason: sprintf(format, args...)}
	}
	if f := p.GetStaking().GetFuelPerUnit(); f < 1 || f > maxFuelParam {
		return bad("staking.fuel_per_unit", "must be in 1..%d (got %d)", maxFuelParam, f)
	}
	c := p.Compute
	if c == nil {
		return bad("compute", "missing")
	}
	for _, r := range []struct {
		field  string
		v, lo  uint64
		hi     uint64
		suffix string
	}{
		{"compute.max_module_bytes", c.MaxModuleBytes, uint64(len(wasmHeader)) + 1, MaxComputeModuleBytes, " bytes"},
		{"compute.max_memory_pages", uint64(c.MaxMemoryPages), 1, 65_536, " pages"},
		{"compute.max_table_elements", uint64(c.MaxTableElements), 0, 10_000_000, ""},
		{"compute.max_call_depth", uint64(c.MaxCallDepth), 1, wasmcheck.EngineCallDepthCeiling, ""},
		{"compute.max_output_bytes", uint64(c.MaxOutputBytes), 0, MaxComputeOutputBytes, " bytes"},
		{"compute.max_fuel", c.MaxFuel, 1, maxFuelParam, ""},
		{"compute.max_input_bytes", c.MaxInputBytes, 0, MaxComputeInputBytes, " bytes"},
	} {
		if r.v < r.lo || r.v > r.hi {
			return bad(r.field, "must be in %d..%d%s (got %d)", r.lo, r.hi, r.suffix, r.v)
		}
	}
	if err := ComputeLimits(c).Validate(); err != nil { // unreachable after the ranges above
		return bad("compute", "%v", err)
	}
	return nil
}

// computeThreshold is the number of matching results that decide a
// compute round: ComputeThreshold(compute_validators).
func computeThreshold(p *lightkeeperv1.ConsensusParams) uint32 {
	return ComputeThreshold(p.ComputeValidators)
}

// ComputeThreshold is the one rule for compute thresholds: two thirds of
// the committee, ⌈2n/3⌉ (Paraloom's 2/3 WASM verification). It is always a
// majority (2·⌈2n/3⌉ > n), so two different results can never both be
// decided. Opening a round uses it on compute_validators; a certificate's
// check uses it on the committee actually drawn (a smaller committee needs
// fewer, and the fixed threshold of a shrunk committee is still above it).
func ComputeThreshold(n uint32) uint32 {
	return (2*n + 2) / 3
}

// computeWorkUnits is ⌈fuel / fuel_per_unit⌉, at least 1 and at most
// MaxComputeWorkUnits.
func (m *Machine) computeWorkUnits(fuel uint64) uint64 {
	per := m.params.Staking.GetFuelPerUnit()
	if per == 0 {
		return 1
	}
	units := fuel / per
	if fuel%per != 0 {
		units++
	}
	return min(max(units, 1), MaxComputeWorkUnits)
}

// registerProgram checks the module itself (wasmcheck.Check under the
// chain's compute limits: the registration policy and the metering, our
// own code with no WebAssembly runtime) and records what the check found.
// Full validation by a runtime is the keepers' (verifier/compute.Check): a
// module that passes wasmcheck but not wazero is registered, and every
// keeper abstains on its rounds identically, so they end TIMEOUT and never
// decide a result.
func (a *applier) registerProgram(tx *lightkeeperv1.RegisterProgramTx) TxResult {
	max := a.m.params.Compute.MaxModuleBytes
	if n := uint64(len(tx.GetModule())); n == 0 || n > max {
		return TxResult{Err: fmt.Errorf("%w: register_program.module: %d bytes, want 1..%d (compute.max_module_bytes)", ErrInvalidRequest, n, max)}
	}
	if !bytes.HasPrefix(tx.Module, wasmHeader) {
		return TxResult{Err: fmt.Errorf("%w: register_program.module: not a WebAssembly binary module (no \\0asm version 1 header)", ErrInvalidRequest)}
	}
	sum := sha256.Sum256(tx.Module)
	id := hex.EncodeToString(sum[:])
	if p, ok := a.m.programs[id]; ok {
		return TxResult{Program: proto.Clone(p).(*lightkeeperv1.Program)}
	}
	v := checkProgram(tx.Module, ComputeLimits(a.m.params.Compute))
	if v.err != nil {
		return TxResult{Err: fmt.Errorf("%w: register_program.module: %v", ErrInvalidRequest, v.err)}
	}
	p := &lightkeeperv1.Program{
		Id:               id,
		Size:             uint64(len(tx.Module)),
		MeteredHash:      bytes.Clone(v.meteredHash[:]),
		MemoryPages:      v.memoryPages,
		MaxMemoryPages:   v.maxMemPages,
		Functions:        uint32(v.functions),
		UsesFloat:        v.usesFloat,
		Imports:          append([]string(nil), v.imports...),
		RegisteredHeight: a.height,
	}
	a.m.programs[id] = p
	full := proto.Clone(p).(*lightkeeperv1.Program)
	full.Module = bytes.Clone(tx.Module)
	a.res.Programs = append(a.res.Programs, full)
	a.emit(ProgramRegistered{ID: id})
	return TxResult{Program: proto.Clone(p).(*lightkeeperv1.Program)}
}

// checkComputeRequest validates a COMPUTE request against the state.
func (m *Machine) checkComputeRequest(c *lightkeeperv1.ComputeRequest) error {
	if err := checkID("compute.program_id", c.ProgramId); err != nil {
		return err
	}
	if _, ok := m.programs[c.ProgramId]; !ok {
		return fmt.Errorf("%w: compute.program_id: %s", ErrUnknownProgram, c.ProgramId)
	}
	p := m.params.Compute
	if n := uint64(len(c.Input)); n > p.MaxInputBytes {
		return fmt.Errorf("%w: compute.input: %d bytes, limit %d (compute.max_input_bytes)", ErrInvalidRequest, n, p.MaxInputBytes)
	}
	if c.Fuel == 0 || c.Fuel > p.MaxFuel {
		return fmt.Errorf("%w: compute.fuel: %d, want 1..%d (compute.max_fuel)", ErrInvalidRequest, c.Fuel, p.MaxFuel)
	}
	return nil
}

// checkComputeVote checks that a vote on a compute round opens its result
// hash: APPROVE and REJECT votes must carry a compute result whose fields
// hash to result_hash (wasmcheck.ResultHashFromOutputHash), APPROVE with trap
// none and REJECT with a trap, and an uploaded output must hash to
// output_hash. It returns "" when the vote is well formed, otherwise what
// is wrong.
func (m *Machine) checkComputeVote(v *lightkeeperv1.Vote) string {
	if v.Kind == lightkeeperv1.VoteKind_VOTE_KIND_ABSTAIN {
		if v.Compute != nil {
			return "vote.compute: set on an ABSTAIN vote"
		}
		return ""
	}
	c := v.Compute
	if c == nil {
		return "vote.compute: missing (APPROVE and REJECT votes on a compute round carry their result)"
	}
	if len(c.OutputHash) != 32 {
		return fmt.Sprintf("vote.compute.output_hash: %d bytes, want 32", len(c.OutputHash))
	}
	if c.Trap > maxTrap {
		return fmt.Sprintf("vote.compute.trap: %d is not a trap kind", c.Trap)
	}
	switch {
	case v.Kind == lightkeeperv1.VoteKind_VOTE_KIND_APPROVE && c.Trap != 0:
		return fmt.Sprintf("vote.kind: APPROVE with trap %s (a trapped run is voted REJECT)", wasmcheck.TrapKind(c.Trap))
	case v.Kind == lightkeeperv1.VoteKind_VOTE_KIND_REJECT && c.Trap == 0:
		return "vote.kind: REJECT without a trap (a clean run is voted APPROVE)"
	}
	if h := wasmcheck.ResultHashFromOutputHash(wasmcheck.TrapKind(c.Trap), c.ExitCode, c.FuelUsed, [32]byte(c.OutputHash)); !bytes.Equal(h[:], v.ResultHash) {
		return "vote.result_hash: does not match vote.compute (want ResultHashFromOutputHash(trap, exit_code, fuel_used, output_hash))"
	}
	if len(c.Output) > 0 {
		if len(c.Output) > int(m.params.Compute.MaxOutputBytes) {
			return fmt.Sprintf("vote.compute.output: %d bytes, limit %d (compute.max_output_bytes)", len(c.Output), m.params.Compute.MaxOutputBytes)
		}
		if sum := sha256.Sum256(c.Output); !bytes.Equal(sum[:], c.OutputHash) {
			return "vote.compute.output: does not hash to vote.compute.output_hash"
		}
	}
	return ""
}

// computeAgreement returns how many of the first n votes of r have the same
// kind and result hash as v.
func computeAgreement(r *lightkeeperv1.Round, v *lightkeeperv1.Vote) uint32 {
	var n uint32
	for _, w := range r.Votes {
		if w.Kind == v.Kind && w.Kind != lightkeeperv1.VoteKind_VOTE_KIND_ABSTAIN && bytes.Equal(w.ResultHash, v.ResultHash) {
			n++
		}
	}
	return n
}

// setComputeResult records the agreed result of a compute round (without
// the output: decide moves an uploaded output from the votes to it).
func setComputeResult(r *lightkeeperv1.Round, agreed *lightkeeperv1.Vote) {
	r.ResultHash = bytes.Clone(agreed.ResultHash)
	res := proto.Clone(agreed.Compute).(*lightkeeperv1.ComputeResult)
	res.Output = nil
	r.Result = res
}

// fillOutput moves an uploaded output from a vote to the round's result if
// it is the agreed result's output, and strips it from the vote either way.
func fillOutput(r *lightkeeperv1.Round, v *lightkeeperv1.Vote) {
	c := v.GetCompute()
	if c == nil || len(c.Output) == 0 {
		return
	}
	if r.Result != nil && len(r.Result.Output) == 0 && bytes.Equal(c.OutputHash, r.Result.OutputHash) {
		r.Result.Output = c.Output
	}
	c.Output = nil
}

// withoutOutput is a copy of a vote without uploaded output bytes (which
// its signature does not cover): what evidence keeps.
func withoutOutput(v *lightkeeperv1.Vote) *lightkeeperv1.Vote {
	c := proto.Clone(v).(*lightkeeperv1.Vote)
	if c.Compute != nil {
		c.Compute.Output = nil
	}
	return c
}

// OutputKnown reports whether a compute result's output bytes are known:
// uploaded, or empty (the hash of nothing needs no upload).
func OutputKnown(c *lightkeeperv1.ComputeResult) bool {
	if c == nil {
		return false
	}
	if len(c.Output) > 0 {
		return true
	}
	empty := sha256.Sum256(nil)
	return bytes.Equal(c.OutputHash, empty[:])
}

// Program returns a registered program's metadata (Module is nil).
func (m *Machine) Program(id string) (*lightkeeperv1.Program, bool) {
	p, ok := m.programs[id]
	if !ok {
		return nil, false
	}
	return proto.Clone(p).(*lightkeeperv1.Program), true
}

// verifyComputeCertificate checks the compute part of a certificate: the
// thresholds are two thirds (ComputeThreshold), every APPROVE or REJECT vote opens its result
// hash, and the outcome is the one result that threshold votes of one kind
// agree on (none for TIMEOUT).
func verifyComputeCertificate(c *lightkeeperv1.Certificate, bad func(string, ...any) error) error {
	size := uint32(len(c.Committee))
	if c.RejectThreshold != c.Threshold || c.Threshold < ComputeThreshold(size) {
		return bad("compute thresholds %d/%d: want one two-thirds threshold (at least %d) of the %d-keeper committee", c.Threshold, c.RejectThreshold, ComputeThreshold(size), size)
	}
	count := map[string]uint32{}
	for i, v := range c.Votes {
		if v.Kind == lightkeeperv1.VoteKind_VOTE_KIND_ABSTAIN {
			continue
		}
		cv := v.GetCompute()
		if cv == nil || len(cv.OutputHash) != 32 || cv.Trap > maxTrap ||
			(v.Kind == lightkeeperv1.VoteKind_VOTE_KIND_APPROVE) != (cv.Trap == 0) {
			return bad("votes[%d]: compute result missing or inconsistent with the vote kind", i)
		}
		if h := wasmcheck.ResultHashFromOutputHash(wasmcheck.TrapKind(cv.Trap), cv.ExitCode, cv.FuelUsed, [32]byte(cv.OutputHash)); !bytes.Equal(h[:], v.ResultHash) {
			return bad("votes[%d]: result_hash does not match its compute result", i)
		}
		count[fmt.Sprintf("%d/%x", v.Kind, v.ResultHash)]++
	}
	reached := ""
	for k, n := range count {
		if n >= c.Threshold {
			reached = k
		}
	}
	switch c.Outcome {
	case lightkeeperv1.Outcome_OUTCOME_TIMEOUT:
		if reached != "" {
			return bad("outcome TIMEOUT, but %d votes agree on one result (threshold %d)", count[reached], c.Threshold)
		}
		if len(c.ResultHash) != 0 || c.Result != nil {
			return bad("outcome TIMEOUT with a result")
		}
		return nil
	}
	kind := lightkeeperv1.VoteKind_VOTE_KIND_APPROVE
	if c.Outcome == lightkeeperv1.Outcome_OUTCOME_REJECTED {
		kind = lightkeeperv1.VoteKind_VOTE_KIND_REJECT
	}
	if want := fmt.Sprintf("%d/%x", kind, c.ResultHash); count[want] < c.Threshold {
		return bad("outcome %s with %d votes for result %x, threshold %d", outcomeName(c.Outcome), count[want], c.ResultHash, c.Threshold)
	}
	r := c.Result
	if r == nil || len(r.OutputHash) != 32 || r.Trap > maxTrap {
		return bad("result: missing or malformed")
	}
	if h := wasmcheck.ResultHashFromOutputHash(wasmcheck.TrapKind(r.Trap), r.ExitCode, r.FuelUsed, [32]byte(r.OutputHash)); !bytes.Equal(h[:], c.ResultHash) {
		return bad("result does not hash to result_hash")
	}
	return nil
}
