package service

import (
	"connectrpc.com/grpchealth"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/lightkeeper-net/lightkeeper/coordinator/config"
	"github.com/lightkeeper-net/lightkeeper/coordinator/ledger"
	"github.com/lightkeeper-net/lightkeeper/coordinator/state"
	"github.com/lightkeeper-net/lightkeeper/pebbledb"
	lightkeeperv1 "github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1"
	"github.com/lightkeeper-net/lightkeeper/protocol"
)

// ErrStopped is returned to requests that arrive after the node stopped.
var ErrStopped = errors.New("coordinator stopped")

// Options configure a Node.
type Options struct {
	Config config.Config
	// Genesis is required for a new data directory; for an existing one it
	// is checked against the stored chain id when given.
	Genesis *lightkeeperv1.Genesis
	DataDir string
	Logger  *slog.Logger
	// Now is the clock; time.Now when nil. Only the producer reads it to
	// stamp blocks, and handlers for session freshness.
	Now func() time.Time
	// Replication, when set, runs the node in replicated mode
	// (replicated.go): blocks come from a replicated log, not from Run.
	Replication *Replication
}

// Node is a running coordinator.
type Node struct {
	cfg   config.Config
	log   *slog.Logger
	now   func() time.Time
	store *pebbledb.Store

	// mu guards machine and lost: the producer holds Lock from applying a
	// block until it is committed, readers RLock (readMachine), so a
	// reader sees only committed state. lost is set when a block applied
	// to the machine failed to commit: the machine is ahead of the disk,
	// and readMachine refuses.
	mu      sync.RWMutex
	machine *state.Machine
	lost    error
	chainID string
	// genesisAt caches the genesis time (genesisTime).
	genesisAt atomic.Pointer[timestamppb.Timestamp]

	txs     chan *pendingTx
	stopped chan struct{}
	// started is closed once Run has brought the restored online flags in
	// line with this process's sessions (its first block, if any).
	started  chan struct{}
	stopErr  error
	stopOnce sync.Once

	dispatch *dispatcher
	watch    *watchHub
	metrics  *metrics
	limiter  *limiter
	vkCache  sync.Map // vk id -> []byte

	// The abuse limits (abuse.go, docs/limits.md).
	badVotes        *debtBuckets
	regBytes        *debtBuckets
	streams         *streamGate
	sessions        *sessionClock
	registeredBytes atomic.Int64 // programs and verifying keys stored

	// computeParams are the chain's compute parameters (fixed at genesis).
	computeParams *lightkeeperv1.ComputeParams
	// sizeLimits are the chain's size limits (fixed at genesis): admission
	// checks requests against them, so it never admits what the machine
	// refuses.
	sizeLimits protocol.Limits
	// checkSlots bounds concurrent program registration checks.
	checkSlots chan struct{}

	dataDir string
	// challenges is nil when [challenges] enabled = false.
	challenges *challenger
	// Replicated chains with params.challenges: the rules, and the sealer
	// (nil without a listed challenger key).
	challengeRules *lightkeeperv1.ChallengeRules
	sealer         *sealer
	feePerWorkUnit uint64 // staking.fee_per_work_unit, fixed at genesis
	// proofs finds rounds by proof hash (FindRounds, handlers_find.go).
	proofs *proofIndex
	// history is the keepers' records by epoch (GetKeeperHistory,
	// handlers_history.go).
	history *keeperHistory

	// testHookAfterApply, set only by tests before Run, runs on the
	// producer between ApplyBlock and the block's commit; an error it
	// returns stands for a crash there: the block is never committed.
	testHookAfterApply func(res *state.Result) error

	// repl is nil on the single-node coordinator; in replicated mode
	// waiters holds the submissions waiting for their block.
	repl    *Replication
	waiters waiters

	// health is the gRPC health checker; haltReason, haltedCh and
	// haltOnce record a replica's consensus halt (halt.go).
	health     *grpchealth.StaticChecker
	haltReason atomic.Pointer[string]
	haltedCh   chan struct{}
	haltOnce   sync.Once
}

type pendingTx struct {
	tx *lightkeeperv1.Transaction
	// verified holds the transaction's signatures that were checked on the
	// receiving goroutine; the block passes them to the machine so that it
	// does not check them again under the write lock.
	verified []state.VerifiedSig
	done     chan state.TxResult
	// key is the transaction's canonical hash in replicated mode (nil
	// otherwise): the block that carries it answers done.
	key *txKey
}

// Open opens (or creates) the data directory and restores the state
// machine. Call Run to start producing blocks.
func Open(opts Options) (*Node, error) {
	if err := opts.Config.Validate(); err != nil {
		return nil, err
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	store, err := pebbledb.Open(opts.DataDir, pebbledb.WithLogger(log))
	if err != nil {
		return nil, err
	}
	n := &Node{
		cfg:      opts.Config,
		log:      log,
		now:      now,
		store:    store,
		txs:      make(chan *pendingTx, 8192),
		stopped:  make(chan struct{}),
		started:  make(chan struct{}),
		dispatch: newDispatcher(),
		watch:    newWatchHub(),
		metrics:  newMetrics(),
		limiter:  newLimiter(opts.Config.Limits.SubmitRate, opts.Config.Limits.SubmitBurst),
		badVotes: newDebtBuckets(opts.Config.Limits.BadVoteRate, float64(opts.Config.Limits.BadVoteBurst)),
		regBytes: newDebtBuckets(float64(opts.Config.Limits.RegistrationBytesPerHour)/3600, float64(opts.Config.Limits.RegistrationBytesPerHour)),
		streams:  newStreamGate(opts.Config.Limits.MaxSessionsPerKeeper, opts.Config.Limits.MaxStreamsPerAddress, opts.Config.Limits.MaxStreams),
		sessions: newSessionClock(now()),

		checkSlots: make(chan struct{}, maxConcurrentChecks),
		dataDir:    opts.DataDir,
		repl:       opts.Replication,
		health:     grpchealth.NewStaticChecker(serviceNames...),
		haltedCh:   make(chan struct{}),
	}
	if err := n.load(opts.Genesis); err != nil {
		store.Close()
		return nil, err
	}
	if n.repl != nil {
		// On a chain that seals rounds a replica needs its listed
		// challenger key to submit any (sealed.go).
		n.challengeRules = n.machine.Params().GetChallenges()
		n.feePerWorkUnit = n.machine.Params().GetStaking().GetFeePerWorkUnit()
		if key := listedKey(n.challengeRules, n.repl.ChallengerKey); key != nil {
			s, err := newSealer(n, key)
			if err != nil {
				store.Close()
				return nil, err
			}
			n.sealer = s
		} else if n.challengeRules != nil {
			log.Warn("this chain seals every round and this replica's challenger key is not in params.challenges: it will refuse submissions and open no challenges")
		}
	}
	// A replica opens challenges only sealed, with a listed key: an
	// answer in the clear would cross the mempool before the round
	// closes.
	if opts.Config.Challenges.Enabled && (opts.Replication == nil || n.sealer != nil) {
		n.challenges = newChallenger(n, opts.Config.Challenges)
	}
	if err := n.countRegisteredBytes(); err != nil {
		store.Close()
		return nil, err
	}
	if err := n.buildProofIndex(); err != nil {
		store.Close()
		return nil, err
	}
	if err := n.startKeeperHistory(); err != nil {
		store.Close()
		return nil, err
	}
	return n, nil
}

func (n *Node) load(genesis *lightkeeperv1.Genesis) error {
	initialized, err := n.store.Initialized()
	if err != nil {
		return err
	}
	if !initialized {
		if genesis == nil {
			return fmt.Errorf("data directory is empty and no genesis was given")
		}
		if genesis.GetParams() == nil {
			return fmt.Errorf("genesis has no params: a new chain reads its rules (consensus, staking, rewards, slashing, compute and size limits) from genesis.json's \"params\", which config.toml no longer holds; add them (lightkeeper init writes a genesis with the defaults)")
		}
		m, res, err := state.New(genesis)
		if err != nil {
			return fmt.Errorf("genesis: %w", err)
		}
		var extra func(*pebbledb.Batch) error
		if n.repl != nil && n.repl.Genesis != nil {
			extra = func(b *pebbledb.Batch) error { return n.repl.Genesis(res, b) }
		}
		if err := n.persistInto(n.store.NewBatch(), res, extra); err != nil {
			return err
		}
		n.machine = m
		n.chainID = genesis.GetChainId()
		n.computeParams = m.Params().GetCompute()
		n.sizeLimits = protocol.SizeLimitsOf(m.Params())
		n.log.Info("new chain", "chain_id", n.chainID, "keepers", len(genesis.GetKeepers()))
		return nil
	}
	meta, err := n.store.Meta()
	if err != nil {
		return err
	}
	if genesis != nil && genesis.GetChainId() != meta.GetChainId() {
		return fmt.Errorf("data directory holds chain %q, the genesis file is for %q", meta.GetChainId(), genesis.GetChainId())
	}
	// The stored parameters are the chain's. A genesis file written before
	// parameters moved into genesis has none: the data directory's are
	// used (that is the migration; nothing to do). One that has them must
	// agree.
	switch given := genesis.GetParams(); {
	case given == nil:
		if genesis != nil {
			n.log.Warn("genesis.json has no params: using the chain parameters stored in the data directory", "chain_id", meta.GetChainId())
		}
	case !proto.Equal(meta.GetParams(), given):
		diff := paramsDiff(meta.GetParams(), given)
		if len(diff) == 0 {
			diff = []string{fmt.Sprintf("stored %v", meta.GetParams())}
		}
		return fmt.Errorf("the chain parameters of genesis.json differ from those this data directory was created with (%s); replaying it under other rules would change its history: restore those values or use a new data directory", strings.Join(diff, "; "))
	}
	loaded, err := n.store.Load(ledger.Families)
	if err != nil {
		return err
	}
	m, snap, err := state.RestoreLedger(loaded)
	if err != nil {
		return err
	}
	n.machine = m
	n.chainID = meta.GetChainId()
	n.computeParams = m.Params().GetCompute()
	n.sizeLimits = protocol.SizeLimitsOf(m.Params())
	n.log.Info("restored chain", "chain_id", n.chainID, "height", meta.GetHead().GetHeight(),
		"open_rounds", len(snap.OpenRounds), "keepers", len(snap.Keepers))
	return nil
}

// ChainID returns the chain id.
func (n *Node) ChainID() string { return n.chainID }

// Close releases the store. Run must have returned.
func (n *Node) Close() error {
	n.stop(ErrStopped)
	return n.store.Close()
}

func (n *Node) stop(err error) {
	n.stopOnce.Do(func() {
		n.stopErr = err
		close(n.stopped)
	})
}

// submit hands a transaction to the producer and waits for its result.
func (n *Node) submit(ctx context.Context, tx *lightkeeperv1.Transaction) (state.TxResult, error) {
	p, err := n.enqueue(tx)
	if err != nil {
		return state.TxResult{}, err
	}
	return n.wait(ctx, p)
}

// enqueue verifies a transaction's signatures on the caller's goroutine and
// queues it for the next block.
func (n *Node) enqueue(tx *lightkeeperv1.Transaction) (*pendingTx, error) {
	return n.enqueueVerified(tx, state.VerifyTxSignatures(n.chainID, tx))
}

// enqueueVerified queues a transaction whose signatures were checked
// already (verified as VerifyTxSignatures returned them). A full queue is
// refused at once rather than queued without bound.
func (n *Node) enqueueVerified(tx *lightkeeperv1.Transaction, verified []state.VerifiedSig) (*pendingTx, error) {
	select {
	case <-n.stopped:
		return nil, ErrStopped
	default:
	}
	if n.repl != nil {
		return n.broadcast(tx)
	}
	p := &pendingTx{tx: tx, verified: verified, done: make(chan state.TxResult, 1)}
	select {
	case n.txs <- p:
		return p, nil
	default:
		return nil, errBusy
	}
}

// wait waits for a queued transaction's result.
func (n *Node) wait(ctx context.Context, p *pendingTx) (state.TxResult, error) {
	if p.key != nil {
		return n.waitReplicated(ctx, p)
	}
	select {
	case r := <-p.done:
		return r, nil
	case <-ctx.Done():
		return state.TxResult{}, ctx.Err()
	case <-n.stopped:
		return state.TxResult{}, ErrStopped
	}
}

var errBusy = errors.New("coordinator is busy: transaction queue full, retry later")

// readMachine runs f with the machine read-locked, which it is only
// between blocks: f sees committed state. After a block failed to commit
// it runs nothing and returns ErrStopped.
func (n *Node) readMachine(f func(m *state.Machine)) error {
	n.mu.RLock()
	defer n.mu.RUnlock()
	if n.lost != nil {
		return ErrStopped
	}
	f(n.machine)
	return nil
}

// Keepers returns every keeper as of the last committed block, sorted by
// id (none once a block failed to commit).
func (n *Node) Keepers() []*lightkeeperv1.Keeper {
	var ks []*lightkeeperv1.Keeper
	n.readMachine(func(m *state.Machine) { ks = m.Keepers() })
	return ks
}

// Started is closed once Run has taken offline the keepers a previous run
// left marked online (the first block after a restart), so that a reader
// waiting for keepers to be online does not count the stale flags.
func (n *Node) Started() <-chan struct{} { return n.started }
