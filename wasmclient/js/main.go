//go:build js && wasm

// Command js is the keeper for JavaScript hosts (a browser extension's
// offscreen document or worker, any page): the keeper package — register,
// long-poll PullTasks, verify with the native Go verifier compiled to
// WebAssembly, sign, send votes in batches, reconnect with backoff — behind
// a small API on globalThis.lightkeeper. Network goes through the host's
// fetch (net/http's js transport). Nothing here re-implements verification
// or signing in JavaScript.
//
// See README.md beside this file for the API.
package main

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"syscall/js"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/lightkeeper-net/lightkeeper/keeper"
	lightkeeperv1 "github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1"
)

// version is set with -ldflags "-X main.version=…" by the build.
var version = "dev"

func main() {
	h := &host{}
	api := js.Global().Get("Object").New()
	api.Set("version", version)
	api.Set("newKey", js.FuncOf(h.jsNewKey))
	api.Set("keyId", js.FuncOf(h.jsKeyID))
	api.Set("start", js.FuncOf(h.jsStart))
	api.Set("stop", js.FuncOf(h.jsStop))
	api.Set("stats", js.FuncOf(h.jsStats))
	api.Set("check", js.FuncOf(jsCheck))
	api.Set("checkBatch", js.FuncOf(jsCheckBatch))
	api.Set("computeRun", js.FuncOf(jsComputeRun))
	api.Set("computeEngines", js.FuncOf(jsComputeEngines))
	js.Global().Set("lightkeeper", api)
	// The loader waits for this call: before it the API is not there yet.
	if ready := js.Global().Get("lightkeeperReady"); ready.Type() == js.TypeFunction {
		ready.Invoke(api)
	}
	select {} // serve callbacks until the page goes away
}

// host owns at most one running keeper. JS callbacks run on the event loop
// and must not block, so anything that waits (start, stop) is a goroutine
// behind a Promise.
type host struct {
	// lifecycle serialises start and stop: two overlapping start() calls
	// must not both see the old keeper gone and leave one new keeper
	// running unowned.
	lifecycle sync.Mutex
	mu        sync.Mutex // guards cur for stats()
	cur       *running
}

// running is one keeper session started by start().
type running struct {
	k           *keeper.Keeper
	started     time.Time
	cancel      context.CancelFunc
	done        chan struct{}
	engine      *keeper.TimedEngine
	computeDesc string // the compute engine in use (see compute.go)
	lastErr     atomic.Pointer[string]
	info        atomic.Pointer[infoSnapshot]
	infoErr     atomic.Pointer[string]
	stopped     atomic.Bool
}

type infoSnapshot struct {
	k  *lightkeeperv1.Keeper
	at time.Time
}

// Config is what start() accepts (a plain JS object with these fields).
type Config struct {
	// Coordinators are the base URLs (http or https) of the chain's
	// coordinators, in order of preference: start() takes them as
	// config.coordinator, one URL, a string of URLs separated by commas or
	// newlines, or an array of URL strings.
	Coordinators []string
	Seed         string // 32-byte ed25519 seed in hex
	PullWait     time.Duration
	InfoEvery    time.Duration
	// ComputeEngine is "platform", "interpreter" or "" (the platform
	// engine where the host allows it, else the interpreter).
	ComputeEngine string
}

func parseConfig(v js.Value) (Config, error) {
	if v.Type() != js.TypeObject {
		return Config{}, errors.New("start(config): config must be an object {coordinator, seed}")
	}
	c := Config{
		Seed:          strings.TrimSpace(jsString(v, "seed")),
		PullWait:      jsMillis(v, "pullWaitMs", 15*time.Second),
		InfoEvery:     jsMillis(v, "infoEveryMs", 5*time.Second),
		ComputeEngine: jsString(v, "computeEngine"),
	}
	switch c.ComputeEngine {
	case "", enginePlatform, engineInterpreter:
	default:
		return Config{}, fmt.Errorf("config.computeEngine %q: want %q, %q or nothing", c.ComputeEngine, enginePlatform, engineInterpreter)
	}
	list, err := coordinatorList(v.Get("coordinator"))
	if err != nil {
		return Config{}, fmt.Errorf("config.coordinator: %w", err)
	}
	c.Coordinators = list
	if _, err := parseSeed(c.Seed); err != nil {
		return Config{}, fmt.Errorf("config.seed: %w", err)
	}
	// The coordinator caps a pull at max_pull_wait (20 s by default) and
	// keeps a pulling keeper online for pull_grace (30 s) after each pull.
	c.PullWait = min(max(c.PullWait, time.Second), 20*time.Second)
	c.InfoEvery = max(c.InfoEvery, time.Second)
	return c, nil
}

// coordinatorList reads config.coordinator: a string (one URL, or several
// separated by commas or newlines) or an array of strings, checked by
// keeper.ParseCoordinators like every other host's list.
func coordinatorList(v js.Value) ([]string, error) {
	switch {
	case v.Type() == js.TypeString:
		return keeper.ParseCoordinators(v.String())
	case v.Type() == js.TypeObject && js.Global().Get("Array").Call("isArray", v).Bool():
		urls := make([]string, 0, v.Length())
		for i := range v.Length() {
			e := v.Index(i)
			if e.Type() != js.TypeString {
				return nil, fmt.Errorf("entry %d is not a string", i)
			}
			urls = append(urls, e.String())
		}
		return keeper.CheckCoordinators(urls)
	}
	return nil, errors.New("want a URL string, or a list of them (a string separated by commas or newlines, or an array)")
}

func jsString(v js.Value, name string) string {
	f := v.Get(name)
	if f.Type() != js.TypeString {
		return ""
	}
	return f.String()
}

func jsMillis(v js.Value, name string, def time.Duration) time.Duration {
	f := v.Get(name)
	if f.Type() != js.TypeNumber || f.Float() <= 0 {
		return def
	}
	return time.Duration(f.Float() * float64(time.Millisecond))
}

func parseSeed(s string) (ed25519.PrivateKey, error) {
	seed, err := hex.DecodeString(s)
	if err != nil || len(seed) != ed25519.SeedSize {
		return nil, fmt.Errorf("want %d bytes in hex (%d hex digits)", ed25519.SeedSize, 2*ed25519.SeedSize)
	}
	return ed25519.NewKeyFromSeed(seed), nil
}

// jsNewKey returns a fresh seed in hex: crypto/rand here is the host's
// crypto.getRandomValues.
func (h *host) jsNewKey(js.Value, []js.Value) any {
	seed := make([]byte, ed25519.SeedSize)
	if _, err := rand.Read(seed); err != nil {
		return jsError(fmt.Errorf("no randomness: %w", err))
	}
	return hex.EncodeToString(seed)
}

// jsKeyID returns the keeper id (public key in hex) of a seed.
func (h *host) jsKeyID(_ js.Value, args []js.Value) any {
	if len(args) != 1 || args[0].Type() != js.TypeString {
		return jsError(errors.New("keyId(seed): seed must be a hex string"))
	}
	k, err := parseSeed(strings.TrimSpace(args[0].String()))
	if err != nil {
		return jsError(fmt.Errorf("keyId(seed): %w", err))
	}
	return hex.EncodeToString(k.Public().(ed25519.PublicKey))
}

// jsStart stops a running keeper, if any, and starts one with the config.
// It resolves with {keeperId} once the keeper runs (registration and the
// first pull happen afterwards; stats() shows how they go).
func (h *host) jsStart(_ js.Value, args []js.Value) any {
	var cfgErr error
	var cfg Config
	if len(args) != 1 {
		cfgErr = errors.New("start(config): one argument expected")
	} else {
		cfg, cfgErr = parseConfig(args[0])
	}
	return promise(func() (any, error) {
		if cfgErr != nil {
			return nil, cfgErr
		}
		h.lifecycle.Lock()
		defer h.lifecycle.Unlock()
		h.stop()
		r, err := h.start(cfg)
		if err != nil {
			return nil, err
		}
		out := js.Global().Get("Object").New()
		out.Set("keeperId", r.k.ID())
		return out, nil
	})
}

func (h *host) jsStop(js.Value, []js.Value) any {
	return promise(func() (any, error) {
		h.lifecycle.Lock()
		defer h.lifecycle.Unlock()
		h.stop()
		return js.Undefined(), nil
	})
}

// repsArg is the optional repetition count of the measuring entry points
// at args[i]: 1 when absent or not a number, else clamped to 1..1000.
func repsArg(args []js.Value, i int) int {
	if len(args) <= i || args[i].Type() != js.TypeNumber {
		return 1
	}
	return min(max(args[i].Int(), 1), 1000)
}

// jsCheck runs the keeper's engine on one task, given as the protobuf
// bytes of a lightkeeper.v1.Task, reps times (default 1), and resolves with
// {vote, reason, detail, ms: [one duration per run]}. It is for measuring
// and for checking what this build makes of a proof; a running keeper
// does not need it. It holds the thread while it verifies.
func jsCheck(_ js.Value, args []js.Value) any {
	var task lightkeeperv1.Task
	reps := repsArg(args, 1)
	var argErr error
	switch {
	case len(args) < 1 || args[0].Type() != js.TypeObject || args[0].Get("byteLength").Type() != js.TypeNumber:
		argErr = errors.New("check(taskBytes, reps): taskBytes must be a Uint8Array")
	default:
		b := make([]byte, args[0].Get("byteLength").Int())
		js.CopyBytesToGo(b, args[0])
		if err := proto.Unmarshal(b, &task); err != nil {
			argErr = fmt.Errorf("check: not a lightkeeper.v1.Task: %w", err)
		}
	}
	return promise(func() (any, error) {
		if argErr != nil {
			return nil, argErr
		}
		e, _, err := nativeEngine("")
		if err != nil {
			return nil, err
		}
		var v keeper.Verdict
		ms := js.Global().Get("Array").New()
		for i := range reps {
			start := time.Now()
			v = e.Check(context.Background(), &task)
			ms.SetIndex(i, float64(time.Since(start).Microseconds())/1000)
		}
		out := js.Global().Get("Object").New()
		out.Set("vote", strings.TrimPrefix(v.Kind.String(), "VOTE_KIND_"))
		out.Set("reason", strings.TrimPrefix(v.Reason.String(), "REJECT_REASON_"))
		out.Set("detail", v.Detail)
		out.Set("ms", ms)
		return out, nil
	})
}

// jsStats returns the stats as a JSON string (a string survives every
// structured-clone hop between worker, offscreen document, service worker
// and popup unchanged).
func (h *host) jsStats(js.Value, []js.Value) any {
	h.mu.Lock()
	r := h.cur
	h.mu.Unlock()
	b, err := json.Marshal(r.stats())
	if err != nil {
		return jsError(err)
	}
	return string(b)
}

func (h *host) start(cfg Config) (*running, error) {
	key, _ := parseSeed(cfg.Seed) // validated by parseConfig
	r := &running{started: time.Now(), done: make(chan struct{})}
	ne, desc, err := nativeEngine(cfg.ComputeEngine)
	if err != nil {
		return nil, fmt.Errorf("config.computeEngine: %w", err)
	}
	r.computeDesc = desc
	r.engine = keeper.NewTimedEngine(ne, "+js")
	log := slog.New(&captureHandler{
		next: slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}),
		last: &r.lastErr,
	})
	// Long-poll, not Subscribe: a response body streamed through fetch is
	// not dependable everywhere (proxies buffer it, some runtimes hold it
	// back), while a unary request that waits is. One worker: WebAssembly
	// runs on one thread here anyway.
	kc := keeper.NewConfig().
		WithEngine(r.engine).
		WithLogger(log).
		WithHTTPClient(http.DefaultClient).
		WithPull(cfg.PullWait).
		WithBackoff(250*time.Millisecond, 10*time.Second)
	r.k, err = keeper.NewList(cfg.Coordinators, key, kc)
	if err != nil {
		return nil, fmt.Errorf("config.coordinator: %w", err) // checked by parseConfig already
	}
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	go func() {
		defer close(r.done)
		if err := r.k.Run(ctx); err != nil {
			msg := err.Error()
			r.lastErr.Store(&msg)
		}
	}()
	go r.pollInfo(ctx, cfg.InfoEvery)
	h.mu.Lock()
	h.cur = r
	h.mu.Unlock()
	log.Info("keeper started", "keeper", r.k.ID(), "coordinators", cfg.Coordinators, "version", version, "compute", desc)
	return r, nil
}

func (h *host) stop() {
	h.mu.Lock()
	r := h.cur
	h.mu.Unlock()
	if r == nil || r.stopped.Swap(true) {
		return
	}
	r.cancel() // aborts the pending fetches through their AbortController
	select {
	case <-r.done:
	case <-time.After(10 * time.Second):
		// Run returns once its fetches are aborted; if a host never
		// settles one, do not hang the caller forever.
	}
}

// pollInfo keeps the coordinator's view of this keeper (reputation, stake)
// fresh for stats(); it is read-only and cheap.
func (r *running) pollInfo(ctx context.Context, every time.Duration) {
	for {
		c, cancel := context.WithTimeout(ctx, 10*time.Second)
		k, err := r.k.Info(c)
		cancel()
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			msg := err.Error()
			r.infoErr.Store(&msg)
		} else {
			r.infoErr.Store(nil)
			r.info.Store(&infoSnapshot{k: k, at: time.Now()})
		}
		select {
		case <-time.After(every):
		case <-ctx.Done():
			return
		}
	}
}

// Stats is what stats() returns, as JSON.
type Stats struct {
	Version        string                        `json:"version"`
	State          string                        `json:"state"` // stopped, connecting, connected, reconnecting
	KeeperID       string                        `json:"keeperId,omitempty"`
	Coordinator    string                        `json:"coordinator,omitempty"`   // the one in use
	Coordinators   []string                      `json:"coordinators,omitempty"`  // the whole list
	ComputeEngine  string                        `json:"computeEngine,omitempty"` // platform, or interpreter (and why)
	StartedAt      int64                         `json:"startedAt,omitempty"`     // unix ms
	RoundsVerified int64                         `json:"roundsVerified"`          // approvals + rejections
	Approvals      int64                         `json:"approvals"`
	Rejections     int64                         `json:"rejections"`
	Abstains       int64                         `json:"abstains"`
	Accepted       int64                         `json:"accepted"` // votes the coordinator accepted
	Refused        int64                         `json:"refused"`
	Lost           int64                         `json:"lost"`
	Reconnects     int64                         `json:"reconnects"`
	Switches       int64                         `json:"switches"` // moves to the next coordinator of the list
	LastError      string                        `json:"lastError,omitempty"`
	Keeper         *KeeperInfo                   `json:"keeper,omitempty"` // from GetKeeper
	InfoError      string                        `json:"infoError,omitempty"`
	LastVotes      []VoteInfo                    `json:"lastVotes"` // newest first
	Checks         map[string]keeper.CheckTiming `json:"checks"`    // by "scheme/curve"
}

// KeeperInfo is the coordinator's record of this keeper.
type KeeperInfo struct {
	Reputation     int64  `json:"reputation"`
	Stake          uint64 `json:"stake"`
	Registered     bool   `json:"registered"`
	Online         bool   `json:"online"`
	Jailed         bool   `json:"jailed"`
	RoundsAssigned uint64 `json:"roundsAssigned"`
	VotesCorrect   uint64 `json:"votesCorrect"`
	VotesIncorrect uint64 `json:"votesIncorrect"`
	RoundsMissed   uint64 `json:"roundsMissed"`
	FetchedAt      int64  `json:"fetchedAt"` // unix ms
}

// VoteInfo is one vote this keeper cast.
type VoteInfo struct {
	RoundID string `json:"roundId"`
	Vote    string `json:"vote"`             // APPROVE, REJECT, ABSTAIN
	Reason  string `json:"reason,omitempty"` // for REJECT and ABSTAIN
	Time    int64  `json:"time"`             // unix ms
}

func (r *running) stats() Stats {
	s := Stats{Version: version, State: "stopped", LastVotes: []VoteInfo{}, Checks: map[string]keeper.CheckTiming{}}
	if r == nil {
		return s
	}
	ks := r.k.Stats()
	s.KeeperID, s.Coordinator, s.Coordinators, s.StartedAt = r.k.ID(), ks.Coordinator, r.k.Coordinators(), r.started.UnixMilli()
	s.ComputeEngine = r.computeDesc
	switch {
	case r.stopped.Load():
		s.State = "stopped"
	case ks.Connected:
		s.State = "connected"
	case ks.Reconnects > 0:
		s.State = "reconnecting"
	default:
		s.State = "connecting"
	}
	s.Approvals, s.Rejections, s.Abstains = ks.Approvals, ks.Rejections, ks.Abstains
	s.RoundsVerified = ks.Approvals + ks.Rejections
	s.Accepted, s.Refused, s.Lost, s.Reconnects, s.Switches = ks.Accepted, ks.Refused, ks.Lost, ks.Reconnects, ks.Switches
	if e := r.lastErr.Load(); e != nil {
		s.LastError = *e
	}
	if e := r.infoErr.Load(); e != nil {
		s.InfoError = *e
	}
	if in := r.info.Load(); in != nil {
		k := in.k
		s.Keeper = &KeeperInfo{
			Reputation: k.GetReputation(), Stake: k.GetStake(), Registered: k.GetRegistered(),
			Online: k.GetOnline(), Jailed: k.GetJailed(), RoundsAssigned: k.GetRoundsAssigned(),
			VotesCorrect: k.GetVotesCorrect(), VotesIncorrect: k.GetVotesIncorrect(),
			RoundsMissed: k.GetRoundsMissed(), FetchedAt: in.at.UnixMilli(),
		}
	}
	for i := len(ks.LastVotes) - 1; i >= 0 && len(s.LastVotes) < 8; i-- {
		v := ks.LastVotes[i]
		vi := VoteInfo{
			RoundID: v.RoundID,
			Vote:    strings.TrimPrefix(v.Kind.String(), "VOTE_KIND_"),
			Time:    v.Time.UnixMilli(),
		}
		if v.Reason != lightkeeperv1.RejectReason_REJECT_REASON_UNSPECIFIED {
			vi.Reason = strings.TrimPrefix(v.Reason.String(), "REJECT_REASON_")
		}
		s.LastVotes = append(s.LastVotes, vi)
	}
	s.Checks = r.engine.Snapshot()
	return s
}

// captureHandler remembers the last warning or error (with its err
// attribute) for stats().lastError and passes every record on.
type captureHandler struct {
	next slog.Handler
	last *atomic.Pointer[string]
}

func (h *captureHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= slog.LevelWarn || h.next.Enabled(ctx, l)
}

func (h *captureHandler) Handle(ctx context.Context, r slog.Record) error {
	if r.Level >= slog.LevelWarn {
		msg := r.Message
		r.Attrs(func(a slog.Attr) bool {
			if a.Key == "err" {
				msg += ": " + a.Value.String()
			}
			return true
		})
		h.last.Store(&msg)
	}
	if h.next.Enabled(ctx, r.Level) {
		return h.next.Handle(ctx, r)
	}
	return nil
}

func (h *captureHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return &captureHandler{next: h.next.WithAttrs(as), last: h.last}
}

func (h *captureHandler) WithGroup(name string) slog.Handler {
	return &captureHandler{next: h.next.WithGroup(name), last: h.last}
}

// promise runs f in a goroutine (it may wait on fetch) and settles a JS
// Promise with its result; an error rejects with an Error carrying its
// message. A panic in f becomes a rejection, not a dead keeper.
func promise(f func() (any, error)) js.Value {
	var executor js.Func
	executor = js.FuncOf(func(_ js.Value, args []js.Value) any {
		executor.Release()
		resolve, reject := args[0], args[1]
		go func() {
			defer func() {
				if p := recover(); p != nil {
					reject.Invoke(jsError(fmt.Errorf("internal error: %v", p)))
				}
			}()
			v, err := f()
			if err != nil {
				reject.Invoke(jsError(err))
				return
			}
			resolve.Invoke(v)
		}()
		return nil
	})
	return js.Global().Get("Promise").New(executor)
}

func jsError(err error) js.Value {
	return js.Global().Get("Error").New(err.Error())
}
