package keeper

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync/atomic"

	"connectrpc.com/connect"

	lightkeeperv1 "github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1"
	"github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1/lightkeeperv1connect"
)

// A keeper holds an ordered list of coordinators that serve the same chain
// (the replicas of one network, docs/design.md "Keepers with several
// coordinators"). It talks to one of them at a time; when that one cannot
// be reached it moves to the next, round robin, re-opens its session there
// and re-sends the votes it had not got acknowledged. A vote is a
// transaction any replica accepts, and one that the old coordinator had
// already committed comes back DUPLICATE from the new one, which counts as
// accepted.

// ErrNoCoordinator is returned for an empty list of coordinators.
var ErrNoCoordinator = errors.New("no coordinator URL given")

// CoordinatorURLError names a coordinator URL that is not usable.
type CoordinatorURLError struct {
	URL    string
	Reason string
}

func (e *CoordinatorURLError) Error() string {
	return fmt.Sprintf("coordinator URL %q: %s", e.URL, e.Reason)
}

// WrongChainError says a coordinator of the list serves another chain
// than the one the keeper registered on: the list mixes networks. The
// keeper treats that coordinator as unreachable and moves on.
type WrongChainError struct {
	URL, Want, Got string
}

func (e *WrongChainError) Error() string {
	return fmt.Sprintf("coordinator %s serves chain %q, not %q", e.URL, e.Got, e.Want)
}

// HaltedError says a coordinator of the list is a replica whose consensus
// has halted (its GetChainInfo says so): it serves stale state and
// commits nothing, so the keeper treats it as unreachable and moves on.
type HaltedError struct {
	URL, Reason string
}

func (e *HaltedError) Error() string {
	return fmt.Sprintf("coordinator %s is a replica whose consensus has halted (%s)", e.URL, e.Reason)
}

// ParseCoordinators splits a list of coordinator base URLs written as one
// string — separated by commas, newlines or spaces, as a flag, an
// environment variable or a text box holds them — and checks each. Empty
// entries (a trailing comma, a blank line) are skipped; a trailing slash
// is dropped. Every host takes its list through this one function, so a
// list means the same everywhere.
func ParseCoordinators(s string) ([]string, error) {
	fields := strings.FieldsFunc(s, func(r rune) bool {
		return r == ',' || r == '\n' || r == '\r' || r == ' ' || r == '\t'
	})
	return CheckCoordinators(fields)
}

// CheckCoordinators checks a list of coordinator base URLs: at least one,
// each an http:// or https:// URL with a host and nothing after the path,
// none twice. It returns the list with trailing slashes dropped; the error
// names the first bad URL (a *CoordinatorURLError) or is ErrNoCoordinator.
func CheckCoordinators(urls []string) ([]string, error) {
	out := make([]string, 0, len(urls))
	for _, raw := range urls {
		s := strings.TrimRight(strings.TrimSpace(raw), "/")
		if s == "" {
			continue
		}
		u, err := url.Parse(s)
		switch {
		case err != nil:
			return nil, &CoordinatorURLError{URL: raw, Reason: "not a URL: want an http:// or https:// URL"}
		case u.Scheme != "http" && u.Scheme != "https":
			return nil, &CoordinatorURLError{URL: raw, Reason: "want an http:// or https:// URL"}
		case u.Host == "":
			return nil, &CoordinatorURLError{URL: raw, Reason: "no host"}
		case u.RawQuery != "" || u.Fragment != "" || u.User != nil:
			return nil, &CoordinatorURLError{URL: raw, Reason: "want a base URL, without user, query or fragment"}
		}
		for _, prev := range out {
			if prev == s {
				return nil, &CoordinatorURLError{URL: raw, Reason: "listed twice"}
			}
		}
		out = append(out, s)
	}
	if len(out) == 0 {
		return nil, ErrNoCoordinator
	}
	return out, nil
}

// endpoint is one coordinator of the list with its clients.
type endpoint struct {
	url      string
	keeper   lightkeeperv1connect.KeeperServiceClient
	ledger   lightkeeperv1connect.LedgerServiceClient
	programs lightkeeperv1connect.ProgramServiceClient
	// chainChecked is set once this coordinator was seen to serve the
	// keeper's chain.
	chainChecked atomic.Bool
}

func newEndpoint(h connect.HTTPClient, baseURL string) *endpoint {
	return &endpoint{
		url:      baseURL,
		keeper:   lightkeeperv1connect.NewKeeperServiceClient(h, baseURL),
		ledger:   lightkeeperv1connect.NewLedgerServiceClient(h, baseURL),
		programs: lightkeeperv1connect.NewProgramServiceClient(h, baseURL),
	}
}

// current returns the coordinator in use and its index.
func (k *Keeper) current() (int, *endpoint) {
	i := int(k.cur.Load())
	return i, k.eps[i]
}

// Coordinators returns the keeper's coordinators, in order.
func (k *Keeper) Coordinators() []string {
	out := make([]string, len(k.eps))
	for i, ep := range k.eps {
		out[i] = ep.url
	}
	return out
}

// switchFrom moves from coordinator i to the next one and reports whether
// the keeper now uses another coordinator than i. The session and the
// vote sender may see the same coordinator fail at once: only the first
// moves (and logs and counts the switch), the other finds it done.
func (k *Keeper) switchFrom(i int, reason error) bool {
	if len(k.eps) < 2 {
		return false
	}
	next := (i + 1) % len(k.eps)
	if !k.cur.CompareAndSwap(int64(i), int64(next)) {
		return int(k.cur.Load()) != i
	}
	k.stats.switches.Add(1)
	k.cfg.logger.Warn("switching coordinator", "keeper", short(k.id), "from", k.eps[i].url, "to", k.eps[next].url, "reason", reason)
	return true
}

// failover reports whether err says the coordinator could not be reached
// or could not serve, so that another one of the list may do better:
// a transport failure (connect reports it as Unavailable, or Unknown when
// the answer broke off — the coordinator codes every error it sends
// itself), a deadline, Unimplemented (the URL answers 404: no keeper API
// there), a session stream the coordinator closed (it closes streams only
// when it stops), a coordinator of another chain or a replica that says
// its consensus halted (HaltedError here; the replica itself answers
// Unavailable to sessions and votes and ends its streams). A refusal — invalid
// argument, permission denied, failed precondition, rate limits — would
// be the same from any replica, and is not a reason to move.
func failover(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) {
		return false
	}
	var wrong *WrongChainError
	var halted *HaltedError
	if errors.As(err, &wrong) || errors.As(err, &halted) || errors.Is(err, errStreamClosed) {
		return true
	}
	switch connect.CodeOf(err) {
	case connect.CodeUnavailable, connect.CodeDeadlineExceeded, connect.CodeUnknown, connect.CodeUnimplemented:
		return true
	}
	return false
}

// errStreamClosed is a Subscribe stream that the coordinator ended
// without an error.
var errStreamClosed = errors.New("subscribe stream closed by the coordinator")

// checkChain makes sure ep serves the keeper's chain, asking it once. The
// chain is known once the keeper has registered; before, there is nothing
// to compare with.
func (k *Keeper) checkChain(ctx context.Context, ep *endpoint) error {
	if k.chain() == "" || ep.chainChecked.Load() {
		return nil
	}
	info, err := ep.ledger.GetChainInfo(ctx, connect.NewRequest(&lightkeeperv1.GetChainInfoRequest{}))
	if err != nil {
		return fmt.Errorf("chain info: %w", err)
	}
	if got := info.Msg.GetChainId(); got != k.chain() {
		return &WrongChainError{URL: ep.url, Want: k.chain(), Got: got}
	}
	if info.Msg.GetConsensusHalted() {
		return &HaltedError{URL: ep.url, Reason: info.Msg.GetHaltReason()}
	}
	k.noteChain(info.Msg)
	ep.chainChecked.Store(true)
	return nil
}

// onAny calls f with the coordinator in use and, while f fails with an
// error that says that coordinator is not there (see failover), with the
// next ones, once around the list. It is for the calls that have no later
// moment to retry from: a short-lived host's pull, a status read.
func (k *Keeper) onAny(ctx context.Context, f func(ep *endpoint) error) error {
	var err error
	for range k.eps {
		i, ep := k.current()
		if err = k.checkChain(ctx, ep); err == nil {
			err = f(ep)
		}
		if err == nil || ctx.Err() != nil || !failover(err) || !k.switchFrom(i, err) {
			return err
		}
	}
	return err
}
