package wasmhost

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"

	"github.com/lightkeeper-net/lightkeeper/protocol"
	"github.com/lightkeeper-net/lightkeeper/verifier"
)

// ABIVersion is the version of the byte ABI (../ABI.md) this host speaks;
// a module reporting another one is refused at load.
const ABIVersion = 1

// MaxInput is the largest input the module accepts in one call (its
// lk_input refuses more). A job whose key, proof and public inputs exceed
// it is not sent: Verify returns ErrInputTooLarge.
const MaxInput = 64 << 20

// Status codes of the module's operations (ABI.md, "Status codes").
const (
	StatusOK       = 0
	StatusBadInput = 1 // the input did not follow the operation's layout: a host bug
	StatusRefused  = 2 // the verifier refused to sign the fields
	StatusInternal = 3 // a panic inside the module, recovered: a module bug
	// StatusProgramRefused: compute.Check refused the compute program
	// (lk_compute only).
	StatusProgramRefused = 4
	// StatusAbstain: the compute job ran to no result, compute.ErrAbstain
	// inside the module (lk_compute only).
	StatusAbstain = 5
)

// ErrInputTooLarge is returned for a call whose input exceeds MaxInput.
var ErrInputTooLarge = errors.New("wasm keeper module: input exceeds the module's buffer limit")

// StatusError is an operation that ran and failed with a status code.
type StatusError struct {
	Op      string
	Status  int32
	Message string // the module's explanation
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("wasm keeper module: %s: status %d: %s", e.Op, e.Status, e.Message)
}

// exports the host needs; a module missing one is not a keeper module.
var exports = []string{
	"lk_abi_version", "lk_input", "lk_output_ptr", "lk_output_len",
	"lk_verify", "lk_sign_vote", "lk_sign_session", "lk_sign_registration",
	"lk_compute",
}

// Host runs the keeper module under wazero: one runtime and one compiled
// module, and a pool of instances of it. It is safe for concurrent use:
// each call takes an instance of its own from the pool, so no two calls
// ever share an instance's memory.
type Host struct {
	cfg         Config
	rt          wazero.Runtime
	cache       wazero.CompilationCache
	compiled    wazero.CompiledModule
	compileTime time.Duration

	// idle holds instances ready for use; tokens holds one entry per live
	// instance (idle or busy), so its capacity bounds the instance count.
	idle   chan *instance
	tokens chan struct{}

	created, discarded atomic.Int64
	closeOnce          sync.Once
	closeErr           error
}

// Load reads a module file and returns a host for it; see New.
func Load(ctx context.Context, path string, cfg Config) (*Host, error) {
	wasm, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("wasm keeper module: %w", err)
	}
	h, err := New(ctx, wasm, cfg)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return h, nil
}

// New compiles the module (or loads its machine code from the
// compilation cache), checks that it exports the keeper ABI in the version
// this host speaks, and keeps that first instance in the pool. Close
// releases everything.
func New(ctx context.Context, wasm []byte, cfg Config) (*Host, error) {
	cfg = cfg.normalized()
	h := &Host{
		cfg:    cfg,
		idle:   make(chan *instance, cfg.maxInstances),
		tokens: make(chan struct{}, cfg.maxInstances),
	}
	if cfg.cacheDir != "" {
		c, err := wazero.NewCompilationCacheWithDir(cfg.cacheDir)
		if err != nil {
			return nil, fmt.Errorf("wasm compilation cache %s: %w", cfg.cacheDir, err)
		}
		h.cache = c
	} else {
		h.cache = wazero.NewCompilationCache()
	}
	rc := wazero.NewRuntimeConfig()
	if cfg.interpreter {
		rc = wazero.NewRuntimeConfigInterpreter()
	}
	h.rt = wazero.NewRuntimeWithConfig(ctx, rc.
		WithCompilationCache(h.cache).
		WithMemoryLimitPages(cfg.memoryLimitPages))
	fail := func(err error) (*Host, error) {
		h.Close(context.WithoutCancel(ctx))
		return nil, err
	}
	// The Go runtime in the module needs WASI for its clock, random seed
	// and stderr; it opens no files and no sockets, and is given none.
	if _, err := wasi_snapshot_preview1.Instantiate(ctx, h.rt); err != nil {
		return fail(fmt.Errorf("wasi: %w", err))
	}
	start := time.Now()
	compiled, err := h.rt.CompileModule(ctx, wasm)
	if err != nil {
		return fail(fmt.Errorf("compile wasm keeper module: %w", err))
	}
	h.compiled, h.compileTime = compiled, time.Since(start)
	defs := compiled.ExportedFunctions()
	for _, name := range exports {
		if _, ok := defs[name]; !ok {
			return fail(fmt.Errorf("not a lightkeeper keeper module: no export %q (build it with -buildmode=c-shared from wasmclient/wasip1)", name))
		}
	}
	if _, ok := defs["_initialize"]; !ok {
		return fail(errors.New("not a reactor module: no _initialize export (build it with -buildmode=c-shared)"))
	}
	// Instantiate one now: a module that cannot start fails here, with its
	// reason, rather than on the first task.
	h.tokens <- struct{}{}
	in, err := h.instantiate(ctx)
	if err != nil {
		return fail(err)
	}
	v, err := in.call1(ctx, in.fn.version)
	if err == nil && v != ABIVersion {
		err = fmt.Errorf("wasm keeper module speaks ABI version %d, this host speaks %d", v, ABIVersion)
	}
	if err != nil {
		return fail(err)
	}
	h.idle <- in
	return h, nil
}

// Stats is a snapshot of the host's pool.
type Stats struct {
	// CompileTime is how long CompileModule took: a full compile, or
	// loading machine code from the compilation cache.
	CompileTime time.Duration
	// Instances is how many instances are alive, Idle how many of them
	// wait in the pool.
	Instances, Idle int
	// Created and Discarded count instances started, and dropped after a
	// failure (a trap, an exit or a memory limit).
	Created, Discarded int64
}

// Stats returns a snapshot of the pool.
func (h *Host) Stats() Stats {
	return Stats{
		CompileTime: h.compileTime,
		Instances:   len(h.tokens),
		Idle:        len(h.idle),
		Created:     h.created.Load(),
		Discarded:   h.discarded.Load(),
	}
}

// Close closes every instance, the compiled module, the runtime and the
// compilation cache. Calls still running fail with an error.
func (h *Host) Close(ctx context.Context) error {
	h.closeOnce.Do(func() {
		h.closeErr = errors.Join(h.rt.Close(ctx), h.cache.Close(ctx))
	})
	return h.closeErr
}

// Verify checks a proof job inside the module with the configured limits
// and returns the verifier's verdict. An error means the job could not be
// checked (the module failed, the input was too large for it, ctx ended
// while waiting for an instance): it says nothing about the proof.
func (h *Host) Verify(ctx context.Context, job verifier.ProofJob) (verifier.Verdict, error) {
	k, p, i := len(job.VerifyingKey), len(job.Proof), len(job.PublicInputs)
	n := int64(verifyHeader) + int64(k) + int64(p) + int64(i)
	if n > MaxInput {
		return verifier.Verdict{}, ErrInputTooLarge
	}
	out, err := h.run(ctx, "verify", func(in *instance) api.Function { return in.fn.verify }, int(n), func(b []byte) {
		h.putJob(b, job)
	})
	if err != nil {
		return verifier.Verdict{}, err
	}
	if len(out) < 8 {
		return verifier.Verdict{}, fmt.Errorf("wasm keeper module: verify returned %d bytes, want at least 8", len(out))
	}
	v := verifier.Verdict{
		Vote:   protocol.VoteKind(int32(binary.LittleEndian.Uint32(out))),
		Reason: verifier.RejectReason(int32(binary.LittleEndian.Uint32(out[4:]))),
		Detail: string(out[8:]),
	}
	if !v.Vote.Valid() {
		return verifier.Verdict{}, fmt.Errorf("wasm keeper module: verify returned vote kind %d", v.Vote)
	}
	return v, nil
}

// putJob writes job in lk_verify's layout at the start of b and returns
// its size.
func (h *Host) putJob(b []byte, job verifier.ProofJob) int {
	lim := h.cfg.limits
	le := binary.LittleEndian
	le.PutUint32(b[0:], uint32(job.Scheme)) // two's complement: the module reads int32
	le.PutUint32(b[4:], uint32(job.Curve))
	le.PutUint32(b[8:], limit(lim.MaxVerifyingKeyBytes))
	le.PutUint32(b[12:], limit(lim.MaxProofBytes))
	le.PutUint32(b[16:], limit(lim.MaxPublicInputBytes))
	le.PutUint32(b[20:], limit(lim.MaxPublicInputs))
	le.PutUint32(b[24:], uint32(len(job.VerifyingKey)))
	le.PutUint32(b[28:], uint32(len(job.Proof)))
	le.PutUint32(b[32:], uint32(len(job.PublicInputs)))
	o := verifyHeader
	o += copy(b[o:], job.VerifyingKey)
	o += copy(b[o:], job.Proof)
	o += copy(b[o:], job.PublicInputs)
	return o
}

// maxBatch is the module's limit on the jobs of one lk_verify_batch call.
const maxBatch = 1024

// VerifyBatch checks proof jobs inside one instance with lk_verify_batch
// and returns Verify's verdict for each, in order; jobs under the same
// Groth16 key are verified together. More jobs than the module takes in
// one call, or more bytes than its buffer, go in several calls; a module
// without lk_verify_batch (built before it) checks them one by one.
func (h *Host) VerifyBatch(ctx context.Context, jobs []verifier.ProofJob) ([]verifier.Verdict, error) {
	out := make([]verifier.Verdict, 0, len(jobs))
	if _, ok := h.compiled.ExportedFunctions()["lk_verify_batch"]; !ok {
		for _, job := range jobs {
			v, err := h.Verify(ctx, job)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		return out, nil
	}
	for len(jobs) > 0 {
		n, size := 0, int64(4)
		for n < len(jobs) && n < maxBatch {
			s := int64(verifyHeader) + int64(len(jobs[n].VerifyingKey)) + int64(len(jobs[n].Proof)) + int64(len(jobs[n].PublicInputs))
			if size+s > MaxInput {
				break
			}
			size += s
			n++
		}
		if n == 0 {
			return nil, ErrInputTooLarge
		}
		vs, err := h.verifyBatch(ctx, jobs[:n], int(size))
		if err != nil {
			return nil, err
		}
		out, jobs = append(out, vs...), jobs[n:]
	}
	return out, nil
}

func (h *Host) verifyBatch(ctx context.Context, jobs []verifier.ProofJob, size int) ([]verifier.Verdict, error) {
	out, err := h.run(ctx, "verify batch", func(in *instance) api.Function { return in.fn.verifyBatch }, size, func(b []byte) {
		binary.LittleEndian.PutUint32(b, uint32(len(jobs)))
		o := 4
		for _, job := range jobs {
			o += h.putJob(b[o:], job)
		}
	})
	if err != nil {
		return nil, err
	}
	vs := make([]verifier.Verdict, len(jobs))
	le := binary.LittleEndian
	for i := range vs {
		if len(out) < 12 || uint64(len(out)-12) < uint64(le.Uint32(out[8:])) {
			return nil, fmt.Errorf("wasm keeper module: verify batch output ends inside verdict %d of %d", i, len(jobs))
		}
		d := 12 + int(le.Uint32(out[8:]))
		vs[i] = verifier.Verdict{
			Vote:   protocol.VoteKind(int32(le.Uint32(out))),
			Reason: verifier.RejectReason(int32(le.Uint32(out[4:]))),
			Detail: string(out[12:d]),
		}
		if !vs[i].Vote.Valid() {
			return nil, fmt.Errorf("wasm keeper module: verify batch returned vote kind %d", vs[i].Vote)
		}
		out = out[d:]
	}
	if len(out) != 0 {
		return nil, fmt.Errorf("wasm keeper module: verify batch returned %d bytes after the last verdict", len(out))
	}
	return vs, nil
}

// verifyHeader is the size of lk_verify's fixed header (ABI.md).
const verifyHeader = 36

// limit encodes a verifier limit: zero or negative (the default) as 0,
// anything beyond 32 bits as the largest 32-bit value.
func limit(v int) uint32 {
	if v <= 0 {
		return 0
	}
	return uint32(min(int64(v), math.MaxUint32))
}

// SignVote signs a vote inside the module with protocol.SignVote. key is
// passed with each call and wiped from the module's memory before the call
// returns (ABI.md explains why it is not set once per instance).
func (h *Host) SignVote(ctx context.Context, key ed25519.PrivateKey, chainID string, roundID [32]byte, vote protocol.VoteKind, resultHash [32]byte) ([]byte, error) {
	if err := checkKey(key); err != nil {
		return nil, err
	}
	n := 4 + ed25519.PrivateKeySize + 64 + len(chainID)
	return h.sign(ctx, "sign vote", func(in *instance) api.Function { return in.fn.signVote }, n, func(b []byte) {
		binary.LittleEndian.PutUint32(b, uint32(vote))
		copy(b[4:], key)
		copy(b[68:], roundID[:])
		copy(b[100:], resultHash[:])
		copy(b[132:], chainID)
	})
}

// SignSession signs a session opening at unixMilli with
// protocol.SignSession, inside the module.
func (h *Host) SignSession(ctx context.Context, key ed25519.PrivateKey, chainID string, unixMilli int64) ([]byte, error) {
	if err := checkKey(key); err != nil {
		return nil, err
	}
	n := 8 + ed25519.PrivateKeySize + len(chainID)
	return h.sign(ctx, "sign session", func(in *instance) api.Function { return in.fn.signSession }, n, func(b []byte) {
		binary.LittleEndian.PutUint64(b, uint64(unixMilli))
		copy(b[8:], key)
		copy(b[72:], chainID)
	})
}

// SignRegistration signs a registration with protocol.SignRegistration,
// inside the module.
func (h *Host) SignRegistration(ctx context.Context, key ed25519.PrivateKey, chainID string) ([]byte, error) {
	if err := checkKey(key); err != nil {
		return nil, err
	}
	n := ed25519.PrivateKeySize + len(chainID)
	return h.sign(ctx, "sign registration", func(in *instance) api.Function { return in.fn.signRegistration }, n, func(b []byte) {
		copy(b, key)
		copy(b[64:], chainID)
	})
}

// checkKey refuses a key of the wrong length before it is sent: the ABI
// has a fixed 64-byte slot for it.
func checkKey(key ed25519.PrivateKey) error {
	if len(key) != ed25519.PrivateKeySize {
		return fmt.Errorf("wasm keeper module: private key is %d bytes, want %d", len(key), ed25519.PrivateKeySize)
	}
	return nil
}

func (h *Host) sign(ctx context.Context, op string, fn func(*instance) api.Function, n int, fill func([]byte)) ([]byte, error) {
	if n > MaxInput {
		return nil, ErrInputTooLarge
	}
	sig, err := h.run(ctx, op, fn, n, fill)
	if err != nil {
		return nil, err
	}
	if len(sig) != ed25519.SignatureSize {
		return nil, fmt.Errorf("wasm keeper module: %s returned %d bytes, want a %d-byte signature", op, len(sig), ed25519.SignatureSize)
	}
	return sig, nil
}

// run takes an instance from the pool, performs one operation on it and
// gives it back, or discards it if the call failed in a way that may have
// left it unusable.
func (h *Host) run(ctx context.Context, op string, fn func(*instance) api.Function, n int, fill func([]byte)) ([]byte, error) {
	in, err := h.acquire(ctx)
	if err != nil {
		return nil, err
	}
	status, out, err := in.call(ctx, op, fn(in), n, fill)
	h.release(in)
	if err != nil {
		return nil, err
	}
	if status != StatusOK {
		return nil, &StatusError{Op: op, Status: status, Message: string(out)}
	}
	return out, nil
}

// acquire returns an idle instance, or starts a new one while fewer than
// maxInstances are alive, or waits for one to come back.
func (h *Host) acquire(ctx context.Context) (*instance, error) {
	select {
	case in := <-h.idle:
		return in, nil
	default:
	}
	select {
	case in := <-h.idle:
		return in, nil
	case h.tokens <- struct{}{}:
		in, err := h.instantiate(ctx)
		if err != nil {
			<-h.tokens
			return nil, err
		}
		return in, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("waiting for a wasm instance: %w", ctx.Err())
	}
}

// release returns a healthy instance to the pool and closes a broken one,
// freeing its slot. A trap can leave the Go runtime inside half-way
// through anything (a held lock, a heap in mid-update), so a failed
// instance is never reused.
func (h *Host) release(in *instance) {
	if in.broken {
		in.mod.Close(context.Background())
		h.discarded.Add(1)
		<-h.tokens
		return
	}
	h.idle <- in
}

// instance is one instantiation of the module, used by one call at a time.
type instance struct {
	mod    api.Module
	mem    api.Memory
	stack  []uint64
	stderr *head
	broken bool
	fn     struct {
		version, input, outPtr, outLen                  api.Function
		verify, signVote, signSession, signRegistration api.Function
		verifyBatch, compute                            api.Function
	}
}

func (h *Host) instantiate(ctx context.Context) (*instance, error) {
	in := &instance{stack: make([]uint64, 1), stderr: &head{}}
	var stderr io.Writer = in.stderr
	if h.cfg.stderr != nil {
		stderr = io.MultiWriter(in.stderr, h.cfg.stderr)
	}
	// Anonymous, so many instances of one compiled module can coexist in
	// the runtime. A reactor has no _start; _initialize starts the Go
	// runtime and runs package initialisers, and must come before any
	// export. Real clocks and a CSPRNG: wazero's defaults are fakes meant
	// for reproducible tests, and the Go runtime seeds its hash maps from
	// the random source.
	mc := wazero.NewModuleConfig().
		WithName("").
		WithStartFunctions("_initialize").
		WithRandSource(rand.Reader).
		WithSysWalltime().
		WithSysNanotime().
		WithSysNanosleep().
		WithStderr(stderr)
	mod, err := h.rt.InstantiateModule(ctx, h.compiled, mc)
	if err != nil {
		return nil, fmt.Errorf("instantiate wasm keeper module: %w%s", err, in.stderr.suffix())
	}
	in.mod, in.mem = mod, mod.Memory()
	if in.mem == nil {
		mod.Close(ctx)
		return nil, errors.New("wasm keeper module exports no memory")
	}
	for _, f := range []struct {
		name string
		fn   *api.Function
	}{
		{"lk_abi_version", &in.fn.version}, {"lk_input", &in.fn.input},
		{"lk_output_ptr", &in.fn.outPtr}, {"lk_output_len", &in.fn.outLen},
		{"lk_verify", &in.fn.verify}, {"lk_sign_vote", &in.fn.signVote},
		{"lk_sign_session", &in.fn.signSession}, {"lk_sign_registration", &in.fn.signRegistration},
		{"lk_compute", &in.fn.compute},
	} {
		if *f.fn = mod.ExportedFunction(f.name); *f.fn == nil {
			mod.Close(ctx)
			return nil, fmt.Errorf("wasm keeper module: no export %q", f.name)
		}
	}
	// Optional: modules built before it verify job by job (VerifyBatch).
	in.fn.verifyBatch = mod.ExportedFunction("lk_verify_batch")
	h.created.Add(1)
	return in, nil
}

// call1 calls a function that takes no argument or one and returns one
// u32. An error marks the instance broken.
func (in *instance) call1(ctx context.Context, fn api.Function, arg ...uint64) (uint32, error) {
	copy(in.stack, arg)
	if err := fn.CallWithStack(ctx, in.stack); err != nil {
		in.broken = true
		return 0, fmt.Errorf("wasm keeper module: %s failed: %w%s", fn.Definition().ExportNames()[0], err, in.stderr.suffix())
	}
	return uint32(in.stack[0]), nil
}

// call performs one operation: it obtains the input buffer for n bytes,
// lets fill write the input straight into the module's memory, calls op
// and copies the output out (the module reuses its output buffer).
func (in *instance) call(ctx context.Context, name string, op api.Function, n int, fill func([]byte)) (int32, []byte, error) {
	ptr, err := in.call1(ctx, in.fn.input, uint64(n))
	if err != nil {
		return 0, nil, err
	}
	if ptr == 0 {
		return 0, nil, ErrInputTooLarge
	}
	// A view of the module's memory: valid until the memory grows, and
	// nothing runs in the module between here and the fill.
	buf, ok := in.mem.Read(ptr, uint32(n))
	if !ok {
		in.broken = true
		return 0, nil, fmt.Errorf("wasm keeper module: lk_input returned %#x, outside its memory", ptr)
	}
	fill(buf)
	status, err := in.call1(ctx, op, uint64(n))
	if err != nil {
		return 0, nil, err
	}
	optr, err := in.call1(ctx, in.fn.outPtr)
	if err != nil {
		return 0, nil, err
	}
	olen, err := in.call1(ctx, in.fn.outLen)
	if err != nil {
		return 0, nil, err
	}
	out, ok := in.mem.Read(optr, olen)
	if !ok {
		in.broken = true
		return 0, nil, fmt.Errorf("wasm keeper module: %s output [%#x, +%d) is outside its memory", name, optr, olen)
	}
	return int32(status), append([]byte(nil), out...), nil
}

// head keeps the start of what a module writes to stderr, to quote in
// errors: when the Go runtime inside dies it prints the reason first
// ("fatal error: out of memory"), then every goroutine's stack.
type head struct {
	mu  sync.Mutex
	buf []byte
}

const headSize = 1 << 10

func (t *head) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if room := headSize - len(t.buf); room > 0 {
		t.buf = append(t.buf, p[:min(len(p), room)]...)
	}
	return len(p), nil
}

// suffix returns "; module stderr: ..." with the message up to the
// goroutine dump, or "" when nothing was written.
func (t *head) suffix() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	msg, _, _ := bytes.Cut(t.buf, []byte("\n\ngoroutine "))
	msg = bytes.TrimSpace(msg)
	if len(msg) == 0 {
		return ""
	}
	return fmt.Sprintf("; module stderr: %q", msg)
}
