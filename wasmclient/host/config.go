package wasmhost

import (
	"io"
	"log/slog"
	"runtime"

	"github.com/lightkeeper-net/lightkeeper/protocol"
)

// Config is an immutable host configuration, in wazero's style: every With
// method returns a changed copy, so one base config can be shared.
type Config struct {
	cacheDir         string
	maxInstances     int
	memoryLimitPages uint32
	limits           protocol.Limits
	stderr           io.Writer
	logger           *slog.Logger
	// interpreter runs the module on wazero's interpreter instead of its
	// compiler; set only by the benchmarks (BenchmarkVerifyBatch), which
	// compare the two engines on the verifier.
	interpreter bool
}

// DefaultMemoryLimitPages bounds each instance's linear memory: 16384
// pages of 64 KiB, 1 GiB. Verifying one job within the verifier's default
// limits needs a few tens of MiB; a compute job needs far more (wazero's
// interpreter holds a compiled Go program in about 150-220 MiB, and the
// program's own memory may reach the chain's default 128 MiB), and the
// module divides the limit between them (ABI.md, "lk_compute"). The bound
// only stops a runaway instance from taking the machine with it (the Go
// runtime in the module then fails, the call returns an error and the
// instance is discarded); an instance's memory is committed only as it
// grows.
const DefaultMemoryLimitPages = 16384

// NewConfig returns the defaults: compiled code cached in memory only, at
// most GOMAXPROCS instances, 1 GiB per instance, the verifier's default
// limits, module stderr kept only for error messages, no logging.
func NewConfig() Config {
	return Config{
		maxInstances:     runtime.GOMAXPROCS(0),
		memoryLimitPages: DefaultMemoryLimitPages,
		limits:           protocol.DefaultLimits(),
		logger:           slog.New(slog.DiscardHandler),
	}
}

// normalized gives a zero Config (not made by NewConfig) usable values.
func (c Config) normalized() Config {
	d := NewConfig()
	if c.maxInstances < 1 {
		c.maxInstances = d.maxInstances
	}
	if c.memoryLimitPages == 0 {
		c.memoryLimitPages = d.memoryLimitPages
	}
	if c.logger == nil {
		c.logger = d.logger
	}
	return c
}

// WithCompilationCacheDir keeps wazero's compiled machine code in dir
// (created if missing), so the next process that loads the same module
// with the same wazero version skips compilation. Empty means in memory
// only. The directory must not be shared with untrusted writers: its
// contents are executed.
func (c Config) WithCompilationCacheDir(dir string) Config { c.cacheDir = dir; return c }

// WithMaxInstances bounds how many module instances run at once (each is
// single-threaded and has its own memory). Callers beyond it wait for a
// free instance. Values below 1 mean 1.
func (c Config) WithMaxInstances(n int) Config { c.maxInstances = max(1, n); return c }

// WithMemoryLimitPages bounds each instance's memory, in 64 KiB pages
// (at most 65536, 4 GiB). Zero means DefaultMemoryLimitPages.
func (c Config) WithMemoryLimitPages(pages uint32) Config {
	if pages == 0 {
		pages = DefaultMemoryLimitPages
	}
	c.memoryLimitPages = min(pages, 65536)
	return c
}

// WithLimits sets the verifier limits passed to the module with every job
// (zero fields mean the verifier's defaults, as natively).
func (c Config) WithLimits(l protocol.Limits) Config { c.limits = l; return c }

// WithStderr also copies the module's stderr (the Go runtime's fatal error
// messages) to w. Its first KiB is always kept and quoted in errors.
func (c Config) WithStderr(w io.Writer) Config { c.stderr = w; return c }

// WithLogger sets where the Engine reports module failures.
func (c Config) WithLogger(l *slog.Logger) Config {
	if l == nil {
		l = slog.New(slog.DiscardHandler)
	}
	c.logger = l
	return c
}
