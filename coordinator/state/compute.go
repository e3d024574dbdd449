package state

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"

	lightkeeperv1 "github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1"
	"github.com/lightkeeper-net/lightkeeper/protocol"
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
// kind carry (protocol.ComputeThreshold): APPROVED or REJECTED with that result.
// Since the threshold is more than half the committee, two results can
// never both reach it.

// Bounds of what the machine accepts in compute rounds.
const (
	// MaxComputeWorkUnits caps the work units one compute round is worth
	// (so fees and capacities of absurd fuel limits stay in range).
	MaxComputeWorkUnits = 1_000_000
	// maxTrap is the largest trap kind a result may carry.
	maxTrap = uint32(protocol.MaxComputeTrap)
)

// wasmHeader starts every WebAssembly 1.0/2.0 binary module.
var wasmHeader = []byte("\x00asm\x01\x00\x00\x00")

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
	v := checkProgram(tx.Module, wasmcheck.Limits(protocol.ComputeLimitsOf(a.m.params.Compute)))
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
	if err := protocol.CheckID("compute.program_id", c.ProgramId); err != nil {
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
// hash to result_hash (protocol.ComputeResultHash), APPROVE with trap
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
	if h := protocol.ComputeResultHash(c.Trap, c.ExitCode, c.FuelUsed, [32]byte(c.OutputHash)); !bytes.Equal(h[:], v.ResultHash) {
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
