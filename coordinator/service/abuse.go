package service

import (
	"crypto/ed25519"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"connectrpc.com/connect"

	"github.com/lightkeeper-net/lightkeeper/coordinator/state"
	lightkeeperv1 "github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1"
	"github.com/lightkeeper-net/lightkeeper/protocol"
)

// The abuse limits of docs/limits.md that are not plain request sizes: a
// budget of refused votes per address, a ceiling on open streams per
// keeper, per address and overall, a byte budget for registrations per
// address, and the per-keeper session counter that refuses replayed
// session signatures.

// hostOf is the client address a limit is keyed on: the remote host,
// without the port.
func hostOf(addr string) string {
	if host, _, err := net.SplitHostPort(addr); err == nil {
		return host
	}
	return addr
}

// debtBuckets is a token bucket per client address that may be overdrawn:
// a request is let in while its bucket is positive and then pays for what
// it turned out to cost, so one large request pays its whole cost as
// waiting time before the next one.
type debtBuckets struct {
	mu      sync.Mutex
	rate    float64 // tokens per second
	burst   float64
	buckets map[string]*debt
	sweep   time.Time
}

type debt struct {
	tokens float64
	last   time.Time
}

func newDebtBuckets(rate, burst float64) *debtBuckets {
	return &debtBuckets{rate: rate, burst: burst, buckets: make(map[string]*debt)}
}

// get returns the refilled bucket of a host (mu held). Full buckets idle for
// ten minutes are dropped, so the map holds only recent debtors.
func (b *debtBuckets) get(host string, now time.Time) *debt {
	if now.Sub(b.sweep) > time.Minute {
		for k, d := range b.buckets {
			if now.Sub(d.last) > 10*time.Minute && d.tokens+now.Sub(d.last).Seconds()*b.rate >= b.burst {
				delete(b.buckets, k)
			}
		}
		b.sweep = now
	}
	d := b.buckets[host]
	if d == nil {
		d = &debt{tokens: b.burst, last: now}
		b.buckets[host] = d
	}
	if dt := now.Sub(d.last).Seconds(); dt > 0 {
		d.tokens = min(b.burst, d.tokens+dt*b.rate)
		d.last = now
	}
	return d
}

// ok reports whether the address may make a request now.
func (b *debtBuckets) ok(addr string, now time.Time) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.get(hostOf(addr), now).tokens > 0
}

// spend charges the address n tokens.
func (b *debtBuckets) spend(addr string, n float64, now time.Time) {
	if n <= 0 {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.get(hostOf(addr), now).tokens -= n
}

// streamGate counts the calls that stay open — Subscribe and
// WatchRound/WatchWithdrawals streams, PullTasks calls waiting for tasks —
// per keeper, per client address and overall.
type streamGate struct {
	mu                          sync.Mutex
	perKeeper, perAddress, most int
	keepers, addresses          map[string]int
	open                        int
}

func newStreamGate(perKeeper, perAddress, most int) *streamGate {
	return &streamGate{perKeeper: perKeeper, perAddress: perAddress, most: most,
		keepers: make(map[string]int), addresses: make(map[string]int)}
}

// acquire admits one open call from addr, for keeperID when it is a
// keeper's session ("" otherwise), or says which limit it would break.
// The caller calls release when the call ends.
func (g *streamGate) acquire(addr, keeperID string) (release func(), err error) {
	host := hostOf(addr)
	g.mu.Lock()
	defer g.mu.Unlock()
	switch {
	case g.open >= g.most:
		return nil, connect.NewError(connect.CodeResourceExhausted, fmt.Errorf("%d streams are open, the limit is %d (limits.max_streams): retry later", g.open, g.most))
	case g.addresses[host] >= g.perAddress:
		return nil, connect.NewError(connect.CodeResourceExhausted, fmt.Errorf("%d streams are open from %s, the limit is %d (limits.max_streams_per_address)", g.addresses[host], host, g.perAddress))
	case keeperID != "" && g.keepers[keeperID] >= g.perKeeper:
		return nil, connect.NewError(connect.CodeResourceExhausted, fmt.Errorf("keeper %s has %d sessions open (Subscribe streams and waiting PullTasks calls), the limit is %d (limits.max_sessions_per_keeper)", keeperID, g.keepers[keeperID], g.perKeeper))
	}
	g.open++
	g.addresses[host]++
	if keeperID != "" {
		g.keepers[keeperID]++
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			g.mu.Lock()
			defer g.mu.Unlock()
			g.open--
			if g.addresses[host]--; g.addresses[host] == 0 {
				delete(g.addresses, host)
			}
			if keeperID != "" {
				if g.keepers[keeperID]--; g.keepers[keeperID] == 0 {
					delete(g.keepers, keeperID)
				}
			}
		})
	}, nil
}

// sessionClock is the session counter of every keeper: a session
// signature is accepted only if its time (the signed unix milliseconds)
// is later than that of every session the keeper opened before, and than
// the coordinator's start. A signed session message replayed within the
// allowed clock skew therefore opens nothing. It holds one number per
// registered keeper that opened a session.
type sessionClock struct {
	mu    sync.Mutex
	floor int64 // the coordinator's start, unix ms
	last  map[string]int64
}

func newSessionClock(start time.Time) *sessionClock {
	return &sessionClock{floor: start.UnixMilli(), last: make(map[string]int64)}
}

// advance records a session opened at ms, or refuses it as a replay.
func (c *sessionClock) advance(keeperID string, ms int64) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if ms < c.floor {
		return connect.NewError(connect.CodePermissionDenied, fmt.Errorf("auth.time %s is not after the coordinator's start (%s): a session signed before it cannot be told from a replay; sign a fresh one",
			time.UnixMilli(ms).UTC().Format(time.RFC3339Nano), time.UnixMilli(c.floor).UTC().Format(time.RFC3339Nano)))
	}
	if last, ok := c.last[keeperID]; ok && ms <= last {
		return connect.NewError(connect.CodePermissionDenied, fmt.Errorf("auth.time %s is not after keeper %s's last session (%s): a session signature is good once (replayed?); sign each session with a later time",
			time.UnixMilli(ms).UTC().Format(time.RFC3339Nano), keeperID, time.UnixMilli(last).UTC().Format(time.RFC3339Nano)))
	}
	c.last[keeperID] = ms
	return nil
}

// countRegisteredBytes sums the stored programs and verifying keys, for
// limits.max_registered_bytes.
func (n *Node) countRegisteredBytes() error {
	ps, err := n.store.Programs()
	if err != nil {
		return err
	}
	vks, err := n.store.VerifyingKeys()
	if err != nil {
		return err
	}
	var total int64
	for _, p := range ps {
		total += int64(p.GetSize())
	}
	for _, vk := range vks {
		total += int64(len(vk.GetKey()))
	}
	n.registeredBytes.Store(total)
	return nil
}

// admitRegistration applies the registration byte limits to a new
// program or verifying key of size bytes from addr, and charges addr.
func (n *Node) admitRegistration(addr string, size int) error {
	lim := n.cfg.Limits
	if stored := n.registeredBytes.Load(); stored+int64(size) > lim.MaxRegisteredBytes {
		n.metrics.rateLimited.Inc()
		return connect.NewError(connect.CodeResourceExhausted, fmt.Errorf("programs and verifying keys take %d bytes, %d more would pass the limit of %d (limits.max_registered_bytes)", stored, size, lim.MaxRegisteredBytes))
	}
	now := n.now()
	if !n.regBytes.ok(addr, now) {
		n.metrics.rateLimited.Inc()
		return connect.NewError(connect.CodeResourceExhausted, fmt.Errorf("this address registered more than its %d bytes an hour of programs and verifying keys (limits.registration_bytes_per_hour): retry later", lim.RegistrationBytesPerHour))
	}
	n.regBytes.spend(addr, float64(size), now)
	return nil
}

// admitKeeper applies the registration limits to a keeper registration
// from addr. A key registered before is answered here, once its proof of
// possession verifies, with no block (done): a replayed registration costs
// a signature check off the block producer and nothing in the ledger. A
// genesis key registers freely. A new key creates a keeper record for
// good, so it goes through the per-address rate limit of submissions
// (limits.submit_rate) and needs either a balance that can pay
// staking.min_self_bond or room under limits.max_unbonded_keepers.
func (n *Node) admitKeeper(addr, id string, sig []byte) (k *lightkeeperv1.Keeper, done bool, err error) {
	var known bool
	var balance, minBond uint64
	unbonded := 0
	if err := n.readMachine(func(m *state.Machine) {
		if k, known = m.Keeper(id); known {
			return
		}
		if a, ok := m.Account(id); ok {
			balance = a.GetBalance()
		}
		minBond = m.Params().GetStaking().GetMinSelfBond()
		unbonded = m.UnbondedKeepers()
	}); err != nil {
		return nil, false, toConnect(err)
	}
	switch {
	case known && k.GetRegistered():
		pub, _ := hex.DecodeString(id)
		if !protocol.VerifyRegistration(n.chainID, ed25519.PublicKey(pub), sig) {
			return nil, false, connect.NewError(connect.CodePermissionDenied, fmt.Errorf("signature: not a valid proof of possession of key %s on chain %q", id, n.chainID))
		}
		return k, true, nil
	case known:
		return nil, false, nil
	}
	if !n.limiter.allow(addr, n.now()) {
		n.metrics.rateLimited.Inc()
		return nil, false, connect.NewError(connect.CodeResourceExhausted, errors.New("rate limit: too many keeper registrations from this address (limits.submit_rate)"))
	}
	if (minBond > 0 && balance >= minBond) || unbonded < n.cfg.Limits.MaxUnbondedKeepers {
		return nil, false, nil
	}
	n.metrics.rateLimited.Inc()
	return nil, false, connect.NewError(connect.CodeResourceExhausted, fmt.Errorf("%d registered keepers have no bond, the limit is %d (limits.max_unbonded_keepers): a new key registers once its account holds staking.min_self_bond (%d; it has %d)",
		unbonded, n.cfg.Limits.MaxUnbondedKeepers, minBond, balance))
}
