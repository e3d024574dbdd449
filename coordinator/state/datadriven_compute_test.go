package state

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"

	lightkeeperv1 "github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1"
	"github.com/lightkeeper-net/lightkeeper/protocol"
	"github.com/lightkeeper-net/lightkeeper/verifier/compute"
)

// The golden commands of COMPUTE rounds (testdata/compute_*.txt).
//
//	genesis ... [cv=N] [fpu=FUEL] [max_fuel=N] [max_input=N] [max_output=N] [max_module=N]
//	                                 compute_validators, staking.fuel_per_unit, [compute] limits
//	program name=P [size=N] [header=bad] [metered=short]
//	                                 queue RegisterProgramTx of a fake module
//	compute name=R [program=P] [input=TEXT] [fuel=N] [nonce=N]
//	                                 queue a COMPUTE submission
//	cvote R <seats> [out=TEXT] [exit=N] [fuel=N] [trap=NAME] [upload] [abstain]
//	      [mangle=hash|kind|nocompute|output|abstaincompute]
//	                                 votes carrying the result (out, exit,
//	                                 fuel, trap); APPROVE without a trap,
//	                                 REJECT with one; upload attaches the
//	                                 output bytes (what the leader does)
//
// `round R` prints a compute round's agreed result and each vote's result
// hash (first 4 bytes).

// fakeModule is a valid program named name: the smallest module the
// registration policy accepts (one memory page, a _start that returns, both
// exported) with a custom section carrying the name, so that names give
// distinct ids, padded to size bytes when size is larger.
func fakeModule(name string, size int) []byte {
	base := []byte("\x00asm\x01\x00\x00\x00" +
		"\x01\x04\x01\x60\x00\x00" + // type 0: [] -> []
		"\x03\x02\x01\x00" + // function 0: type 0
		"\x05\x03\x01\x00\x01" + // memory 0: 1 page
		"\x07\x13\x02\x06_start\x00\x00\x06memory\x02\x00" +
		"\x0a\x04\x01\x02\x00\x0b") // body: end
	custom := func(pad int) []byte {
		payload := append([]byte{byte(len("name"))}, "name"...)
		payload = append(payload, "program "+name...)
		payload = append(payload, make([]byte, pad)...)
		return append(append(append(bytes.Clone(base), 0), uleb(uint32(len(payload)))...), payload...)
	}
	b := custom(0)
	for pad := size - len(b); pad > 0 && len(b) != size; pad-- {
		b = custom(pad)
	}
	return b
}

func uleb(v uint32) []byte {
	var b []byte
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if v == 0 {
			return append(b, c)
		}
		b = append(b, c|0x80)
	}
}

// programTx registers module: the machine checks it and records what it
// finds, so the transaction carries nothing else.
func programTx(module []byte) *lightkeeperv1.Transaction {
	return &lightkeeperv1.Transaction{Kind: &lightkeeperv1.Transaction_RegisterProgram{RegisterProgram: &lightkeeperv1.RegisterProgramTx{Module: module}}}
}

func programID(module []byte) string {
	s := sha256.Sum256(module)
	return hex.EncodeToString(s[:])
}

func computeRequest(program, input string, fuel uint64, nonce string) *lightkeeperv1.RoundRequest {
	return &lightkeeperv1.RoundRequest{
		Payload:     &lightkeeperv1.RoundRequest_Compute{Compute: &lightkeeperv1.ComputeRequest{ProgramId: program, Input: []byte(input), Fuel: fuel}},
		ClientNonce: nonce,
	}
}

// computeVoteTx is keeper i's signed vote with the given result.
func computeVoteTx(chain, roundID string, i int, res compute.Result, upload bool) *lightkeeperv1.Transaction {
	kind := approve
	if res.Trap != compute.TrapNone {
		kind = reject
	}
	hash := compute.ResultHash(res)
	tx := voteTxHash(chain, roundID, i, kind, hash)
	oh := compute.OutputHash(res.Output)
	c := &lightkeeperv1.ComputeResult{OutputHash: oh[:], ExitCode: res.ExitCode, FuelUsed: res.FuelUsed, Trap: uint32(res.Trap)}
	if upload {
		c.Output = res.Output
	}
	v := tx.GetCastVote().Vote
	v.Compute = c
	if kind == reject {
		v.Reason = lightkeeperv1.RejectReason_REJECT_REASON_COMPUTE_TRAP
	}
	return tx
}

func parseTrap(s string) compute.TrapKind {
	for t := compute.TrapNone; t <= compute.TrapIndirectCall; t++ {
		if t.String() == s {
			return t
		}
	}
	panic("unknown trap " + s)
}

func (g *golden) computeGenesis(a map[string]string, p *lightkeeperv1.ConsensusParams) {
	for k, dst := range map[string]*uint64{"fpu": &p.Staking.FuelPerUnit, "max_fuel": &p.Compute.MaxFuel,
		"max_input": &p.Compute.MaxInputBytes, "max_module": &p.Compute.MaxModuleBytes} {
		if _, ok := a[k]; ok {
			*dst = g.num(a, k)
		}
	}
	for k, dst := range map[string]*uint32{"cv": &p.ComputeValidators, "max_output": &p.Compute.MaxOutputBytes} {
		if _, ok := a[k]; ok {
			*dst = uint32(g.num(a, k))
		}
	}
}

func (g *golden) runCompute(f []string, a map[string]string) (string, bool) {
	switch f[0] {
	case "program":
		name := a["name"]
		size := 0
		if _, ok := a["size"]; ok {
			size = int(g.num(a, "size"))
		}
		mod := fakeModule(name, size)
		if a["header"] == "bad" {
			mod[0] = 'X'
		}
		g.enqueue(programTx(mod), "program "+name)
		g.vks[name] = programID(mod) // programs share the name table of keys
		g.name(programID(mod), name)
		return "", true
	case "compute":
		name := a["name"]
		prog := g.vks[def(a["program"], "p1")]
		if prog == "" {
			prog = programID(fakeModule(a["program"], 0))
		}
		fuel := uint64(1000)
		if _, ok := a["fuel"]; ok {
			fuel = g.num(a, "fuel")
		}
		req := computeRequest(prog, a["input"], fuel, def(a["nonce"], name))
		id := protocol.RoundID(testChain, req)
		if _, dup := g.rounds[name]; !dup {
			g.rounds[name] = id
			g.name(id, name)
		}
		g.enqueue(submitTx(req), "compute "+name)
		return "", true
	case "cvote":
		return g.doComputeVote(f, a), true
	}
	return "", false
}

func (g *golden) doComputeVote(f []string, a map[string]string) string {
	id := g.rounds[f[1]]
	r := g.last[id]
	if r == nil {
		return g.fail("round %s has no committee yet", f[1])
	}
	res := compute.Result{Output: []byte(a["out"]), Trap: compute.TrapNone, FuelUsed: 100}
	if _, ok := a["fuel"]; ok {
		res.FuelUsed = g.num(a, "fuel")
	}
	if _, ok := a["exit"]; ok {
		res.ExitCode = uint32(g.num(a, "exit"))
	}
	if t, ok := a["trap"]; ok {
		res.Trap = parseTrap(t)
	}
	_, upload := a["upload"]
	for _, s := range g.indexes(f[2], len(r.Committee)) {
		if s >= len(r.Committee) {
			return g.fail("seat %d of %d", s, len(r.Committee))
		}
		k, _ := strconv.Atoi(strings.TrimPrefix(g.names[r.Committee[s]], "k"))
		var tx *lightkeeperv1.Transaction
		label := fmt.Sprintf("cvote %s k%d", f[1], k)
		if _, ab := a["abstain"]; ab {
			tx = voteTxHash(testChain, id, k, abstain, [32]byte{})
			tx.GetCastVote().Vote.Reason = lightkeeperv1.RejectReason_REJECT_REASON_LOCAL_LIMIT
			label += " abstain"
		} else {
			tx = computeVoteTx(testChain, id, k, res, upload)
			label += fmt.Sprintf(" %s out=%q trap=%s", kindName(tx.GetCastVote().Vote.Kind), res.Output, res.Trap)
			if upload {
				label += " upload"
			}
		}
		v := tx.GetCastVote().Vote
		rid, _ := protocol.ParseID(id)
		resign := func() {
			v.Signature = protocol.SignVote(keeperKey(k), testChain, rid, protocol.VoteKind(v.Kind), [32]byte(v.ResultHash))
		}
		switch a["mangle"] {
		case "":
		case "hash": // signed, but not the hash of its compute result
			v.ResultHash[0] ^= 1
			resign()
		case "kind": // APPROVE with a trap or REJECT without one, signed
			v.Kind = flip(v.Kind)
			resign()
		case "nocompute":
			v.Compute = nil
		case "output": // an upload that is not the output it claims
			v.Compute.Output = append([]byte("forged "), res.Output...)
		case "abstaincompute":
			v.Compute = &lightkeeperv1.ComputeResult{OutputHash: make([]byte, 32)}
		default:
			return g.fail("mangle=%s", a["mangle"])
		}
		if m := a["mangle"]; m != "" {
			label += " mangle=" + m
		}
		g.enqueue(tx, label)
	}
	return ""
}

// computeRoundLines prints a compute round's result for `round`.
func (g *golden) computeRoundLines(b *strings.Builder, r *lightkeeperv1.Round) {
	if r.Kind != lightkeeperv1.RoundKind_ROUND_KIND_COMPUTE {
		return
	}
	if r.Result == nil {
		b.WriteString("result: none\n")
		return
	}
	out := "(not uploaded)"
	if OutputKnown(r.Result) {
		out = fmt.Sprintf("%q", r.Result.Output)
	}
	fmt.Fprintf(b, "result: hash=%x trap=%s exit=%d fuel=%d output=%s work_units=%d\n", r.ResultHash[:4], compute.TrapKind(r.Result.Trap),
		r.Result.ExitCode, r.Result.FuelUsed, out, g.m.computeWorkUnits(r.Result.FuelUsed))
}

// voteLabel is how `round` shows one vote.
func voteLabel(v *lightkeeperv1.Vote) string {
	s := kindName(v.Kind)
	if v.Compute != nil {
		s += fmt.Sprintf("(%x)", v.ResultHash[:4])
	}
	return s
}
