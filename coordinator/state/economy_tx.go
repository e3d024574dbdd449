package state

import (
	"fmt"
	"slices"

	lightkeeperv1 "github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1"
	"github.com/lightkeeper-net/lightkeeper/protocol"
	"google.golang.org/protobuf/proto"
)

// applySigned applies a client's signed transaction: signature, nonce and
// fee are checked here, then the message. Every message handler validates
// everything before it changes anything, so a failing transaction changes
// nothing (not even the nonce or the fee).
func (a *applier) applySigned(stx *lightkeeperv1.SignedTx) TxResult {
	m := a.m
	body, signer, err := protocol.VerifyTx(m.chainID, stx)
	if err != nil {
		return TxResult{Err: err, Signer: signer}
	}
	acct, exists := m.accounts[signer]
	if !exists {
		acct = &lightkeeperv1.Account{Id: signer}
	}
	fail := func(err error) TxResult { return TxResult{Err: err, Signer: signer} }
	if body.Nonce != acct.Nonce {
		return fail(fmt.Errorf("%w: nonce %d, account %s expects %d", ErrBadNonce, body.Nonce, signer, acct.Nonce))
	}
	if body.Fee < m.params.Staking.MinTxFee {
		return fail(fmt.Errorf("%w: fee %d is below staking.min_tx_fee %d", ErrInvalidRequest, body.Fee, m.params.Staking.MinTxFee))
	}
	if acct.Balance < body.Fee {
		return fail(fmt.Errorf("%w: fee %d, balance %d", ErrInsufficientFunds, body.Fee, acct.Balance))
	}
	// The fee is taken first so that handlers see the balance left to
	// spend; it is given back if the message fails. A new account is put in
	// the map so that a handler crediting the signer finds it.
	acct.Balance -= body.Fee
	if !exists {
		m.accounts[signer] = acct
	}
	var res TxResult
	switch msg := body.Msg.(type) {
	case *lightkeeperv1.TxBody_Transfer:
		res = a.transfer(signer, acct, msg.Transfer)
	case *lightkeeperv1.TxBody_Bond:
		res = a.bond(signer, acct, msg.Bond)
	case *lightkeeperv1.TxBody_Unbond:
		res = a.unbond(signer, msg.Unbond)
	case *lightkeeperv1.TxBody_CancelUnbond:
		res = a.cancelUnbond(signer, msg.CancelUnbond)
	case *lightkeeperv1.TxBody_Guarantee:
		res = a.guarantee(signer, acct, msg.Guarantee)
	case *lightkeeperv1.TxBody_Unguarantee:
		res = a.unguarantee(signer, msg.Unguarantee)
	case *lightkeeperv1.TxBody_GroupCreate:
		res = a.groupCreate(signer, msg.GroupCreate)
	case *lightkeeperv1.TxBody_GroupJoin:
		res = a.groupJoin(signer, msg.GroupJoin)
	case *lightkeeperv1.TxBody_GroupLeave:
		res = a.groupLeave(signer, msg.GroupLeave)
	case *lightkeeperv1.TxBody_Unjail:
		res = a.unjail(signer)
	case *lightkeeperv1.TxBody_Evidence:
		res = a.evidenceTx(signer, msg.Evidence)
	case *lightkeeperv1.TxBody_SubmitRound:
		res = a.paidSubmit(signer, acct, msg.SubmitRound)
	case *lightkeeperv1.TxBody_Deposit:
		res = a.deposit(signer, acct, msg.Deposit)
	default:
		res = TxResult{Err: fmt.Errorf("%w: signed.body.msg: no message set", ErrInvalidRequest)}
	}
	res.Signer = signer
	if res.Err != nil {
		acct.Balance += body.Fee
		if !exists {
			delete(m.accounts, signer)
		}
		return res
	}
	acct.Nonce++
	a.accounts[signer] = true
	m.staking.FeePot += body.Fee
	m.staking.TotalFees += body.Fee
	if body.Fee > 0 {
		a.emit(FeeCharged{AccountID: signer, Fee: body.Fee})
	}
	res.Account = proto.Clone(acct).(*lightkeeperv1.Account)
	return res
}

// credit adds to an account's balance, creating the account.
func (a *applier) credit(id string, amount uint64) {
	acct, ok := a.m.accounts[id]
	if !ok {
		acct = &lightkeeperv1.Account{Id: id}
		a.m.accounts[id] = acct
	}
	acct.Balance += amount
	a.accounts[id] = true
}

func invalid(format string, args ...any) TxResult {
	return TxResult{Err: fmt.Errorf("%w: %s", ErrInvalidRequest, fmt.Sprintf(format, args...))}
}

func failWith(sentinel error, format string, args ...any) TxResult {
	return TxResult{Err: fmt.Errorf("%w: %s", sentinel, fmt.Sprintf(format, args...))}
}

func (a *applier) transfer(signer string, acct *lightkeeperv1.Account, msg *lightkeeperv1.TransferMsg) TxResult {
	if err := protocol.CheckID("transfer.to", msg.GetTo()); err != nil {
		return TxResult{Err: err}
	}
	if msg.Amount == 0 {
		return invalid("transfer.amount: must be positive")
	}
	if msg.To == signer {
		return invalid("transfer.to: the signer itself")
	}
	if acct.Balance < msg.Amount {
		return failWith(ErrInsufficientFunds, "transfer of %d, balance %d after the fee", msg.Amount, acct.Balance)
	}
	acct.Balance -= msg.Amount
	a.credit(msg.To, msg.Amount)
	a.emit(Transferred{From: signer, To: msg.To, Amount: msg.Amount})
	return TxResult{}
}

// signerKeeper returns the signer's keeper record.
func (a *applier) signerKeeper(field, signer string) (*lightkeeperv1.Keeper, error) {
	k, ok := a.m.keepers[signer]
	if !ok {
		return nil, fmt.Errorf("%w: %s: signer %s is not a keeper (register first)", ErrUnknownKeeper, field, signer)
	}
	return k, nil
}

func (a *applier) bond(signer string, acct *lightkeeperv1.Account, msg *lightkeeperv1.BondMsg) TxResult {
	k, err := a.signerKeeper("bond", signer)
	if err != nil {
		return TxResult{Err: err}
	}
	if k.Tombstoned {
		return failWith(ErrJailed, "bond: keeper %s is tombstoned", signer)
	}
	if msg.Amount == 0 {
		return invalid("bond.amount: must be positive")
	}
	if acct.Balance < msg.Amount {
		return failWith(ErrInsufficientFunds, "bond of %d, balance %d after the fee", msg.Amount, acct.Balance)
	}
	if err := a.m.checkVoteCap("bond", candidateKeyOfKeeper(k), msg.Amount); err != nil {
		return TxResult{Err: err}
	}
	acct.Balance -= msg.Amount
	k.Stake += msg.Amount
	a.keeperStakeChanged(k)
	a.emit(Bonded{KeeperID: signer, Amount: msg.Amount, Bond: k.Stake})
	return TxResult{Keeper: proto.Clone(k).(*lightkeeperv1.Keeper)}
}

func (a *applier) keeperStakeChanged(k *lightkeeperv1.Keeper) {
	a.keepers[k.Id] = true
	a.m.stakesDirty = true
}

// newEntry creates an unbonding entry (the caller checked the count).
func (a *applier) newEntry(owner, target string, self bool, amount uint64) *lightkeeperv1.UnbondingEntry {
	st := a.m.staking
	e := &lightkeeperv1.UnbondingEntry{
		Id:            st.NextUnbondingId,
		OwnerId:       owner,
		TargetId:      target,
		SelfBond:      self,
		Amount:        amount,
		CreatedHeight: a.height,
		CreatedAt:     tsMilli(a.now),
		CompletesAt:   tsMilli(a.now + millis(a.m.params.Staking.UnbondingPeriod)),
	}
	st.NextUnbondingId++
	a.m.unbonding[e.Id] = e
	a.m.unbondingCount[owner]++
	a.m.indexUnbonding(e)
	a.unbonding[e.Id] = true
	a.emit(UnbondingStarted{Entry: proto.Clone(e).(*lightkeeperv1.UnbondingEntry)})
	return e
}

func (a *applier) entryRoom(owner string) error {
	if max := a.m.params.Staking.MaxUnbondingEntries; uint32(a.m.unbondingCount[owner]) >= max {
		return fmt.Errorf("%w: account %s already has %d unbonding entries waiting (staking.max_unbonding_entries)", ErrLimitReached, owner, max)
	}
	return nil
}

func (a *applier) unbond(signer string, msg *lightkeeperv1.UnbondMsg) TxResult {
	k, err := a.signerKeeper("unbond", signer)
	if err != nil {
		return TxResult{Err: err}
	}
	if msg.Amount == 0 {
		return invalid("unbond.amount: must be positive")
	}
	if k.Stake < msg.Amount {
		return failWith(ErrInsufficientFunds, "unbond of %d, own bond is %d", msg.Amount, k.Stake)
	}
	if err := a.entryRoom(signer); err != nil {
		return TxResult{Err: err}
	}
	k.Stake -= msg.Amount
	a.keeperStakeChanged(k)
	e := a.newEntry(signer, signer, true, msg.Amount)
	return TxResult{UnbondingID: e.Id, Keeper: proto.Clone(k).(*lightkeeperv1.Keeper)}
}

// validTarget checks that an id can receive a guarantee: a group, or a
// keeper that is not tombstoned.
func (a *applier) validTarget(field, target string) error {
	if err := protocol.CheckID(field, target); err != nil {
		return err
	}
	if _, ok := a.m.groups[target]; ok {
		return nil
	}
	k, ok := a.m.keepers[target]
	if !ok {
		return fmt.Errorf("%w: %s: %s is neither a group nor a keeper", ErrNotFound, field, target)
	}
	if k.Tombstoned {
		return fmt.Errorf("%w: %s: keeper %s is tombstoned", ErrJailed, field, target)
	}
	return nil
}

func (a *applier) cancelUnbond(signer string, msg *lightkeeperv1.CancelUnbondMsg) TxResult {
	m := a.m
	e, ok := m.unbonding[msg.EntryId]
	if !ok || e.OwnerId != signer {
		return failWith(ErrNotFound, "cancel_unbond.entry_id: %s has no waiting entry %d", signer, msg.EntryId)
	}
	if e.SelfBond {
		k := m.keepers[signer]
		if k == nil || k.Tombstoned {
			return failWith(ErrJailed, "cancel_unbond: keeper %s is tombstoned", signer)
		}
		if err := m.checkVoteCap("cancel_unbond", candidateKeyOfKeeper(k), e.Amount); err != nil {
			return TxResult{Err: err}
		}
		k.Stake += e.Amount
		a.keeperStakeChanged(k)
	} else {
		if err := a.validTarget("cancel_unbond target", e.TargetId); err != nil {
			return TxResult{Err: err}
		}
		key := guaranteeKey(signer, e.TargetId)
		g, exists := m.guarantees[key]
		if !exists && uint32(m.guaranteeCount[signer]) >= m.params.Staking.MaxGuarantees {
			return failWith(ErrLimitReached, "cancel_unbond: %s already backs %d targets (staking.max_guarantees)", signer, m.params.Staking.MaxGuarantees)
		}
		ckey, _ := m.candidateKeyOf(e.TargetId)
		if err := m.checkVoteCap("cancel_unbond", ckey, e.Amount); err != nil {
			return TxResult{Err: err}
		}
		if !exists {
			g = &lightkeeperv1.Guarantee{GuarantorId: signer, TargetId: e.TargetId}
			m.guarantees[key] = g
			m.guaranteeCount[signer]++
		}
		g.Amount += e.Amount
		g.Height = a.height
		a.guarantees[key] = true
		m.stakesDirty = true
	}
	a.removeEntry(e)
	a.emit(UnbondingCancelled{Entry: proto.Clone(e).(*lightkeeperv1.UnbondingEntry)})
	return TxResult{UnbondingID: e.Id}
}

func (a *applier) removeEntry(e *lightkeeperv1.UnbondingEntry) {
	delete(a.m.unbonding, e.Id)
	a.m.unindexUnbonding(e)
	if a.m.unbondingCount[e.OwnerId]--; a.m.unbondingCount[e.OwnerId] <= 0 {
		delete(a.m.unbondingCount, e.OwnerId)
	}
	delete(a.unbonding, e.Id)
	a.unbondingRemoved[e.Id] = true
}

func (a *applier) guarantee(signer string, acct *lightkeeperv1.Account, msg *lightkeeperv1.GuaranteeMsg) TxResult {
	m := a.m
	if err := a.validTarget("guarantee.target", msg.GetTarget()); err != nil {
		return TxResult{Err: err}
	}
	if _, isGroup := m.groups[msg.Target]; !isGroup && msg.Target == signer {
		return invalid("guarantee.target: a keeper backs itself with bond, not guarantee")
	}
	if msg.Amount == 0 {
		return invalid("guarantee.amount: must be positive")
	}
	if acct.Balance < msg.Amount {
		return failWith(ErrInsufficientFunds, "guarantee of %d, balance %d after the fee", msg.Amount, acct.Balance)
	}
	key := guaranteeKey(signer, msg.Target)
	g, exists := m.guarantees[key]
	if !exists && uint32(m.guaranteeCount[signer]) >= m.params.Staking.MaxGuarantees {
		return failWith(ErrLimitReached, "guarantee: %s already backs %d targets (staking.max_guarantees)", signer, m.params.Staking.MaxGuarantees)
	}
	ckey, _ := m.candidateKeyOf(msg.Target)
	if err := m.checkVoteCap("guarantee", ckey, msg.Amount); err != nil {
		return TxResult{Err: err}
	}
	acct.Balance -= msg.Amount
	if !exists {
		g = &lightkeeperv1.Guarantee{GuarantorId: signer, TargetId: msg.Target}
		m.guarantees[key] = g
		m.guaranteeCount[signer]++
	}
	g.Amount += msg.Amount
	g.Height = a.height
	a.guarantees[key] = true
	m.stakesDirty = true
	a.emit(Guaranteed{GuarantorID: signer, TargetID: msg.Target, Amount: msg.Amount, Total: g.Amount})
	return TxResult{}
}

func (a *applier) unguarantee(signer string, msg *lightkeeperv1.UnguaranteeMsg) TxResult {
	m := a.m
	if err := protocol.CheckID("unguarantee.target", msg.GetTarget()); err != nil {
		return TxResult{Err: err}
	}
	key := guaranteeKey(signer, msg.Target)
	g, ok := m.guarantees[key]
	if !ok {
		return failWith(ErrNotFound, "unguarantee: %s does not back %s", signer, msg.Target)
	}
	if msg.Amount == 0 {
		return invalid("unguarantee.amount: must be positive")
	}
	if g.Amount < msg.Amount {
		return failWith(ErrInsufficientFunds, "unguarantee of %d, guarantee is %d", msg.Amount, g.Amount)
	}
	if err := a.entryRoom(signer); err != nil {
		return TxResult{Err: err}
	}
	a.reduceGuarantee(key, g, msg.Amount)
	e := a.newEntry(signer, msg.Target, false, msg.Amount)
	return TxResult{UnbondingID: e.Id}
}

// reduceGuarantee takes amount off a guarantee, removing it at zero.
func (a *applier) reduceGuarantee(key string, g *lightkeeperv1.Guarantee, amount uint64) {
	g.Amount -= amount
	g.Height = a.height
	a.guarantees[key] = true
	a.m.stakesDirty = true
	if g.Amount == 0 {
		delete(a.m.guarantees, key)
		if a.m.guaranteeCount[g.GuarantorId]--; a.m.guaranteeCount[g.GuarantorId] <= 0 {
			delete(a.m.guaranteeCount, g.GuarantorId)
		}
		a.removedGuarantees[key] = proto.Clone(g).(*lightkeeperv1.Guarantee)
	}
}

func (a *applier) groupCreate(signer string, msg *lightkeeperv1.GroupCreateMsg) TxResult {
	if msg.CommissionBps > protocol.BPS {
		return invalid("group_create.commission_bps: %d is above %d", msg.CommissionBps, protocol.BPS)
	}
	g, exists := a.m.groups[signer]
	if exists {
		g.CommissionBps = msg.CommissionBps
		a.groups[signer] = true
		a.emit(GroupChanged{GroupID: signer, What: fmt.Sprintf("commission %d", msg.CommissionBps)})
		return TxResult{}
	}
	a.m.groups[signer] = &lightkeeperv1.Group{
		Id:                  signer,
		CommissionBps:       msg.CommissionBps,
		RewardMultiplierBps: protocol.BPS,
		CreatedHeight:       a.height,
	}
	a.groups[signer] = true
	a.m.stakesDirty = true
	a.emit(GroupChanged{GroupID: signer, What: fmt.Sprintf("created commission %d", msg.CommissionBps)})
	return TxResult{}
}

func (a *applier) groupJoin(signer string, msg *lightkeeperv1.GroupJoinMsg) TxResult {
	m := a.m
	g, ok := m.groups[msg.GetGroupId()]
	if !ok {
		return failWith(ErrNotFound, "group_join.group_id: no group %q", msg.GetGroupId())
	}
	if err := protocol.CheckID("group_join.keeper_id", msg.GetKeeperId()); err != nil {
		return TxResult{Err: err}
	}
	k, ok := m.keepers[msg.KeeperId]
	if !ok {
		return failWith(ErrUnknownKeeper, "group_join.keeper_id: %s", msg.KeeperId)
	}
	if k.Tombstoned {
		return failWith(ErrJailed, "group_join: keeper %s is tombstoned", k.Id)
	}
	if slices.Contains(g.Members, k.Id) {
		return invalid("group_join: %s is already a member of %s", k.Id, g.Id)
	}
	switch {
	case signer == k.Id:
		if signer != g.Id && !slices.Contains(g.Invited, k.Id) {
			return failWith(ErrUnauthorized, "group_join: %s was not invited by group %s", k.Id, g.Id)
		}
		if k.GroupId != "" {
			return invalid("group_join: %s is already a member of group %s (leave it first)", k.Id, k.GroupId)
		}
		if uint32(len(g.Members)) >= m.params.Staking.MaxGroupSize {
			return failWith(ErrLimitReached, "group_join: group %s has %d members (staking.max_group_size)", g.Id, len(g.Members))
		}
		if raw, cap := m.voteCapJoin("g"+g.Id, k.Id); raw > cap {
			return failWith(ErrLimitReached, "group_join: backing of group %s would be %d with %s, above its vote cap %d", g.Id, raw, k.Id, cap)
		}
		g.Invited = slices.DeleteFunc(g.Invited, func(id string) bool { return id == k.Id })
		g.Members = append(g.Members, k.Id)
		k.GroupId = g.Id
		a.keepers[k.Id] = true
		a.groups[g.Id] = true
		m.stakesDirty = true
		a.emit(GroupChanged{GroupID: g.Id, What: "joined", KeeperID: k.Id})
	case signer == g.Id:
		if slices.Contains(g.Invited, k.Id) {
			return invalid("group_join: %s is already invited", k.Id)
		}
		if len(g.Invited) >= int(m.params.Staking.MaxGroupSize) {
			return failWith(ErrLimitReached, "group_join: group %s has %d invitations open (staking.max_group_size)", g.Id, len(g.Invited))
		}
		g.Invited = append(g.Invited, k.Id)
		a.groups[g.Id] = true
		a.emit(GroupChanged{GroupID: g.Id, What: "invited", KeeperID: k.Id})
	default:
		return failWith(ErrUnauthorized, "group_join: the signer must be the group owner (invite) or the keeper (join)")
	}
	return TxResult{}
}

func (a *applier) groupLeave(signer string, msg *lightkeeperv1.GroupLeaveMsg) TxResult {
	m := a.m
	g, ok := m.groups[msg.GetGroupId()]
	if !ok {
		return failWith(ErrNotFound, "group_leave.group_id: no group %q", msg.GetGroupId())
	}
	kid := msg.GetKeeperId()
	if signer != kid && signer != g.Id {
		return failWith(ErrUnauthorized, "group_leave: the signer must be the keeper or the group owner")
	}
	switch {
	case slices.Contains(g.Members, kid):
		what := "left"
		if signer != kid {
			what = "removed"
		}
		a.removeMember(g, m.keepers[kid], what)
	case slices.Contains(g.Invited, kid):
		g.Invited = slices.DeleteFunc(g.Invited, func(id string) bool { return id == kid })
		a.groups[g.Id] = true
		a.emit(GroupChanged{GroupID: g.Id, What: "uninvited", KeeperID: kid})
	default:
		return failWith(ErrNotFound, "group_leave: %s is neither a member of nor invited to group %s", kid, g.Id)
	}
	return TxResult{}
}

// removeMember takes k out of g. A member leaving a penalised group takes
// the group's multiplier with it (the lower of the two, forgiven at the
// later time), so leaving is no way out of a slash.
func (a *applier) removeMember(g *lightkeeperv1.Group, k *lightkeeperv1.Keeper, what string) {
	if g.RewardMultiplierBps < k.RewardMultiplierBps {
		k.RewardMultiplierBps = g.RewardMultiplierBps
		if k.MultiplierResetAt == nil || (g.MultiplierResetAt != nil && g.MultiplierResetAt.AsTime().After(k.MultiplierResetAt.AsTime())) {
			k.MultiplierResetAt = g.MultiplierResetAt
		}
	}
	g.Members = slices.DeleteFunc(g.Members, func(id string) bool { return id == k.Id })
	k.GroupId = ""
	a.keepers[k.Id] = true
	a.groups[g.Id] = true
	a.m.stakesDirty = true
	a.emit(GroupChanged{GroupID: g.Id, What: what, KeeperID: k.Id})
}

func (a *applier) unjail(signer string) TxResult {
	k, err := a.signerKeeper("unjail", signer)
	if err != nil {
		return TxResult{Err: err}
	}
	switch {
	case k.Tombstoned:
		return failWith(ErrJailed, "unjail: keeper %s is tombstoned", signer)
	case !k.Jailed:
		return invalid("unjail: keeper %s is not jailed", signer)
	case k.JailedUntil != nil && a.now < k.JailedUntil.AsTime().UnixMilli():
		return failWith(ErrJailed, "unjail: keeper %s is jailed until %s", signer, k.JailedUntil.AsTime().UTC().Format("2006-01-02T15:04:05.000Z"))
	}
	k.Jailed = false
	k.JailedUntil = nil
	a.keeperStakeChanged(k)
	a.emit(Unjailed{KeeperID: signer})
	return TxResult{Keeper: proto.Clone(k).(*lightkeeperv1.Keeper)}
}

// checkVote checks a vote's shape and signature and returns its round id.
func (a *applier) checkVote(field string, v *lightkeeperv1.Vote) ([32]byte, error) {
	if v == nil {
		return [32]byte{}, fmt.Errorf("%w: %s: missing", ErrInvalidRequest, field)
	}
	rid, ok := protocol.ParseID(v.RoundId)
	if !ok {
		return rid, protocol.CheckID(field+".round_id", v.RoundId)
	}
	kid, ok := protocol.ParseID(v.KeeperId)
	if !ok {
		return rid, protocol.CheckID(field+".keeper_id", v.KeeperId)
	}
	kind := protocol.VoteKind(v.Kind)
	if !kind.Valid() {
		return rid, fmt.Errorf("%w: %s.kind: %v", ErrInvalidRequest, field, v.Kind)
	}
	if len(v.ResultHash) != 32 {
		return rid, fmt.Errorf("%w: %s.result_hash: %d bytes, want 32", ErrInvalidRequest, field, len(v.ResultHash))
	}
	if !a.verifyVote(rid, kid, kind, v) {
		return rid, fmt.Errorf("%w: %s.signature: not a valid signature by keeper %s", ErrBadSignature, field, v.KeeperId)
	}
	return rid, nil
}

// evidenceTx: anyone may report two conflicting signed votes of one keeper
// for one known round. The keeper is slashed, jailed and tombstoned; the
// reporter earns slash_reporter_share_bps of the slash. A keeper is
// punished for equivocation once: evidence against a tombstoned keeper is
// refused.
func (a *applier) evidenceTx(signer string, msg *lightkeeperv1.EvidenceMsg) TxResult {
	m := a.m
	rid, err := a.checkVote("evidence.first", msg.GetFirst())
	if err != nil {
		return TxResult{Err: err}
	}
	if _, err := a.checkVote("evidence.second", msg.GetSecond()); err != nil {
		return TxResult{Err: err}
	}
	v1, v2 := msg.First, msg.Second
	if v1.RoundId != v2.RoundId || v1.KeeperId != v2.KeeperId {
		return invalid("evidence: the two votes must be for the same round by the same keeper")
	}
	if sameVote(v1, v2) {
		return invalid("evidence: the two votes say the same thing")
	}
	height, known := m.roundIDs[rid]
	if !known {
		return failWith(ErrUnknownRound, "evidence: round %s", v1.RoundId)
	}
	k, ok := m.keepers[v1.KeeperId]
	if !ok {
		return failWith(ErrUnknownKeeper, "evidence: keeper %s", v1.KeeperId)
	}
	if k.Tombstoned {
		return failWith(ErrJailed, "evidence: keeper %s is already tombstoned for equivocation", k.Id)
	}
	ev := &lightkeeperv1.Evidence{
		KeeperId: k.Id,
		RoundId:  v1.RoundId,
		First:    proto.Clone(v1).(*lightkeeperv1.Vote),
		Second:   proto.Clone(v2).(*lightkeeperv1.Vote),
		Height:   a.height,
	}
	if o, open := m.rounds[v1.RoundId]; open && !o.equivocated(k.Id) {
		o.evidence = append(o.evidence, ev)
	}
	k.Equivocations++
	a.keepers[k.Id] = true
	a.res.Evidence = append(a.res.Evidence, proto.Clone(ev).(*lightkeeperv1.Evidence))
	a.emit(EquivocationDetected{Evidence: proto.Clone(ev).(*lightkeeperv1.Evidence)})
	a.punishEquivocation(k, height, signer)
	return TxResult{Keeper: proto.Clone(k).(*lightkeeperv1.Keeper)}
}

// paidSubmit opens a round paid by the signer: the round fee is
// fee_per_work_unit × the round's work units, on top of the body's fee.
func (a *applier) paidSubmit(signer string, acct *lightkeeperv1.Account, msg *lightkeeperv1.SubmitRoundMsg) TxResult {
	var roundFee uint64
	res := a.openRound(msg.GetRequest(), func(units uint64) error {
		roundFee = mulDiv(units, a.m.params.Staking.FeePerWorkUnit, 1)
		if acct.Balance < roundFee {
			return fmt.Errorf("%w: round fee %d (%d work units × %d), balance %d after the fee", ErrInsufficientFunds,
				roundFee, units, a.m.params.Staking.FeePerWorkUnit, acct.Balance)
		}
		acct.Balance -= roundFee
		a.m.staking.FeePot += roundFee
		a.m.staking.TotalFees += roundFee
		return nil
	}, nil, nil)
	if res.Err == nil && roundFee > 0 {
		a.emit(FeeCharged{AccountID: signer, RoundFee: roundFee})
	}
	return res
}
