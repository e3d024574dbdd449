package state

// The kernel: the Machine, its Result and Snapshot, genesis (New) and
// restart (Restore). changes.go turns a Result into the store's change
// set; each concern's records live in its own files (rounds.go,
// keepers.go, economy*.go, pool.go, compute.go, challenge.go).

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"time"

	"github.com/lightkeeper-net/lightkeeper/coordinator/ledger"
	lightkeeperv1 "github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1"
	"github.com/lightkeeper-net/lightkeeper/protocol"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"
)

const (
	// MillisPerDay is the length of a decay day.
	MillisPerDay = 86_400_000
	// MaxDecayDays bounds the days of decay applied by one block (a chain
	// idle for longer decays by this many days only).
	MaxDecayDays = 3660
	// MaxTimeUnixMilli is the latest block time: a deadline must still be a
	// valid google.protobuf.Timestamp (before year 10000).
	MaxTimeUnixMilli = 253_402_300_799_999 - int64(protocol.MaxVerificationTimeout/time.Millisecond)
	// MinTimeUnixMilli is the earliest genesis time (year 1).
	MinTimeUnixMilli = -62_135_596_800_000
	// MaxClientNonceLen bounds RoundRequest.client_nonce.
	MaxClientNonceLen = 256
)

// Machine is the coordinator's deterministic state machine. It is not safe
// for concurrent use; the service serializes calls.
type Machine struct {
	chainID      string
	params       *lightkeeperv1.ConsensusParams
	paramsHash   []byte // protocol.ParamsHash(chainID, params), in every certificate
	timeout      int64  // verification timeout, ms
	head         *lightkeeperv1.BlockHeader
	headHash     []byte
	headTime     int64 // head.time in unix ms
	lastDecayDay int64

	keepers  map[string]*lightkeeperv1.Keeper
	rounds   map[string]*openRound // VOTING or DECIDED
	vks      map[string]*lightkeeperv1.VerifyingKey
	programs map[string]*lightkeeperv1.Program // metadata, without module bytes
	roundIDs map[[32]byte]uint64               // every round ever created → submitted height
	// The hash of every eligible list stored (ledger.EligibleLists): a
	// round drawn from a list not in it puts the list in its block's
	// change set.
	eligibleStored map[[32]byte]struct{}

	// Derived indexes (index.go).
	keeperOrder   []*lightkeeperv1.Keeper // every keeper, by id
	deadlines     []*openRound            // every open round, by (deadline, id)
	completions   []unbondingDue          // every unbonding entry, by (completes_at, id)
	sessionEnds   []sessionDue            // every chain session, by (expires_at, id)
	eligibleCache *eligibleList

	economy        // accounts, bonds, guarantees, groups, epochs (economy.go)
	pool    pool   // the shielded pool (pool.go)
	sealed  sealed // sealed challenges awaiting their reveal (reveal.go)
}

// Result is what New or ApplyBlock produced: the block and every record
// the store must persist, atomically, before anything is acknowledged.
type Result struct {
	Block *lightkeeperv1.Block
	Meta  *lightkeeperv1.StateMeta
	// One per input transaction, in order.
	TxResults []TxResult
	// In the order they happened.
	Events []Event
	// Every round created or changed in this block, in its final state,
	// sorted by id. A round with phase CLOSED has left the machine.
	Rounds []*lightkeeperv1.Round
	// Every keeper changed in this block (all keepers for genesis), sorted
	// by id.
	Keepers []*lightkeeperv1.Keeper
	// Verifying keys registered in this block, with their key bytes.
	VerifyingKeys []*lightkeeperv1.VerifyingKey
	// Programs registered in this block, with their module bytes.
	Programs []*lightkeeperv1.Program
	// Equivocation evidence found in this block (also in Block.Evidence).
	Evidence []*lightkeeperv1.Evidence
	// Nullifiers spent by withdrawals paid in this block, in the order
	// they were paid (Index is the position here).
	SpentNullifiers []*lightkeeperv1.SpentNullifier
	// Leaves deposits appended to the pool's tree, in order.
	PoolLeaves []*lightkeeperv1.PoolLeaf
	// Eligible lists that rounds of this block were drawn from and that
	// were not stored before, in the order first used. Rounds and
	// certificates carry only their hash.
	EligibleLists []*lightkeeperv1.EligibleList
	// Sealed challenges (reveal.go): closed sealed rounds put awaiting
	// their reveal or changed by it, sorted by round id; the ids whose
	// reveal window ended, sorted; challengers' reveal quotas changed,
	// sorted by key.
	PendingReveals        []*lightkeeperv1.PendingReveal
	PendingRevealsRemoved []string
	ChallengerQuotas      []*lightkeeperv1.ChallengerQuota

	// The economy (docs/design.md §9). Accounts, groups and unbonding entries
	// created or changed in this block, sorted by id; guarantees created,
	// changed or removed (Amount 0: delete it), sorted by (guarantor,
	// target); unbonding entries paid out, cancelled or slashed to zero
	// (delete them); the global staking state (every block, genesis too);
	// the statements of the epochs that ended in this block.
	Accounts         []*lightkeeperv1.Account
	Guarantees       []*lightkeeperv1.Guarantee
	Groups           []*lightkeeperv1.Group
	Unbonding        []*lightkeeperv1.UnbondingEntry
	UnbondingRemoved []uint64
	Staking          *lightkeeperv1.StakingState
	Epochs           []*lightkeeperv1.EpochRecord

	// Changes is every record above (and the genesis, in New's Result) as
	// the puts and deletes the store writes in one atomic batch
	// (changes.go).
	Changes ledger.ChangeSet
}

// TxResult is the outcome of one transaction. Err is nil on success and
// otherwise wraps one of the package's sentinel errors. The other fields
// are set by transaction kind:
//
//   - SubmitRound: protocol.RoundID and Round (the new round); on ErrRoundExists
//     protocol.RoundID names the existing round, and Round is set if it is still
//     open (otherwise the service loads it from the store).
//   - CastVote: protocol.RoundID (when well formed) and VoteStatus (always; Err is
//     nil for ACCEPTED and DUPLICATE).
//   - RegisterVerifyingKey: VerifyingKey (metadata, without key bytes),
//     also when it was already registered.
//   - RegisterProgram: Program (metadata, without module bytes), also when
//     it was already registered.
//   - RegisterKeeper, SetKeeperOnline: Keeper.
//   - Signed: Signer (once the signature was checked), Account (the
//     signer's account after a successful transaction), UnbondingID
//     (unbond, unguarantee, cancel_unbond), Keeper (bond, unbond, unjail,
//     evidence), protocol.RoundID and Round (submit_round).
type TxResult struct {
	Err          error
	RoundID      string
	Round        *lightkeeperv1.Round
	VoteStatus   lightkeeperv1.VoteStatus
	VerifyingKey *lightkeeperv1.VerifyingKey
	Program      *lightkeeperv1.Program
	Keeper       *lightkeeperv1.Keeper
	Signer       string
	Account      *lightkeeperv1.Account
	UnbondingID  uint64
	// The leaf a deposit appended.
	PoolLeaf *lightkeeperv1.PoolLeaf
	// Height of the block the transaction was applied in (every kind).
	Height uint64
}

// Snapshot is the machine's complete state, as the store holds it.
type Snapshot struct {
	Meta    *lightkeeperv1.StateMeta
	Keepers []*lightkeeperv1.Keeper
	// Rounds in phase VOTING or DECIDED.
	OpenRounds []*lightkeeperv1.Round
	// Key bytes may be nil: the machine needs only the metadata.
	VerifyingKeys []*lightkeeperv1.VerifyingKey
	// Registered programs; module bytes may be nil (the machine needs only
	// the ids).
	Programs []*lightkeeperv1.Program
	// Every round ever created (open or closed).
	RoundIDs []string
	// Optional, parallel to RoundIDs: the height each round was submitted
	// at (the offence height of equivocation evidence about it). A missing
	// height counts as 0: every waiting unbonding entry is then slashable.
	RoundHeights []uint64
	// Evidence recorded for rounds that are still open. Optional: it keeps
	// a member that equivocates again after a restart from producing a
	// second Evidence for the same round.
	Evidence []*lightkeeperv1.Evidence

	// The economy (required): the global staking state, and every
	// account, guarantee, group and waiting unbonding entry.
	Staking    *lightkeeperv1.StakingState
	Accounts   []*lightkeeperv1.Account
	Guarantees []*lightkeeperv1.Guarantee
	Groups     []*lightkeeperv1.Group
	Unbonding  []*lightkeeperv1.UnbondingEntry

	// Every nullifier spent by a withdrawal (32 bytes each); the pool's
	// tree and balance are in Meta.Pool.
	SpentNullifiers [][]byte

	// The hash of every stored eligible list (32 bytes each). Optional: a
	// list missing here is put again (the same record under the same key)
	// the next time a round uses it.
	EligibleLists [][]byte

	// Closed sealed rounds whose reveal window is open, and each
	// challenger's reveal quota (chains with params.challenges).
	PendingReveals   []*lightkeeperv1.PendingReveal
	ChallengerQuotas []*lightkeeperv1.ChallengerQuota
}

// New creates the machine at genesis under the chain parameters the
// genesis carries (genesis.params; absent means protocol.DefaultParams(),
// for tests and tools: a node refuses a genesis file without them). The
// Result holds block 0 (header time = genesis_time truncated to the
// millisecond, previous_hash and results_hash 32 zero bytes,
// transactions_hash = SHA-256 of the deterministic encoding of genesis), the
// meta and every genesis keeper (stake from the genesis as its own bond,
// initial reputation and capacity, not registered, offline), the genesis
// accounts and the staking state with the genesis active set (elected as
// every epoch's, with the genesis hash as seed).
func New(genesis *lightkeeperv1.Genesis) (*Machine, *Result, error) {
	if genesis == nil {
		return nil, nil, fmt.Errorf("%w: missing", ErrInvalidGenesis)
	}
	params := genesis.GetParams()
	if params == nil {
		params = protocol.DefaultParams()
	}
	if err := protocol.ValidateParams(params); err != nil {
		return nil, nil, err
	}
	if err := checkChainID(genesis.ChainId); err != nil {
		return nil, nil, fmt.Errorf("%w: chain_id: %v", ErrInvalidGenesis, err)
	}
	if genesis.GenesisTime == nil {
		return nil, nil, fmt.Errorf("%w: genesis_time: missing", ErrInvalidGenesis)
	}
	if err := genesis.GenesisTime.CheckValid(); err != nil {
		return nil, nil, fmt.Errorf("%w: genesis_time: %v", ErrInvalidGenesis, err)
	}
	t := genesis.GenesisTime.AsTime().UnixMilli()
	if t < MinTimeUnixMilli || t > MaxTimeUnixMilli {
		return nil, nil, fmt.Errorf("%w: genesis_time: out of range", ErrInvalidGenesis)
	}
	m := &Machine{
		chainID:  genesis.ChainId,
		params:   proto.Clone(params).(*lightkeeperv1.ConsensusParams),
		timeout:  timeoutMillis(params),
		keepers:  make(map[string]*lightkeeperv1.Keeper, len(genesis.Keepers)),
		rounds:   make(map[string]*openRound),
		sealed:   newSealed(),
		vks:      make(map[string]*lightkeeperv1.VerifyingKey),
		programs: make(map[string]*lightkeeperv1.Program),
		roundIDs: make(map[[32]byte]uint64),
		economy:  newEconomy(),
		pool:     newPool(),

		eligibleStored: make(map[[32]byte]struct{}),
	}
	m.paramsHash = protocol.ParamsHash(m.chainID, m.params)
	for i, gk := range genesis.Keepers {
		if !protocol.ValidID(gk.GetKeeperId()) {
			return nil, nil, fmt.Errorf("%w: keepers[%d].keeper_id: want 64 lowercase hex digits, got %q", ErrInvalidGenesis, i, gk.GetKeeperId())
		}
		if _, dup := m.keepers[gk.KeeperId]; dup {
			return nil, nil, fmt.Errorf("%w: keepers[%d].keeper_id: duplicate %s", ErrInvalidGenesis, i, gk.KeeperId)
		}
		m.addKeeper(newKeeper(gk.KeeperId, gk.Stake, params))
	}
	if err := m.initGenesis(genesis, t); err != nil {
		return nil, nil, err
	}
	poolKey, err := m.initPool(genesis)
	if err != nil {
		return nil, nil, err
	}
	gb, err := proto.MarshalOptions{Deterministic: true}.Marshal(genesis)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %v", ErrInvalidGenesis, err)
	}
	txHash := sha256.Sum256(gb)
	m.head = &lightkeeperv1.BlockHeader{
		Height:           0,
		Time:             timestamppb.New(time.UnixMilli(t)),
		PreviousHash:     make([]byte, 32),
		TransactionsHash: txHash[:],
		ResultsHash:      make([]byte, 32),
	}
	m.headHash = protocol.BlockHash(m.head)
	m.headTime = t
	m.lastDecayDay = dayOf(t)
	newApplier(m, 0, t, txHash[:]).elect()

	res := &Result{
		Block: &lightkeeperv1.Block{
			Header: cloneHeader(m.head),
			Hash:   bytes.Clone(m.headHash),
		},
		Meta:     m.meta(),
		Keepers:  m.Keepers(),
		Accounts: m.Accounts(),
		Staking:  m.Staking(),
	}
	if poolKey != nil {
		res.VerifyingKeys = append(res.VerifyingKeys, poolKey)
	}
	res.Changes = res.changeSet(proto.Clone(genesis).(*lightkeeperv1.Genesis))
	return m, res, nil
}

func checkChainID(s string) error {
	if s == "" || len(s) > protocol.MaxChainIDLen {
		return fmt.Errorf("must be 1..%d characters, got %d", protocol.MaxChainIDLen, len(s))
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.') {
			return fmt.Errorf("%q: only letters, digits, '-', '_' and '.' are allowed", s)
		}
	}
	return nil
}

// dayOf is the day number of a unix-ms time (floor division).
func dayOf(ms int64) int64 {
	d := ms / MillisPerDay
	if ms%MillisPerDay < 0 {
		d--
	}
	return d
}

func tsMilli(ms int64) *timestamppb.Timestamp { return timestamppb.New(time.UnixMilli(ms)) }

func cloneHeader(h *lightkeeperv1.BlockHeader) *lightkeeperv1.BlockHeader {
	return proto.Clone(h).(*lightkeeperv1.BlockHeader)
}

func (m *Machine) meta() *lightkeeperv1.StateMeta {
	return &lightkeeperv1.StateMeta{
		ChainId:      m.chainID,
		Params:       m.Params(),
		Head:         cloneHeader(m.head),
		HeadHash:     bytes.Clone(m.headHash),
		LastDecayDay: m.lastDecayDay,
		Pool:         m.poolMeta(),
	}
}

// poolMeta is nil for a disabled, empty pool, so chains without a pool
// keep their meta unchanged.
func (m *Machine) poolMeta() *lightkeeperv1.ShieldedPool {
	if m.pool.vkID == "" && m.pool.tree.Size() == 0 && m.pool.balance == 0 {
		return nil
	}
	return m.pool.meta()
}

// Restore rebuilds a machine from a Snapshot (as persisted from the Results
// of New and ApplyBlock). It checks the snapshot's consistency: valid
// params and ids, head_hash = protocol.BlockHash(head), open rounds whose committee
// members exist and whose votes come from distinct members.
func Restore(s Snapshot) (*Machine, error) {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", ErrInvalidSnapshot, fmt.Sprintf(format, args...))
	}
	meta := s.Meta
	if meta == nil || meta.Head == nil || meta.Head.Time == nil {
		return nil, bad("meta: missing or without head")
	}
	if err := protocol.ValidateParams(meta.Params); err != nil {
		return nil, bad("meta.params: %v", err)
	}
	if err := checkChainID(meta.ChainId); err != nil {
		return nil, bad("meta.chain_id: %v", err)
	}
	if !bytes.Equal(protocol.BlockHash(meta.Head), meta.HeadHash) {
		return nil, bad("meta.head_hash does not match the head header")
	}
	m := &Machine{
		chainID:      meta.ChainId,
		params:       proto.Clone(meta.Params).(*lightkeeperv1.ConsensusParams),
		timeout:      timeoutMillis(meta.Params),
		head:         cloneHeader(meta.Head),
		headHash:     bytes.Clone(meta.HeadHash),
		headTime:     meta.Head.Time.AsTime().UnixMilli(),
		lastDecayDay: meta.LastDecayDay,
		keepers:      make(map[string]*lightkeeperv1.Keeper, len(s.Keepers)),
		rounds:       make(map[string]*openRound, len(s.OpenRounds)),
		vks:          make(map[string]*lightkeeperv1.VerifyingKey, len(s.VerifyingKeys)),
		programs:     make(map[string]*lightkeeperv1.Program, len(s.Programs)),
		roundIDs:     make(map[[32]byte]uint64, len(s.RoundIDs)),
		economy:      newEconomy(),

		eligibleStored: make(map[[32]byte]struct{}, len(s.EligibleLists)),
	}
	for i, h := range s.EligibleLists {
		if len(h) != 32 {
			return nil, bad("eligible_lists[%d]: %d bytes, want 32", i, len(h))
		}
		m.eligibleStored[[32]byte(h)] = struct{}{}
	}
	m.paramsHash = protocol.ParamsHash(m.chainID, m.params)
	for i, k := range s.Keepers {
		if !protocol.ValidID(k.GetId()) {
			return nil, bad("keepers[%d].id: %q", i, k.GetId())
		}
		if _, dup := m.keepers[k.Id]; dup {
			return nil, bad("keepers[%d].id: duplicate %s", i, k.Id)
		}
		c := proto.Clone(k).(*lightkeeperv1.Keeper)
		m.addKeeper(c)
		m.indexSession(c)
	}
	for i, vk := range s.VerifyingKeys {
		if !protocol.ValidID(vk.GetId()) {
			return nil, bad("verifying_keys[%d].id: %q", i, vk.GetId())
		}
		c := proto.Clone(vk).(*lightkeeperv1.VerifyingKey)
		c.Key = nil
		m.vks[vk.Id] = c
	}
	for i, p := range s.Programs {
		if !protocol.ValidID(p.GetId()) {
			return nil, bad("programs[%d].id: %q", i, p.GetId())
		}
		c := proto.Clone(p).(*lightkeeperv1.Program)
		c.Module = nil
		m.programs[p.Id] = c
	}
	pl, perr := restorePool(meta.Pool, s.SpentNullifiers)
	if perr != nil {
		return nil, bad("%v", perr)
	}
	if pl.vkID != "" {
		if _, ok := m.vks[pl.vkID]; !ok {
			return nil, bad("meta.pool.verifying_key_id: %s is not a verifying key", pl.vkID)
		}
	}
	m.pool = pl
	for i, id := range s.RoundIDs {
		rid, ok := protocol.ParseID(id)
		if !ok {
			return nil, bad("round_ids[%d]: %q", i, id)
		}
		var h uint64
		if i < len(s.RoundHeights) {
			h = s.RoundHeights[i]
		}
		m.roundIDs[rid] = h
	}
	for i, r := range s.OpenRounds {
		if err := m.checkOpenRound(r); err != nil {
			return nil, bad("open_rounds[%d]: %v", i, err)
		}
		if _, dup := m.rounds[r.Id]; dup {
			return nil, bad("open_rounds[%d]: duplicate %s", i, r.Id)
		}
		o := newOpenRound(cloneRound(r))
		m.rounds[r.Id] = o
		m.deadlines = append(m.deadlines, o)
		m.roundIDs[o.rid] = r.SubmittedHeight
	}
	slices.SortFunc(m.deadlines, byDeadline)
	for i, e := range s.Evidence {
		o, ok := m.rounds[e.GetRoundId()]
		if !ok {
			continue // evidence of a closed round: no longer needed
		}
		if _, member := o.seat[e.GetKeeperId()]; !member {
			return nil, bad("evidence[%d]: keeper %q is not in the committee of round %s", i, e.GetKeeperId(), e.GetRoundId())
		}
		if !o.equivocated(e.KeeperId) {
			o.evidence = append(o.evidence, proto.Clone(e).(*lightkeeperv1.Evidence))
		}
	}
	if err := m.restoreEconomy(s, bad); err != nil {
		return nil, err
	}
	if err := m.restoreSealed(s); err != nil {
		return nil, err
	}
	return m, nil
}

// Snapshot returns a copy of the machine's state; Restore(m.Snapshot())
// continues exactly as m would. Every list is sorted by id.
func (m *Machine) Snapshot() Snapshot {
	s := Snapshot{
		Meta:    m.meta(),
		Keepers: m.Keepers(),
	}
	for _, id := range sortedKeys(m.rounds) {
		o := m.rounds[id]
		s.OpenRounds = append(s.OpenRounds, cloneRound(o.r))
		for _, e := range o.evidence {
			s.Evidence = append(s.Evidence, proto.Clone(e).(*lightkeeperv1.Evidence))
		}
	}
	for _, id := range sortedKeys(m.vks) {
		s.VerifyingKeys = append(s.VerifyingKeys, proto.Clone(m.vks[id]).(*lightkeeperv1.VerifyingKey))
	}
	for _, id := range sortedKeys(m.programs) {
		s.Programs = append(s.Programs, proto.Clone(m.programs[id]).(*lightkeeperv1.Program))
	}
	for n := range m.pool.spent {
		s.SpentNullifiers = append(s.SpentNullifiers, bytes.Clone(n[:]))
	}
	slices.SortFunc(s.SpentNullifiers, bytes.Compare)
	for h := range m.eligibleStored {
		s.EligibleLists = append(s.EligibleLists, bytes.Clone(h[:]))
	}
	slices.SortFunc(s.EligibleLists, bytes.Compare)
	s.RoundIDs = make([]string, 0, len(m.roundIDs))
	for rid := range m.roundIDs {
		s.RoundIDs = append(s.RoundIDs, hex.EncodeToString(rid[:]))
	}
	slices.Sort(s.RoundIDs)
	s.RoundHeights = make([]uint64, len(s.RoundIDs))
	for i, id := range s.RoundIDs {
		rid, _ := protocol.ParseID(id)
		s.RoundHeights[i] = m.roundIDs[rid]
	}
	m.snapshotEconomy(&s)
	m.snapshotSealed(&s)
	return s
}

func sortedKeys[V any](mp map[string]V) []string {
	keys := make([]string, 0, len(mp))
	for k := range mp {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// Head returns the last block's header and hash.
func (m *Machine) Head() (*lightkeeperv1.BlockHeader, []byte) {
	return cloneHeader(m.head), bytes.Clone(m.headHash)
}

// ChainID returns the chain id.
func (m *Machine) ChainID() string { return m.chainID }

// ParamsHash returns protocol.ParamsHash(chain id, consensus parameters), the value
// every certificate of this chain carries and users pin.
func (m *Machine) ParamsHash() []byte { return bytes.Clone(m.paramsHash) }

// Params returns a copy of the consensus parameters.
func (m *Machine) Params() *lightkeeperv1.ConsensusParams {
	return proto.Clone(m.params).(*lightkeeperv1.ConsensusParams)
}

// VerifyingKey returns a registered verifying key's metadata (Key is nil).
func (m *Machine) VerifyingKey(id string) (*lightkeeperv1.VerifyingKey, bool) {
	vk, ok := m.vks[id]
	if !ok {
		return nil, false
	}
	return proto.Clone(vk).(*lightkeeperv1.VerifyingKey), true
}
