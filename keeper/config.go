package keeper

import (
	"log/slog"
	"time"

	"connectrpc.com/connect"
)

// Config is an immutable keeper configuration: every With method returns a
// changed copy, so one base config can be shared by many keepers.
type Config struct {
	engine     Engine
	behaviour  Behaviour
	logger     *slog.Logger
	httpClient connect.HTTPClient
	pull       bool
	pullWait   time.Duration
	workers    int
	batchSize  int
	batchDelay time.Duration
	minBackoff time.Duration
	maxBackoff time.Duration
	taskBatch  int
	taskWindow time.Duration
	// renewSessions: a streaming keeper renews its chain session
	// (session.go).
	renewSessions bool
}

// NewConfig returns the defaults: native engine, honest, streaming, one
// worker, votes flushed every 20 ms or 64 votes, tasks grouped for up to
// 2 ms or 64 tasks.
func NewConfig() Config {
	return Config{
		engine:     NewNativeEngine(),
		behaviour:  honest{},
		logger:     slog.New(slog.DiscardHandler),
		httpClient: defaultHTTPClient(),
		pullWait:   20 * time.Second,
		workers:    1,
		batchSize:  64,
		batchDelay: 20 * time.Millisecond,
		minBackoff: 100 * time.Millisecond,
		maxBackoff: 5 * time.Second,
		taskBatch:  64,
		taskWindow: 2 * time.Millisecond,

		renewSessions: true,
	}
}

// WithEngine sets what checks tasks.
func (c Config) WithEngine(e Engine) Config { c.engine = e; return c }

// WithBehaviour sets the keeper's behaviour (nil: honest, the default).
// Only development tools set another one (devtools/byzantine).
func (c Config) WithBehaviour(b Behaviour) Config {
	if b == nil {
		b = honest{}
	}
	c.behaviour = b
	return c
}

// WithLogger sets the logger.
func (c Config) WithLogger(l *slog.Logger) Config { c.logger = l; return c }

// WithHTTPClient sets the HTTP client (for instance one that speaks h2c).
func (c Config) WithHTTPClient(h connect.HTTPClient) Config { c.httpClient = h; return c }

// WithPull makes the keeper long-poll PullTasks instead of holding a
// Subscribe stream, each poll waiting up to wait.
func (c Config) WithPull(wait time.Duration) Config { c.pull = true; c.pullWait = wait; return c }

// WithWorkers sets how many tasks are checked at once.
func (c Config) WithWorkers(n int) Config { c.workers = max(1, n); return c }

// WithBatch sets when votes are flushed: at size votes or after delay.
func (c Config) WithBatch(size int, delay time.Duration) Config {
	c.batchSize, c.batchDelay = max(1, size), delay
	return c
}

// WithTaskBatch sets how a worker groups the tasks that arrive together
// before checking them in one call, when the engine is a BatchEngine: up
// to size tasks, waiting at most window after the first. Size 1 checks
// each task on its own as soon as it arrives.
func (c Config) WithTaskBatch(size int, window time.Duration) Config {
	c.taskBatch, c.taskWindow = max(1, size), max(0, window)
	return c
}

// WithBackoff sets the reconnect backoff bounds.
func (c Config) WithBackoff(min, max time.Duration) Config {
	c.minBackoff, c.maxBackoff = min, max
	return c
}

// WithSessionRenewal turns the renewal of a streaming keeper's chain
// session (session.go) on (the default) or off. Off, a keeper that holds
// one Subscribe stream longer than the chain's session ttl goes offline:
// only tests want that.
func (c Config) WithSessionRenewal(on bool) Config { c.renewSessions = on; return c }
