//go:build js && wasm

// Command edge is the keeper as an edge worker on github.com/syumai/workers
// (Cloudflare Workers, or workerd anywhere). A cron trigger runs one
// scheduled event: register the key if needed, long-poll PullTasks for its
// tasks, verify them with the Go verifier compiled to WebAssembly, sign
// and submit the votes (keeper.Keeper.Poll), and keep polling until the
// event's session time is used up. The fetch handler reports the keeper's
// status as the coordinator sees it.
//
// The runtime instantiates the Go program per event, so nothing lives in
// package variables: each event reads its settings from the environment
// and builds its keeper afresh. See README.md for deployment.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strconv"
	"syscall/js"
	"time"

	"github.com/syumai/workers"
	"github.com/syumai/workers/cloudflare"
	"github.com/syumai/workers/cloudflare/cron"
	"github.com/syumai/workers/cloudflare/fetch"

	"github.com/lightkeeper-net/lightkeeper/keeper"
)

// version is set with -ldflags "-X main.version=…" by the build.
var version = "dev"

func main() {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", status)
	mux.HandleFunc("GET /status", status)
	mux.HandleFunc("POST /bench/check-batch", benchCheckBatch)
	cron.ScheduleTaskNonBlock(scheduled)
	workers.Serve(mux)
}

// getenv reads a string or number binding ([vars], secrets, workerd's
// fromEnvironment); anything else, unset or null, reads as "".
func getenv(name string) string {
	v := cloudflare.GetBinding(name)
	switch v.Type() {
	case js.TypeString:
		return v.String()
	case js.TypeNumber:
		return strconv.FormatFloat(v.Float(), 'f', -1, 64)
	}
	return ""
}

// newLogger writes JSON lines to stdout, which the runtime's console
// (Workers Logs, `wrangler tail`, workerd's output) collects.
func newLogger() *slog.Logger {
	return slog.New(slog.NewJSONHandler(os.Stdout, &slog.HandlerOptions{Level: slog.LevelInfo}))
}

// newKeeper builds this event's keeper. Requests go through the runtime's
// own fetch (syumai/workers' transport), wrapped so a context deadline is
// honoured even though that transport cannot abort a request. The keeper
// gets the transport itself as its connect.HTTPClient, not an http.Client
// around it: an *http.Client held as an interface makes the linker keep
// net/http's Transport, crypto/tls and crypto/x509 (about 1 MB gzipped),
// which a worker whose requests all go through fetch never runs. Fetch
// follows redirects itself (RedirectModeFollow).
func newKeeper(cfg Config, log *slog.Logger, engine keeper.Engine) (*keeper.Keeper, error) {
	hc := ctxTransport{fetch.NewClient(fetch.WithBinding(boundFetch())).HTTPClient(fetch.RedirectModeFollow).Transport}
	kc := keeper.NewConfig().WithHTTPClient(hc).WithLogger(log).WithEngine(engine)
	return keeper.NewList(cfg.Coordinators, cfg.Key, kc) // checked by loadConfig already
}

// scheduled is one cron event. It never returns an error: the library
// turns an error into a panic that kills the instance, and a failed event
// is already told by its log line; the next event starts over.
func scheduled(ctx context.Context) error {
	log := newLogger()
	cfg, err := loadConfig(getenv)
	if err != nil {
		log.Error("lightkeeper edge keeper: bad settings", "err", err.Error())
		return nil
	}
	// Bounded whatever the coordinator does: the last pull may start just
	// before the session ends and wait its full PullWait.
	ctx, cancel := context.WithTimeout(ctx, cfg.Session+cfg.PullWait+30*time.Second)
	defer cancel()
	// Compute jobs run on wazero's interpreter compiled into this program
	// (keeper.NativeEngine's default on js), not on the runtime's V8 as in
	// the browser keeper: workerd and Cloudflare refuse to compile
	// WebAssembly at run time ("CompileError: WebAssembly.Module(): Wasm
	// code generation disallowed by embedder", observed with workerd
	// 1.20261117.1 by tests/crosshost_edge_test.go), and a job's program
	// is only known at run time. See docs/compute.md.
	engine := keeper.NewTimedEngine(keeper.NewNativeEngine(), "+edge")
	k, err := newKeeper(cfg, log, engine)
	if err != nil {
		log.Error("lightkeeper edge keeper: bad settings", "err", err.Error())
		return nil
	}
	start := time.Now()
	polls, handled := 0, 0
	var pollErr error
	for {
		wait := min(cfg.PullWait, max(0, time.Until(start.Add(cfg.Session))))
		n, err := k.Poll(ctx, keeper.PollOptions{Wait: wait, MaxTasks: cfg.MaxTasks})
		polls++
		handled += n
		if err != nil {
			pollErr = err
			break
		}
		// Poll again while the session lasts: a pull returns at once when
		// tasks are already queued and waits for new ones otherwise.
		if time.Until(start.Add(cfg.Session)) < time.Second {
			break
		}
	}
	s := k.Stats()
	attrs := []any{
		"keeper", k.ID(), "coordinator", s.Coordinator, "switches", s.Switches, "version", version,
		"polls", polls, "tasks", handled, "approvals", s.Approvals, "rejections", s.Rejections,
		"abstains", s.Abstains, "accepted", s.Accepted, "refused", s.Refused, "lost", s.Lost,
		"wall_ms", time.Since(start).Milliseconds(), "checks", engine.Snapshot(),
	}
	if pollErr != nil {
		log.Error("lightkeeper edge keeper: scheduled run failed", append(attrs, "err", pollErr.Error())...)
		return nil
	}
	log.Info("lightkeeper edge keeper: scheduled run done", attrs...)
	return nil
}

// Status is what the fetch handler answers.
type Status struct {
	Version  string `json:"version"`
	KeeperID string `json:"keeperId,omitempty"`
	// Coordinator is the coordinator that answered (or the first of the
	// list when none did); Coordinators the whole list.
	Coordinator  string    `json:"coordinator,omitempty"`
	Coordinators []string  `json:"coordinators,omitempty"`
	Settings     *Settings `json:"settings,omitempty"`
	// Checks is what this build verifies (make edge-worker-proofs and
	// edge-worker-bn254 leave some out); the keeper abstains on the rest.
	Checks keeper.Capabilities `json:"checks"`
	Keeper *KeeperInfo         `json:"keeper,omitempty"`
	Error  string              `json:"error,omitempty"`
}

// Settings echoes the non-secret settings.
type Settings struct {
	SessionSeconds  int `json:"sessionSeconds"`
	PullWaitSeconds int `json:"pullWaitSeconds"`
	MaxTasks        int `json:"maxTasks"`
}

// KeeperInfo is the coordinator's record of this keeper.
type KeeperInfo struct {
	Registered     bool   `json:"registered"`
	Online         bool   `json:"online"`
	Jailed         bool   `json:"jailed"`
	Reputation     int64  `json:"reputation"`
	Stake          uint64 `json:"stake"`
	RoundsAssigned uint64 `json:"roundsAssigned"`
	VotesCorrect   uint64 `json:"votesCorrect"`
	VotesIncorrect uint64 `json:"votesIncorrect"`
	VotesAbstained uint64 `json:"votesAbstained"`
	RoundsMissed   uint64 `json:"roundsMissed"`
}

// status reports the keeper as the coordinator sees it. It shows only
// public facts (the key's public half, the coordinator's record): never
// the secret.
func status(w http.ResponseWriter, r *http.Request) {
	st := Status{Version: version, Checks: keeper.BuildCapabilities()}
	code := http.StatusOK
	defer func() {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(code)
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		enc.Encode(st)
	}()
	cfg, err := loadConfig(getenv)
	st.KeeperID, st.Coordinators = cfg.KeeperID(), cfg.Coordinators
	if len(cfg.Coordinators) > 0 {
		st.Coordinator = cfg.Coordinators[0]
	}
	if err != nil {
		st.Error, code = "bad settings: "+err.Error(), http.StatusServiceUnavailable
		return
	}
	st.Settings = &Settings{
		SessionSeconds: int(cfg.Session / time.Second), PullWaitSeconds: int(cfg.PullWait / time.Second), MaxTasks: cfg.MaxTasks,
	}
	ctx, cancel := context.WithTimeout(r.Context(), 10*time.Second)
	defer cancel()
	kp, err := newKeeper(cfg, newLogger(), keeper.NewNativeEngine())
	if err != nil {
		st.Error, code = "bad settings: "+err.Error(), http.StatusServiceUnavailable
		return
	}
	k, err := kp.Info(ctx)
	st.Coordinator = kp.Stats().Coordinator
	switch {
	case errors.Is(err, keeper.ErrNotRegistered):
		st.Keeper = &KeeperInfo{} // not registered yet: the first cron event registers it
	case err != nil:
		st.Error, code = "coordinator: "+err.Error(), http.StatusBadGateway
	default:
		st.Keeper = &KeeperInfo{
			Registered: k.GetRegistered(), Online: k.GetOnline(), Jailed: k.GetJailed(),
			Reputation: k.GetReputation(), Stake: k.GetStake(), RoundsAssigned: k.GetRoundsAssigned(),
			VotesCorrect: k.GetVotesCorrect(), VotesIncorrect: k.GetVotesIncorrect(),
			VotesAbstained: k.GetVotesAbstained(), RoundsMissed: k.GetRoundsMissed(),
		}
	}
}

// boundFetch returns {fetch} with fetch bound to the real global object.
// The library's loader hands Go a Proxy of globalThis, and workerd refuses
// a fetch called with that proxy as `this` ("Illegal invocation").
func boundFetch() js.Value {
	global := js.Global().Get("globalThis") // the target behind the proxy
	ns := js.Global().Get("Object").New()
	ns.Set("fetch", global.Get("fetch").Call("bind", global))
	return ns
}

// ctxTransport adapts the library's fetch transport to net/http's
// contract: it returns when the request's context ends even if the fetch
// (which cannot be aborted) has not answered — the abandoned fetch ends
// with the event — and it drops the Content-Encoding of a body fetch has
// already decoded.
type ctxTransport struct{ inner http.RoundTripper }

// Do makes ctxTransport a connect.HTTPClient (see newKeeper).
func (t ctxTransport) Do(req *http.Request) (*http.Response, error) { return t.RoundTrip(req) }

func (t ctxTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	type result struct {
		res *http.Response
		err error
	}
	done := make(chan result, 1)
	go func() {
		// A JavaScript exception inside the fetch binding panics in
		// syscall/js; make it this request's error, not the instance's end.
		defer func() {
			if p := recover(); p != nil {
				done <- result{nil, fmt.Errorf("fetch %s: %v", req.URL, p)}
			}
		}()
		res, err := t.inner.RoundTrip(req)
		done <- result{res, err}
	}()
	select {
	case r := <-done:
		if r.res != nil && r.res.Header.Get("Content-Encoding") != "" {
			// fetch has already decoded the body but keeps the header;
			// left there, connect would try to gunzip plain bytes. Go's
			// own js transport does the same.
			r.res.Header.Del("Content-Encoding")
			r.res.Header.Del("Content-Length")
			r.res.ContentLength, r.res.Uncompressed = -1, true
		}
		return r.res, r.err
	case <-req.Context().Done():
		go func() { // close a late answer's body
			if r := <-done; r.res != nil {
				r.res.Body.Close()
			}
		}()
		return nil, req.Context().Err()
	}
}
