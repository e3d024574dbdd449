package state

// Keepers: registration, online status, reputation and its daily decay.
// Who is eligible and how committees are drawn is in committee.go; stake
// and bonds belong to the economy (economy*.go).

import (
	"fmt"

	lightkeeperv1 "github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1"
	"github.com/lightkeeper-net/lightkeeper/protocol"
	"google.golang.org/protobuf/proto"
)

// setReputation clamps to the bounds and records the change.
func (a *applier) setReputation(k *lightkeeperv1.Keeper, to int64, cause string) {
	p := a.m.params
	to = min(max(to, p.ReputationMin), p.ReputationMax)
	a.keepers[k.Id] = true
	if to == k.Reputation {
		return
	}
	a.emit(ReputationChanged{KeeperID: k.Id, From: k.Reputation, To: to, Cause: cause})
	k.Reputation = to
}

// decay takes ppm/10⁶ of every reputation (0.1 % at the default) once
// per day boundary crossed (at most MaxDecayDays), to every keeper in id
// order, as one event per keeper; the fraction of a point that an integer
// cannot lose is carried to the next day (decayed), so the rate is exact
// at every level.
func (a *applier) decay() {
	m := a.m
	day := dayOf(a.now)
	if day <= m.lastDecayDay {
		return
	}
	days := min(day-m.lastDecayDay, MaxDecayDays)
	m.lastDecayDay = day
	ppm := m.params.ReputationDailyDecayPpm
	if ppm == 0 {
		return
	}
	for _, k := range m.keepersByID() {
		id := k.Id
		r, carry := decayed(k.Reputation, k.DecayCarry, days, ppm, m.params.ReputationMin)
		if carry != k.DecayCarry {
			k.DecayCarry = carry
			a.keepers[id] = true
		}
		if r != k.Reputation {
			a.setReputation(k, r, CauseDecay)
		}
	}
}

func (a *applier) registerKeeper(tx *lightkeeperv1.RegisterKeeperTx) TxResult {
	kid, ok := protocol.ParseID(tx.GetKeeperId())
	if !ok {
		return TxResult{Err: protocol.CheckID("register_keeper.keeper_id", tx.GetKeeperId())}
	}
	if !a.verifySig(kid[:], protocol.RegisterSignBytes(a.m.chainID, kid[:]), tx.GetSignature()) {
		return TxResult{Err: fmt.Errorf("%w: register_keeper.signature: not a valid proof of possession of key %s on chain %q", ErrBadSignature, tx.KeeperId, a.m.chainID)}
	}
	k, exists := a.m.keepers[tx.KeeperId]
	if !exists {
		// A new key has no stake, so the stake gate keeps it off
		// committees until stake is bonded and it is elected.
		k = newKeeper(tx.KeeperId, 0, a.m.params)
		a.m.addKeeper(k)
		// Its stake limit comes from its initial capacity; without this a
		// restored machine (which recomputes every limit) would differ.
		a.m.stakesDirty = true
	}
	if !k.Registered {
		k.Registered = true
		a.onlineChanged(k) // downtime is counted from the registration
		a.keepers[k.Id] = true
		a.emit(KeeperRegistered{KeeperID: k.Id})
	}
	return TxResult{Keeper: proto.Clone(k).(*lightkeeperv1.Keeper)}
}

func (a *applier) setKeeperOnline(tx *lightkeeperv1.SetKeeperOnlineTx) TxResult {
	if err := protocol.CheckID("set_keeper_online.keeper_id", tx.GetKeeperId()); err != nil {
		return TxResult{Err: err}
	}
	k, ok := a.m.keepers[tx.KeeperId]
	if !ok {
		return TxResult{Err: fmt.Errorf("%w: set_keeper_online.keeper_id: %s", ErrUnknownKeeper, tx.KeeperId)}
	}
	if !tx.Online && k.SessionExpiresAt != nil {
		// The coordinator saw the keeper go: its chain session ends too.
		a.m.unindexSession(k)
		k.SessionExpiresAt = nil
		a.keepers[k.Id] = true
	}
	if k.Online != tx.Online {
		k.Online = tx.Online
		a.onlineChanged(k)
		a.keepers[k.Id] = true
		a.emit(KeeperOnlineChanged{KeeperID: k.Id, Online: k.Online})
	}
	return TxResult{Keeper: proto.Clone(k).(*lightkeeperv1.Keeper)}
}

// Keeper returns a copy of one keeper.
func (m *Machine) Keeper(id string) (*lightkeeperv1.Keeper, bool) {
	k, ok := m.keepers[id]
	if !ok {
		return nil, false
	}
	return proto.Clone(k).(*lightkeeperv1.Keeper), true
}

// Keepers returns copies of all keepers, sorted by id.
func (m *Machine) Keepers() []*lightkeeperv1.Keeper {
	out := make([]*lightkeeperv1.Keeper, 0, len(m.keepers))
	for _, k := range m.keepersByID() {
		out = append(out, proto.Clone(k).(*lightkeeperv1.Keeper))
	}
	return out
}

// keeperSession applies a keeper's own signed statement of presence
// (params.sessions; docs/design.md, "Keeper sessions as chain state"):
// the keeper is online until the block time plus the session ttl, unless
// a later session renews it. The signed time must be within the skew of
// the block time and later than the last accepted one, so a session
// signature is taken once and cannot be held back and replayed later.
func (a *applier) keeperSession(tx *lightkeeperv1.KeeperSessionTx) TxResult {
	sp := a.m.params.GetSessions()
	if sp == nil {
		return TxResult{Err: fmt.Errorf("%w: keeper_session: this chain keeps no keeper sessions (its genesis has no params.sessions); its coordinator's own sessions set online status", ErrInvalidRequest)}
	}
	kid, ok := protocol.ParseID(tx.GetKeeperId())
	if !ok {
		return TxResult{Err: protocol.CheckID("keeper_session.keeper_id", tx.GetKeeperId())}
	}
	k, ok := a.m.keepers[tx.KeeperId]
	if !ok || !k.Registered {
		return TxResult{Err: fmt.Errorf("%w: keeper_session.keeper_id: %s is not a registered keeper", ErrUnknownKeeper, tx.KeeperId)}
	}
	skew := sp.GetSkew().AsDuration().Milliseconds()
	if d := tx.UnixMilli - a.now; d > skew || d < -skew {
		return TxResult{Err: fmt.Errorf("%w: keeper_session.unix_milli %d is %d ms from the block time %d (allowed %d)", ErrInvalidRequest, tx.UnixMilli, d, a.now, skew)}
	}
	if tx.UnixMilli <= k.SessionUnixMilli {
		return TxResult{Err: fmt.Errorf("%w: keeper_session.unix_milli %d is not after keeper %s's last accepted session (%d)", ErrBadNonce, tx.UnixMilli, tx.KeeperId, k.SessionUnixMilli)}
	}
	if !a.verifySig(kid[:], protocol.SessionSignBytes(a.m.chainID, kid[:], tx.UnixMilli), tx.GetSignature()) {
		return TxResult{Err: fmt.Errorf("%w: keeper_session.signature: not keeper %s's session signature at %d on chain %q", ErrBadSignature, tx.KeeperId, tx.UnixMilli, a.m.chainID)}
	}
	a.m.unindexSession(k)
	k.SessionUnixMilli = tx.UnixMilli
	k.SessionExpiresAt = tsMilli(min(a.now+sp.GetTtl().AsDuration().Milliseconds(), MaxTimeUnixMilli))
	a.m.indexSession(k)
	a.keepers[k.Id] = true
	if !k.Online {
		k.Online = true
		a.onlineChanged(k)
		a.emit(KeeperOnlineChanged{KeeperID: k.Id, Online: true})
	}
	return TxResult{Keeper: proto.Clone(k).(*lightkeeperv1.Keeper)}
}

// expireSessions takes offline, in (expiry, id) order, the keepers whose
// chain session ended at or before the block time.
func (a *applier) expireSessions() {
	for _, id := range a.m.takeSessionsDue(a.now) {
		k := a.m.keepers[id]
		k.SessionExpiresAt = nil
		a.keepers[id] = true
		if k.Online {
			k.Online = false
			a.onlineChanged(k)
			a.emit(KeeperOnlineChanged{KeeperID: id, Online: false})
		}
	}
}
