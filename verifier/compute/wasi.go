package compute

import (
	"crypto/sha256"
	"encoding/binary"
	"io"

	"github.com/lightkeeper-net/lightkeeper/verifier/wasmcheck"
)

// This file is the deterministic WASI host: the exact behaviour of every
// function of the subset a program may import (docs/compute.md, "ABI").
// It knows nothing of the engine: it reads and writes guest memory through
// Memory and the metering globals through Global, so the same code serves
// the wazero binding (engine.go) and a binding over a JavaScript
// WebAssembly instance (the browser and edge keepers).

// WASIModule is the only import module a program may use.
const WASIModule = wasmcheck.WASIModule

// Memory is the guest's linear memory as the host sees it. wazero's
// api.Memory satisfies it.
type Memory interface {
	Read(offset, byteCount uint32) ([]byte, bool)
	Write(offset uint32, v []byte) bool
}

// Global is one of the metering globals. wazero's api.MutableGlobal
// satisfies it (values are the raw i64/i32 bits).
type Global interface {
	Get() uint64
	Set(v uint64)
}

// WASI errno values used by the host (wasi_snapshot_preview1 numbering).
const (
	errnoSuccess  = 0
	errnoBadf     = 8
	errnoFault    = 21
	errnoInval    = 28
	errnoNotdir   = 54
	errnoNotsock  = 57
	errnoNotsup   = 58
	errnoSpipe    = 70
	filetypeChar  = 2
	rightFdRead   = 1 << 1
	rightFdWrite  = 1 << 6
	rightFdStat   = 1 << 21 // fd_filestat_get
	rightPollRW   = 1 << 27
	clockRealtime = 0
	clockThread   = 3
)

const (
	// RealtimeEpoch is what the realtime clock reads at fuel 0: 2024-01-01
	// 00:00:00 UTC, in nanoseconds since the Unix epoch.
	RealtimeEpoch = 1_704_067_200 * 1_000_000_000
	// MonotonicBase is what the monotonic clock reads at fuel 0: one
	// second, never zero, because Go's runtime aborts ("nanotime returning
	// zero") on a zero monotonic clock.
	MonotonicBase = 1_000_000_000
	// argv0 is the whole, fixed argument vector.
	argv0 = "program"
	// randomDomain separates the random stream from every other use of the
	// seed.
	randomDomain = "lightkeeper/compute/random/v1\x00"
)

type hostFunc func(h *Host, mem Memory, a []uint64) uint32

type wasiFunc struct {
	params, results []byte
	fn              hostFunc
}

// wasiHost is the behaviour of every function of wasmcheck's deterministic
// WASI subset (the signatures are wasmcheck's: one table of names and
// types for the chain and the hosts).
var wasiHost = map[string]hostFunc{
	// Arguments and environment: argv is ["program"], the environment empty.
	"args_get":          argsGet,
	"args_sizes_get":    argsSizesGet,
	"environ_get":       always(errnoSuccess),
	"environ_sizes_get": environSizesGet,
	// Clocks: derived from the fuel used and the time slept, nothing else.
	"clock_res_get":  clockResGet,
	"clock_time_get": clockTimeGet,
	// Descriptors: 0 (stdin, the input), 1 (stdout, the output), 2
	// (stderr, discarded); no preopened directories, so no other
	// descriptor can ever exist.
	"fd_advise":             ifOpen(errnoSpipe),
	"fd_allocate":           ifOpen(errnoSpipe),
	"fd_close":              fdClose,
	"fd_datasync":           ifOpen(errnoInval),
	"fd_fdstat_get":         fdFdstatGet,
	"fd_fdstat_set_flags":   ifOpen(errnoSuccess),
	"fd_fdstat_set_rights":  ifOpen(errnoNotsup),
	"fd_filestat_get":       fdFilestatGet,
	"fd_filestat_set_size":  ifOpen(errnoInval),
	"fd_filestat_set_times": ifOpen(errnoInval),
	"fd_pread":              ifOpen(errnoSpipe),
	"fd_prestat_get":        always(errnoBadf),
	"fd_prestat_dir_name":   always(errnoBadf),
	"fd_pwrite":             ifOpen(errnoSpipe),
	"fd_read":               fdRead,
	"fd_readdir":            ifOpen(errnoNotdir),
	"fd_renumber":           ifOpen(errnoNotsup),
	"fd_seek":               ifOpen(errnoSpipe),
	"fd_sync":               ifOpen(errnoInval),
	"fd_tell":               ifOpen(errnoSpipe),
	"fd_write":              fdWrite,
	// Paths: every directory descriptor is missing (EBADF) or a character
	// device (ENOTDIR), so no file can be opened, made or inspected.
	"path_create_directory":   ifOpen(errnoNotdir),
	"path_filestat_get":       ifOpen(errnoNotdir),
	"path_filestat_set_times": ifOpen(errnoNotdir),
	"path_link":               ifOpen(errnoNotdir),
	"path_open":               ifOpen(errnoNotdir),
	"path_readlink":           ifOpen(errnoNotdir),
	"path_remove_directory":   ifOpen(errnoNotdir),
	"path_rename":             ifOpen(errnoNotdir),
	"path_symlink":            ifOpen(errnoNotdir),
	"path_unlink_file":        ifOpen(errnoNotdir),
	// Scheduling and process.
	"poll_oneoff": pollOneoff,
	"proc_exit":   procExit,
	"sched_yield": always(errnoSuccess),
	// Randomness: a SHA-256 stream seeded by the round.
	"random_get": randomGet,
	// Sockets: there are none; stdio descriptors are not sockets.
	"sock_accept":   ifOpen(errnoNotsock),
	"sock_recv":     ifOpen(errnoNotsock),
	"sock_send":     ifOpen(errnoNotsock),
	"sock_shutdown": ifOpen(errnoNotsock),
}

// wasiFuncs joins wasmcheck's signatures and wasiHost's behaviour; a name
// in one table and not the other is a build error caught at start-up.
var wasiFuncs = func() map[string]wasiFunc {
	fs := make(map[string]wasiFunc, len(wasiHost))
	for _, name := range wasmcheck.WASIFunctions() {
		params, results, _ := wasmcheck.WASISignature(name)
		fn, ok := wasiHost[name]
		if !ok {
			panic("compute: WASI function " + name + " has no host behaviour")
		}
		fs[name] = wasiFunc{params, results, fn}
	}
	if len(fs) != len(wasiHost) {
		panic("compute: a host WASI function is not in wasmcheck's subset")
	}
	return fs
}()

// WASIFunctions lists the subset's function names, sorted.
func WASIFunctions() []string { return wasmcheck.WASIFunctions() }

// Host is the state of one run: the input, the output, the clocks, the
// random stream and how the run ended. It is not safe for concurrent use;
// each run has its own.
type Host struct {
	input     []byte
	inPos     int
	out       []byte
	maxOut    int
	stderr    io.Writer
	seed      [32]byte
	randCtr   uint64
	randBuf   []byte
	slept     uint64
	closed    [3]bool
	fuelLimit uint64
	fuel      Global

	// How the run stopped, when a host function stopped it.
	stopped  bool
	exitCode uint32
	trap     TrapKind
}

// NewHost returns the host state for one run. fuel is the instance's
// lightkeeper_fuel global, which the caller sets to fuelLimit before
// calling _start (it may be attached later, before the first Call, as the
// wazero binding does; the other global, lightkeeper_depth, is the
// caller's alone).
func NewHost(input []byte, fuelLimit uint64, seed [32]byte, maxOutput int, fuel Global, stderr io.Writer) *Host {
	return &Host{input: input, maxOut: maxOutput, seed: seed, fuelLimit: fuelLimit, fuel: fuel, stderr: stderr}
}

// Call runs the WASI function name with the raw arguments and returns its
// raw results. stop reports that the run must end now (proc_exit, out of
// fuel inside the host, output over the cap); the binding then unwinds the
// guest and asks Stopped for the outcome.
func (h *Host) Call(name string, mem Memory, args []uint64) (results []uint64, stop bool) {
	f, ok := wasiFuncs[name]
	if !ok {
		// Check refuses such modules; reaching here is a host bug, and a
		// trap is the deterministic answer.
		h.stopped, h.trap = true, TrapUnreachable
		return nil, true
	}
	errno := f.fn(h, mem, args)
	if h.stopped {
		return nil, true
	}
	if f.results == nil {
		return nil, false
	}
	return []uint64{uint64(errno)}, false
}

// Stopped reports how a host function ended the run: with an exit code
// (trap TrapNone) or a trap.
func (h *Host) Stopped() (stopped bool, exitCode uint32, trap TrapKind) {
	return h.stopped, h.exitCode, h.trap
}

// Output is what the program wrote to stdout, at most the cap.
func (h *Host) Output() []byte { return h.out }

// fuelUsed is the fuel consumed so far, as the metering globals say.
func (h *Host) fuelUsed() uint64 {
	if h.fuel == nil {
		return 0
	}
	rem := int64(h.fuel.Get())
	if rem < 0 {
		return h.fuelLimit
	}
	return h.fuelLimit - uint64(rem)
}

// charge takes n units of fuel for host work proportional to bytes moved;
// false means the fuel ran out (the run stops with TrapOutOfFuel).
func (h *Host) charge(n uint64) bool {
	if n == 0 || h.fuel == nil {
		return true
	}
	rem := int64(h.fuel.Get())
	if n > uint64(rem) {
		h.fuel.Set(^uint64(0)) // -1: exhausted
		h.stopped, h.trap = true, TrapOutOfFuel
		return false
	}
	h.fuel.Set(uint64(rem - int64(n)))
	return true
}

// now is the monotonic clock: MonotonicBase, plus one nanosecond per unit
// of fuel used, plus the time the program asked to sleep.
func (h *Host) now() uint64 { return MonotonicBase + h.fuelUsed() + h.slept }

func (h *Host) open(fd uint32) bool { return fd < 3 && !h.closed[fd] }

func always(errno uint32) hostFunc {
	return func(*Host, Memory, []uint64) uint32 { return errno }
}

// ifOpen: errno for the open descriptors 0-2, EBADF for any other.
func ifOpen(errno uint32) hostFunc {
	return func(h *Host, _ Memory, a []uint64) uint32 {
		if !h.open(uint32(a[0])) {
			return errnoBadf
		}
		return errno
	}
}

func putU32(mem Memory, off uint32, v uint32) bool {
	return mem.Write(off, binary.LittleEndian.AppendUint32(nil, v))
}

func putU64(mem Memory, off uint32, v uint64) bool {
	return mem.Write(off, binary.LittleEndian.AppendUint64(nil, v))
}

func fault(ok bool) uint32 {
	if ok {
		return errnoSuccess
	}
	return errnoFault
}

func argsSizesGet(_ *Host, mem Memory, a []uint64) uint32 {
	return fault(putU32(mem, uint32(a[0]), 1) && putU32(mem, uint32(a[1]), uint32(len(argv0)+1)))
}

func argsGet(_ *Host, mem Memory, a []uint64) uint32 {
	return fault(putU32(mem, uint32(a[0]), uint32(a[1])) && mem.Write(uint32(a[1]), []byte(argv0+"\x00")))
}

func environSizesGet(_ *Host, mem Memory, a []uint64) uint32 {
	return fault(putU32(mem, uint32(a[0]), 0) && putU32(mem, uint32(a[1]), 0))
}

func clockResGet(_ *Host, mem Memory, a []uint64) uint32 {
	if uint32(a[0]) > clockThread {
		return errnoInval
	}
	return fault(putU64(mem, uint32(a[1]), 1))
}

func clockTimeGet(h *Host, mem Memory, a []uint64) uint32 {
	id := uint32(a[0])
	if id > clockThread {
		return errnoInval
	}
	t := h.now()
	if id == clockRealtime {
		t += RealtimeEpoch - MonotonicBase
	}
	return fault(putU64(mem, uint32(a[2]), t))
}

func fdClose(h *Host, _ Memory, a []uint64) uint32 {
	fd := uint32(a[0])
	if !h.open(fd) {
		return errnoBadf
	}
	h.closed[fd] = true
	return errnoSuccess
}

func fdFdstatGet(h *Host, mem Memory, a []uint64) uint32 {
	fd := uint32(a[0])
	if !h.open(fd) {
		return errnoBadf
	}
	var st [24]byte
	st[0] = filetypeChar
	rights := uint64(rightFdWrite | rightFdStat | rightPollRW)
	if fd == 0 {
		rights = rightFdRead | rightFdStat | rightPollRW
	}
	binary.LittleEndian.PutUint64(st[8:], rights)
	return fault(mem.Write(uint32(a[1]), st[:]))
}

func fdFilestatGet(h *Host, mem Memory, a []uint64) uint32 {
	if !h.open(uint32(a[0])) {
		return errnoBadf
	}
	var st [64]byte
	st[16] = filetypeChar
	binary.LittleEndian.PutUint64(st[24:], 1) // nlink
	return fault(mem.Write(uint32(a[1]), st[:]))
}

type iovec struct{ ptr, n uint32 }

// maxIovecs is IOV_MAX: more iovecs in one call is EINVAL.
const maxIovecs = 1024

const maxSleep = 1 << 62

// iovecs reads count (ptr, len) pairs at off; errno on failure.
func iovecs(mem Memory, off, count uint32) ([]iovec, uint32) {
	if count > maxIovecs {
		return nil, errnoInval
	}
	raw, ok := mem.Read(off, count*8)
	if !ok {
		return nil, errnoFault
	}
	v := make([]iovec, count)
	for i := range v {
		v[i] = iovec{binary.LittleEndian.Uint32(raw[8*i:]), binary.LittleEndian.Uint32(raw[8*i+4:])}
	}
	return v, errnoSuccess
}

func fdRead(h *Host, mem Memory, a []uint64) uint32 {
	if uint32(a[0]) != 0 || !h.open(0) {
		return errnoBadf
	}
	vs, errno := iovecs(mem, uint32(a[1]), uint32(a[2]))
	if errno != errnoSuccess {
		return errno
	}
	total := uint64(0)
	for _, v := range vs {
		total += uint64(v.n)
	}
	if left := uint64(len(h.input) - h.inPos); total > left {
		total = left
	}
	if !h.charge(total >> wasmcheck.BulkCostShift) {
		return 0
	}
	n := uint32(0)
	for _, v := range vs {
		chunk := h.input[h.inPos:]
		if uint32(len(chunk)) > v.n {
			chunk = chunk[:v.n]
		}
		if len(chunk) == 0 {
			break
		}
		if !mem.Write(v.ptr, chunk) {
			return errnoFault
		}
		h.inPos += len(chunk)
		n += uint32(len(chunk))
	}
	return fault(putU32(mem, uint32(a[3]), n))
}

func fdWrite(h *Host, mem Memory, a []uint64) uint32 {
	fd := uint32(a[0])
	if fd == 0 || !h.open(fd) {
		return errnoBadf
	}
	vs, errno := iovecs(mem, uint32(a[1]), uint32(a[2]))
	if errno != errnoSuccess {
		return errno
	}
	total := uint64(0)
	for _, v := range vs {
		if _, ok := mem.Read(v.ptr, v.n); !ok {
			return errnoFault
		}
		total += uint64(v.n)
	}
	if !h.charge(total >> wasmcheck.BulkCostShift) {
		return 0
	}
	for _, v := range vs {
		b, _ := mem.Read(v.ptr, v.n)
		if fd == 2 {
			if h.stderr != nil {
				_, _ = h.stderr.Write(b) // a debugging aid, not part of the result
			}
			continue
		}
		if room := h.maxOut - len(h.out); len(b) > room {
			h.out = append(h.out, b[:room]...)
			h.stopped, h.trap = true, TrapOutputLimit
			return 0
		}
		h.out = append(h.out, b...)
	}
	return fault(putU32(mem, uint32(a[3]), uint32(total)))
}

func procExit(h *Host, _ Memory, a []uint64) uint32 {
	h.stopped, h.exitCode, h.trap = true, uint32(a[0]), TrapNone
	return 0
}

func randomGet(h *Host, mem Memory, a []uint64) uint32 {
	ptr, n := uint32(a[0]), uint32(a[1])
	if _, ok := mem.Read(ptr, n); !ok {
		return errnoFault
	}
	if !h.charge(uint64(n) >> wasmcheck.BulkCostShift) {
		return 0
	}
	buf := make([]byte, 0, n)
	for uint32(len(buf)) < n {
		if len(h.randBuf) == 0 {
			blk := sha256.New()
			blk.Write([]byte(randomDomain))
			blk.Write(h.seed[:])
			blk.Write(binary.BigEndian.AppendUint64(nil, h.randCtr))
			h.randCtr++
			h.randBuf = blk.Sum(nil)
		}
		k := min(int(n)-len(buf), len(h.randBuf))
		buf = append(buf, h.randBuf[:k]...)
		h.randBuf = h.randBuf[k:]
	}
	return fault(mem.Write(ptr, buf))
}

// pollOneoff: subscriptions are 48 bytes (userdata u64, tag u8 at 8, then
// clock: id u32 at 16, timeout u64 at 24, precision u64 at 32, flags u16 at
// 40; fd_read/fd_write: fd u32 at 16); events are 32 bytes (userdata u64,
// errno u16 at 8, type u8 at 10, nbytes u64 at 16, flags u16 at 24).
//
// If any subscription is for a descriptor, every descriptor subscription
// gets an event at once (stdin readable with the bytes left, stdout and
// stderr writable, anything else EBADF) and the clocks none. Otherwise the
// clock jumps to the earliest deadline and every clock subscription due at
// that instant gets an event. Nothing ever blocks.
func pollOneoff(h *Host, mem Memory, a []uint64) uint32 {
	in, out, n := uint32(a[0]), uint32(a[1]), uint32(a[2])
	if n == 0 {
		return errnoInval
	}
	if uint64(n)*48 > 1<<32 {
		return errnoFault
	}
	subs, ok := mem.Read(in, n*48)
	if !ok {
		return errnoFault
	}
	subs = append([]byte(nil), subs...) // the events may overlap the subscriptions
	var events []byte
	event := func(s []byte, errno uint16, typ byte, nbytes uint64) {
		var e [32]byte
		copy(e[:8], s[:8])
		binary.LittleEndian.PutUint16(e[8:], errno)
		e[10] = typ
		binary.LittleEndian.PutUint64(e[16:], nbytes)
		events = append(events, e[:]...)
	}
	hasFd := false
	for i := uint32(0); i < n; i++ {
		switch tag := subs[48*i+8]; tag {
		case 0:
		case 1, 2:
			hasFd = true
		default:
			return errnoInval
		}
	}
	if hasFd {
		for i := uint32(0); i < n; i++ {
			s := subs[48*i : 48*i+48]
			tag := s[8]
			if tag == 0 {
				continue
			}
			fd := binary.LittleEndian.Uint32(s[16:])
			switch {
			case tag == 1 && fd == 0 && h.open(0):
				event(s, 0, tag, uint64(len(h.input)-h.inPos))
			case tag == 2 && fd == 1 && h.open(1):
				event(s, 0, tag, uint64(h.maxOut-len(h.out)))
			case tag == 2 && fd == 2 && h.open(2):
				event(s, 0, tag, 0)
			default:
				event(s, errnoBadf, tag, 0)
			}
		}
	} else {
		now := h.now()
		wait := make([]uint64, n)
		earliest := ^uint64(0)
		for i := uint32(0); i < n; i++ {
			s := subs[48*i : 48*i+48]
			id := binary.LittleEndian.Uint32(s[16:])
			timeout := binary.LittleEndian.Uint64(s[24:])
			if id > clockThread {
				wait[i] = ^uint64(0)
				event(s, errnoInval, 0, 0)
				continue
			}
			if binary.LittleEndian.Uint16(s[40:])&1 != 0 { // absolute
				base := now
				if id == clockRealtime {
					base += RealtimeEpoch - MonotonicBase
				}
				if timeout > base {
					timeout -= base
				} else {
					timeout = 0
				}
			}
			wait[i] = timeout
			earliest = min(earliest, timeout)
		}
		if earliest != ^uint64(0) {
			// Saturate at 2^62 so that now() + RealtimeEpoch never wraps.
			h.slept = min(h.slept, maxSleep)
			h.slept += min(earliest, maxSleep-h.slept)
			for i := uint32(0); i < n; i++ {
				if wait[i] == earliest {
					event(subs[48*i:48*i+48], 0, 0, 0)
				}
			}
		}
	}
	if !mem.Write(out, events) {
		return errnoFault
	}
	return fault(putU32(mem, uint32(a[3]), uint32(len(events)/32)))
}
