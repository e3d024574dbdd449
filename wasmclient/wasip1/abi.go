package main

import (
	"crypto/ed25519"
	"encoding/binary"
	"fmt"

	"github.com/lightkeeper-net/lightkeeper/protocol"
	"github.com/lightkeeper-net/lightkeeper/verifier"
)

// The byte ABI of the module; ../ABI.md is its specification and the host
// in ../host its one client. This file has no build constraint so the
// framing logic is unit-tested natively; exports_wasip1.go only wraps it.

// abiVersion is returned by lk_abi_version. Bump it on any incompatible
// change to a layout below; the host refuses a module whose version it
// does not speak rather than misreading its buffers.
const abiVersion = 1

// Status codes returned by the operations. On anything but statusOK the
// output buffer holds a UTF-8 message.
const (
	statusOK = 0
	// statusBadInput: the input does not follow the operation's layout
	// (too short, lengths that do not add up, a field out of range). A
	// host bug, never a verdict on a proof.
	statusBadInput = 1
	// statusRefused: the verifier refused to sign these fields (chain id
	// longer than 65535 bytes, vote kind not 1..3).
	statusRefused = 2
	// statusInternal: a panic inside the module, recovered. A bug.
	statusInternal = 3
	// statusProgramRefused: compute.Check refused the compute program
	// under the job's limits (or the limits are unusable). Only
	// lk_compute returns it.
	statusProgramRefused = 4
	// statusAbstain: the compute job ran to no result (compute.Run
	// returned an error wrapping compute.ErrAbstain: a local limit, an
	// engine failure, fuel above the limit). Only lk_compute returns it.
	statusAbstain = 5
)

// maxInput bounds lk_input. The verifier's own default limits total a
// little over 1 MiB per job, a compute job's module and input about 9 MiB;
// 64 MiB leaves room for raised limits while keeping a hostile or buggy
// caller from growing the instance's memory without bound.
const maxInput = 64 << 20

// Fixed header sizes of each operation's input.
const (
	verifyHeader   = 36
	signVoteHeader = 4 + ed25519.PrivateKeySize + 32 + 32 // vote, key, round id, result hash
	sessionHeader  = 8 + ed25519.PrivateKeySize           // unix milli, key
	registerHeader = ed25519.PrivateKeySize               // key
)

// module is the state of one instance: an input buffer the host writes
// into and an output buffer it reads from. Both are owned by the module
// and reused from call to call, so the host never allocates in, frees or
// passes pointers into the module's memory: the only addresses it uses
// are the ones lk_input and lk_output_ptr hand out, and every length it
// passes is checked against them here. An instance is driven by one
// caller at a time (the host's pool guarantees it), so no locking.
type module struct {
	in  []byte
	out []byte
	// cs is the compute engine and checked programs, made by the first
	// lk_compute call (compute.go).
	cs *computeState
	// keys holds the verifying keys this instance decoded.
	keys *verifier.KeyCache
}

func newModule() *module {
	// Non-zero capacities so the buffers always have an address, even
	// before the first call.
	return &module{in: make([]byte, 64<<10), out: make([]byte, 0, 4<<10),
		keys: verifier.NewKeyCache(verifier.DefaultKeyCacheSize)}
}

// input returns the input buffer grown to at least n bytes, or nil when n
// exceeds maxInput. Growing drops the old contents: the host writes a
// whole input after each lk_input call.
func (m *module) input(n uint32) []byte {
	if n > maxInput {
		return nil
	}
	if int(n) > len(m.in) {
		m.in = make([]byte, max(int(n), 2*len(m.in)))
	}
	return m.in
}

// fail sets the output to a message and returns the status.
func (m *module) fail(status int32, format string, args ...any) int32 {
	m.out = fmt.Appendf(m.out[:0], format, args...)
	return status
}

// guard turns a panic in an operation into statusInternal, so a bug shows
// up as an error the host can report, not as a trap that kills the
// instance.
func (m *module) guard(status *int32) {
	if r := recover(); r != nil {
		*status = m.fail(statusInternal, "lightkeeper module: internal error: %v", r)
	}
}

// payload returns the first n bytes of the input buffer, or false when n
// is out of range.
func (m *module) payload(n uint32, header int) ([]byte, bool) {
	if int64(n) > int64(len(m.in)) || int(n) < header {
		return nil, false
	}
	return m.in[:n], true
}

// verify runs verifier.VerifyProof on the job in the first n input bytes.
//
// Input, little-endian u32 fields:
//
//	0   scheme                     (verifier.Scheme: 1 groth16, 2 plonk)
//	4   curve                      (verifier.Curve: 1 bn254, 2 bls12_381)
//	8   max verifying key bytes    (protocol.Limits; 0 = the verifier's default)
//	12  max proof bytes
//	16  max public input bytes
//	20  max public inputs
//	24  verifying key length  K
//	28  proof length          P
//	32  public inputs length  I
//	36  verifying key (K) || proof (P) || public inputs (I); n = 36+K+P+I exactly
//
// Output on statusOK: u32 vote, u32 reason, then the detail (UTF-8).
// Scheme and curve are passed through unchecked: an unknown value is the
// verifier's to reject (ReasonUnsupported), exactly as natively.
func (m *module) verify(n uint32) (status int32) {
	defer m.guard(&status)
	in, ok := m.payload(n, verifyHeader)
	if !ok {
		return m.fail(statusBadInput, "verify: input of %d bytes, want at least %d within the %d-byte buffer", n, verifyHeader, len(m.in))
	}
	job, lim, size, err := readJob(in)
	if err != nil {
		return m.fail(statusBadInput, "verify: %v", err)
	}
	if size != len(in) {
		return m.fail(statusBadInput, "verify: header says %d payload bytes, input has %d", size-verifyHeader, len(in)-verifyHeader)
	}
	v := m.keys.VerifyProof(job, lim)
	out := binary.LittleEndian.AppendUint32(m.out[:0], uint32(v.Vote))
	out = binary.LittleEndian.AppendUint32(out, uint32(v.Reason))
	m.out = append(out, v.Detail...)
	return statusOK
}

// readJob reads one job in lk_verify's layout at the start of in and
// returns it with its limits and its encoded size; the job's byte strings
// alias in.
func readJob(in []byte) (verifier.ProofJob, protocol.Limits, int, error) {
	if len(in) < verifyHeader {
		return verifier.ProofJob{}, protocol.Limits{}, 0, fmt.Errorf("%d bytes left, a job header takes %d", len(in), verifyHeader)
	}
	u32 := func(off int) uint32 { return binary.LittleEndian.Uint32(in[off:]) }
	k, p, i := uint64(u32(24)), uint64(u32(28)), uint64(u32(32))
	end := verifyHeader + k + p + i
	if end > uint64(len(in)) {
		return verifier.ProofJob{}, protocol.Limits{}, 0, fmt.Errorf("header says %d+%d+%d payload bytes, %d are left", k, p, i, len(in)-verifyHeader)
	}
	// int is 64 bits on wasm, so a limit never wraps to a negative value
	// (which the verifier would read as "default").
	limit := func(off int) int { return int(u32(off)) }
	job := verifier.ProofJob{
		// The enums are int32 on both sides; the host sends their two's
		// complement, so the round trip is exact even for negative values.
		Scheme:       verifier.Scheme(int32(u32(0))),
		Curve:        verifier.Curve(int32(u32(4))),
		VerifyingKey: in[verifyHeader : verifyHeader+k : verifyHeader+k],
		Proof:        in[verifyHeader+k : verifyHeader+k+p : verifyHeader+k+p],
		PublicInputs: in[verifyHeader+k+p : end : end],
	}
	lim := protocol.Limits{
		MaxVerifyingKeyBytes: limit(8),
		MaxProofBytes:        limit(12),
		MaxPublicInputBytes:  limit(16),
		MaxPublicInputs:      limit(20),
	}
	return job, lim, int(end), nil
}

// maxBatch bounds the jobs of one lk_verify_batch call.
const maxBatch = 1024

// verifyBatch runs verifier.KeyCache.VerifyBatch on the jobs in the first
// n input bytes: u32 count, then count jobs one after the other, each in
// lk_verify's layout (header and payload). All jobs must carry the same
// limits. Output on statusOK: for each job, u32 vote, u32 reason, u32
// detail length, detail.
func (m *module) verifyBatch(n uint32) (status int32) {
	defer m.guard(&status)
	in, ok := m.payload(n, 4)
	if !ok {
		return m.fail(statusBadInput, "verify batch: input of %d bytes, want at least 4 within the %d-byte buffer", n, len(m.in))
	}
	count := binary.LittleEndian.Uint32(in)
	if count > maxBatch {
		return m.fail(statusBadInput, "verify batch: %d jobs, at most %d", count, maxBatch)
	}
	jobs := make([]verifier.ProofJob, count)
	var lim protocol.Limits
	rest := in[4:]
	for j := range jobs {
		job, l, size, err := readJob(rest)
		if err != nil {
			return m.fail(statusBadInput, "verify batch: job %d: %v", j, err)
		}
		if j > 0 && l != lim {
			return m.fail(statusBadInput, "verify batch: job %d has other limits than job 0", j)
		}
		jobs[j], lim, rest = job, l, rest[size:]
	}
	if len(rest) != 0 {
		return m.fail(statusBadInput, "verify batch: %d bytes after the last job", len(rest))
	}
	out := m.out[:0]
	for _, v := range m.keys.VerifyBatch(jobs, lim) {
		out = binary.LittleEndian.AppendUint32(out, uint32(v.Vote))
		out = binary.LittleEndian.AppendUint32(out, uint32(v.Reason))
		out = binary.LittleEndian.AppendUint32(out, uint32(len(v.Detail)))
		out = append(out, v.Detail...)
	}
	m.out = out
	return statusOK
}

// key copies the private key at in[off:] and then zeroes it in the input
// buffer, so a keeper's key lives in module memory only for the length of
// the call that uses it.
func key(in []byte, off int) ed25519.PrivateKey {
	k := make(ed25519.PrivateKey, ed25519.PrivateKeySize)
	copy(k, in[off:])
	clear(in[off : off+ed25519.PrivateKeySize])
	return k
}

// signed sets the output to sig, or reports why there is none.
func (m *module) signed(op string, sig []byte) int32 {
	if sig == nil {
		return m.fail(statusRefused, "%s: the verifier refused to sign these fields", op)
	}
	m.out = append(m.out[:0], sig...)
	return statusOK
}

// signVote runs protocol.SignVote.
//
// Input: u32 vote kind (1 approve, 2 reject, 3 abstain), private key (64),
// round id (32), result hash (32), chain id (the rest, UTF-8).
// Output on statusOK: the 64-byte signature.
func (m *module) signVote(n uint32) (status int32) {
	defer m.guard(&status)
	in, ok := m.payload(n, signVoteHeader)
	if !ok {
		return m.fail(statusBadInput, "sign vote: input of %d bytes, want at least %d", n, signVoteHeader)
	}
	vote := protocol.VoteKind(int32(binary.LittleEndian.Uint32(in)))
	k := key(in, 4)
	defer clear(k)
	round := [32]byte(in[68:100])
	result := [32]byte(in[100:132])
	return m.signed("sign vote", protocol.SignVote(k, string(in[signVoteHeader:]), round, vote, result))
}

// signSession runs protocol.SignSession.
//
// Input: i64 unix milliseconds (little-endian), private key (64), chain id
// (the rest). Output on statusOK: the 64-byte signature.
func (m *module) signSession(n uint32) (status int32) {
	defer m.guard(&status)
	in, ok := m.payload(n, sessionHeader)
	if !ok {
		return m.fail(statusBadInput, "sign session: input of %d bytes, want at least %d", n, sessionHeader)
	}
	ms := int64(binary.LittleEndian.Uint64(in))
	k := key(in, 8)
	defer clear(k)
	return m.signed("sign session", protocol.SignSession(k, string(in[sessionHeader:]), ms))
}

// signRegistration runs protocol.SignRegistration.
//
// Input: private key (64), chain id (the rest). Output on statusOK: the
// 64-byte signature.
func (m *module) signRegistration(n uint32) (status int32) {
	defer m.guard(&status)
	in, ok := m.payload(n, registerHeader)
	if !ok {
		return m.fail(statusBadInput, "sign registration: input of %d bytes, want at least %d", n, registerHeader)
	}
	k := key(in, 0)
	defer clear(k)
	return m.signed("sign registration", protocol.SignRegistration(k, string(in[registerHeader:])))
}
