package state

import (
	"errors"
	"testing"
	"time"

	lightkeeperv1 "github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1"
	"github.com/lightkeeper-net/lightkeeper/protocol"
	"google.golang.org/protobuf/types/known/durationpb"
)

// sessionParams are the defaults with chain sessions of ttl 60 s and
// skew 30 s (protocol.DefaultSessionParams).
func sessionParams() *lightkeeperv1.ConsensusParams {
	p := protocol.DefaultParams()
	p.Sessions = protocol.DefaultSessionParams()
	return p
}

func sessionTx(chain string, i int, unixMilli int64) *lightkeeperv1.Transaction {
	return &lightkeeperv1.Transaction{Kind: &lightkeeperv1.Transaction_KeeperSession{KeeperSession: &lightkeeperv1.KeeperSessionTx{
		KeeperId:  keeperID(i),
		UnixMilli: unixMilli,
		Signature: protocol.SignSession(keeperKey(i), chain, unixMilli),
	}}}
}

// A harness whose keepers are registered but online only through chain
// sessions.
func newSessionHarness(t *testing.T, params *lightkeeperv1.ConsensusParams) *harness {
	t.Helper()
	h := newHarness(t, 10, 100, params)
	var off []*lightkeeperv1.Transaction
	for i := range 10 {
		off = append(off, onlineTx(i, false))
	}
	h.ok(h.apply(time.Second, off...))
	return h
}

func TestKeeperSessionRules(t *testing.T) {
	tamper := func(tx *lightkeeperv1.Transaction, f func(s *lightkeeperv1.KeeperSessionTx)) *lightkeeperv1.Transaction {
		f(tx.GetKeeperSession())
		return tx
	}
	for _, tc := range []struct {
		name   string
		params *lightkeeperv1.ConsensusParams
		// tx builds the transaction from the block time it lands in.
		tx      func(now int64) *lightkeeperv1.Transaction
		wantErr error
	}{
		{"accepted", sessionParams(), func(now int64) *lightkeeperv1.Transaction { return sessionTx(testChain, 0, now) }, nil},
		{"at the skew's edge", sessionParams(), func(now int64) *lightkeeperv1.Transaction { return sessionTx(testChain, 0, now-30_000) }, nil},
		{"chain without sessions", nil, func(now int64) *lightkeeperv1.Transaction { return sessionTx(testChain, 0, now) }, ErrInvalidRequest},
		{"too old", sessionParams(), func(now int64) *lightkeeperv1.Transaction { return sessionTx(testChain, 0, now-30_001) }, ErrInvalidRequest},
		{"from the future", sessionParams(), func(now int64) *lightkeeperv1.Transaction { return sessionTx(testChain, 0, now+30_001) }, ErrInvalidRequest},
		{"other chain's signature", sessionParams(), func(now int64) *lightkeeperv1.Transaction { return sessionTx("other-chain", 0, now) }, ErrBadSignature},
		{"signature of another time", sessionParams(), func(now int64) *lightkeeperv1.Transaction {
			return tamper(sessionTx(testChain, 0, now), func(s *lightkeeperv1.KeeperSessionTx) { s.UnixMilli-- })
		}, ErrBadSignature},
		{"another keeper's signature", sessionParams(), func(now int64) *lightkeeperv1.Transaction {
			return tamper(sessionTx(testChain, 0, now), func(s *lightkeeperv1.KeeperSessionTx) { s.KeeperId = keeperID(1) })
		}, ErrBadSignature},
		{"unregistered keeper", sessionParams(), func(now int64) *lightkeeperv1.Transaction { return sessionTx(testChain, 40, now) }, ErrUnknownKeeper},
		{"malformed id", sessionParams(), func(now int64) *lightkeeperv1.Transaction {
			return tamper(sessionTx(testChain, 0, now), func(s *lightkeeperv1.KeeperSessionTx) { s.KeeperId = "zz" })
		}, ErrInvalidRequest},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newSessionHarness(t, tc.params)
			now := h.now() + 1000
			res := h.apply(time.Second, tc.tx(now))
			err := res.TxResults[0].Err
			if tc.wantErr == nil {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				k := h.keeper(0)
				if !k.Online || k.SessionUnixMilli != tc.tx(now).GetKeeperSession().UnixMilli || k.SessionExpiresAt.AsTime().UnixMilli() != now+60_000 {
					t.Fatalf("keeper after session: online %t session %d expires %v", k.Online, k.SessionUnixMilli, k.SessionExpiresAt.AsTime())
				}
				if got := eventsOf[KeeperOnlineChanged](res); len(got) != 1 || !got[0].Online {
					t.Errorf("events: %v", got)
				}
				return
			}
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("got %v, want %v", err, tc.wantErr)
			}
			if h.keeper(0).Online || h.keeper(0).SessionExpiresAt != nil {
				t.Error("a refused session changed the keeper")
			}
		})
	}
}

// A session lasts ttl after its block; a renewal extends it; a session
// signature is taken once; the block at the expiry takes the keeper
// offline, and NextWakeup asks for that block.
func TestKeeperSessionLifetime(t *testing.T) {
	h := newSessionHarness(t, sessionParams())
	t0 := h.now() + 1000
	h.ok(h.apply(time.Second, sessionTx(testChain, 0, t0), sessionTx(testChain, 1, t0)))
	checkIndexes(t, 0, 1, h.m)

	// The same signature again, and an earlier one: replays.
	res := h.apply(time.Second, sessionTx(testChain, 0, t0), sessionTx(testChain, 0, t0-1))
	for i, r := range res.TxResults {
		if !errors.Is(r.Err, ErrBadNonce) {
			t.Errorf("replay %d: got %v, want ErrBadNonce", i, r.Err)
		}
	}

	// Keeper 1 renews 20 s later; keeper 0 does not.
	h.ok(h.apply(20*time.Second, sessionTx(testChain, 1, t0+21_000)))
	checkIndexes(t, 0, 2, h.m)
	if got, want := h.m.NextWakeup(), t0+60_000; got != want {
		t.Fatalf("NextWakeup %d, want keeper 0's expiry %d", got, want)
	}

	// One millisecond before the expiry nothing changes; at it, keeper 0
	// goes offline and keeper 1 stays.
	h.ok(h.apply(time.Duration(t0+60_000-1-h.now()) * time.Millisecond))
	if !h.keeper(0).Online {
		t.Fatal("offline before its session ended")
	}
	res = h.ok(h.apply(time.Millisecond))
	if k := h.keeper(0); k.Online || k.SessionExpiresAt != nil {
		t.Fatalf("keeper 0 after expiry: online %t expires %v", k.Online, k.SessionExpiresAt)
	}
	if !h.keeper(1).Online {
		t.Fatal("keeper 1 went offline before its renewed session ended")
	}
	if got := eventsOf[KeeperOnlineChanged](res); len(got) != 1 || got[0].KeeperID != keeperID(0) || got[0].Online {
		t.Errorf("events at expiry: %v", got)
	}
	checkIndexes(t, 0, 3, h.m)

	// A restored machine rebuilds the index and expires keeper 1 alike.
	restored, err := Restore(h.m.Snapshot())
	if err != nil {
		t.Fatal(err)
	}
	checkIndexes(t, 0, 4, restored)
	at := t0 + 20_000 + 1000 + 60_000
	for _, m := range []*Machine{h.m, restored} {
		if _, err := m.ApplyBlock(BlockInput{TimeUnixMilli: at}); err != nil {
			t.Fatal(err)
		}
		if k, _ := m.Keeper(keeperID(1)); k.Online {
			t.Error("keeper 1 online after its renewed session ended")
		}
	}
	if !snapshotsEqual(h.m.Snapshot(), restored.Snapshot()) {
		t.Error("restored machine diverged")
	}
}

// The coordinator's SetKeeperOnline(false) ends a chain session too, so
// the index never holds an offline keeper.
func TestSetOfflineEndsSession(t *testing.T) {
	h := newSessionHarness(t, sessionParams())
	h.ok(h.apply(time.Second, sessionTx(testChain, 2, h.now()+1000)))
	h.ok(h.apply(time.Second, onlineTx(2, false)))
	if k := h.keeper(2); k.Online || k.SessionExpiresAt != nil {
		t.Fatalf("after SetKeeperOnline(false): online %t expires %v", k.Online, k.SessionExpiresAt)
	}
	checkIndexes(t, 0, 1, h.m)
}

// Sessions decide who is eligible: committees are drawn only from keepers
// whose chain session is live.
func TestSessionsDecideEligibility(t *testing.T) {
	p := sessionParams()
	p.TotalValidators, p.Threshold = 3, 2
	h := newSessionHarness(t, p)
	now := h.now() + 1000
	h.ok(h.apply(time.Second, sessionTx(testChain, 3, now), sessionTx(testChain, 5, now), sessionTx(testChain, 7, now)))
	r := h.submit()
	got := map[string]bool{}
	for _, id := range r.Committee {
		got[id] = true
	}
	for _, i := range []int{3, 5, 7} {
		if !got[keeperID(i)] {
			t.Errorf("committee %v lacks keeper %d, one of the three with a session", r.Committee, i)
		}
	}
}

func TestSessionParamsValidated(t *testing.T) {
	for _, tc := range []struct {
		name  string
		s     *lightkeeperv1.SessionParams
		field string
	}{
		{"no ttl", &lightkeeperv1.SessionParams{Skew: durationpb.New(time.Second)}, "params.sessions.ttl"},
		{"zero skew", &lightkeeperv1.SessionParams{Ttl: durationpb.New(time.Second), Skew: durationpb.New(0)}, "params.sessions.skew"},
		{"ttl over an hour", &lightkeeperv1.SessionParams{Ttl: durationpb.New(2 * time.Hour), Skew: durationpb.New(time.Second)}, "params.sessions.ttl"},
	} {
		p := protocol.DefaultParams()
		p.Sessions = tc.s
		var pe *protocol.ParamError
		if err := protocol.ValidateParams(p); !errors.As(err, &pe) || pe.Field != tc.field {
			t.Errorf("%s: got %v, want a ParamError on %s", tc.name, err, tc.field)
		}
	}
	p := protocol.DefaultParams()
	p.Sessions = protocol.DefaultSessionParams()
	if err := protocol.ValidateParams(p); err != nil {
		t.Errorf("defaults: %v", err)
	}
}
