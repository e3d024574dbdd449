package replica

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"

	"connectrpc.com/connect"
	abci "github.com/cometbft/cometbft/abci/types"
	"github.com/cometbft/cometbft/mempool"
	cmttypes "github.com/cometbft/cometbft/types"
	"google.golang.org/protobuf/proto"

	"github.com/lightkeeper-net/lightkeeper/coordinator/config"
	"github.com/lightkeeper-net/lightkeeper/coordinator/service"
	"github.com/lightkeeper-net/lightkeeper/coordinator/state"
	"github.com/lightkeeper-net/lightkeeper/internal/setup"
	"github.com/lightkeeper-net/lightkeeper/pebbledb"
	lightkeeperv1 "github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1"
)

// AppVersion is the application protocol version CometBFT records in
// every header. Replicas that disagree on it must not share a chain: it
// changes whenever the state machine, the admission rules or the app hash
// would compute something else from the same block.
const AppVersion uint64 = 1

// App is the ABCI 2.0 application: glue between CometBFT and a
// service.Node in replicated mode, which owns the machine, the store and
// everything that reacts to a committed block (the Connect API,
// dispatch, WatchRound). CometBFT's local client serializes the ABCI
// calls; mu also covers reads from outside (tests, the API's sequencer).
type App struct {
	abci.BaseApplication

	log *slog.Logger
	dir string
	cfg config.Config

	mu      sync.Mutex
	node    *service.Node // nil until InitChain on a new directory
	height  uint64        // last committed
	appHash []byte        // after height
	limits  txLimits      // from the chain parameters, fixed at genesis

	// The block FinalizeBlock applied and Commit has not yet written. The
	// node holds its machine's write lock in between, so the API never
	// shows it; a crash before Commit loses it from memory and CometBFT's
	// handshake replays it.
	pending *pendingBlock

	// fault is a test-only misbehaviour (fault.go); FaultNone in production.
	fault Fault

	// mempool is CometBFT's, once the node around the app exists:
	// Broadcast hands the API's submissions to it.
	mempool atomic.Pointer[mempool.Mempool]

	challengerKey ed25519.PrivateKey
	// onCheckTx, for tests, sees every transaction CheckTx is asked
	// about, with the machine as it stands (under the ABCI lock).
	onCheckTx func(tx []byte, m *state.Machine)
}

type pendingBlock struct {
	height  uint64
	result  *state.Result
	appHash []byte
	txs     []service.BlockTx
}

// AppOptions configure an App.
type AppOptions struct {
	Logger *slog.Logger
	// Config is the node-local settings of the Connect API the replica
	// serves (listen address, request limits); config.Default() when
	// nil. Its [challenges] section takes effect only with a
	// ChallengerKey the genesis lists (challenges are opened sealed).
	Config *config.Config
	// Fault makes the replica misbehave, for tests (fault.go).
	Fault Fault
	// ChallengerKey is the replica's challenger key
	// (ChallengerKeyFile): on a chain whose params.challenges lists it,
	// the replica seals the rounds it submits and opens sealed
	// challenges.
	ChallengerKey ed25519.PrivateKey
}

// Open opens (or creates) a replica's data directory with the default
// API settings (OpenApp).
func Open(dir string, log *slog.Logger) (*App, error) {
	return OpenApp(dir, AppOptions{Logger: log})
}

// OpenApp opens (or creates) a replica's data directory. A directory that
// holds a chain is restored at its last committed block; an empty one
// waits for InitChain.
func OpenApp(dir string, o AppOptions) (*App, error) {
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	cfg := config.Default()
	if o.Config != nil {
		cfg = *o.Config
	}
	a := &App{log: log, dir: dir, cfg: cfg, fault: o.Fault, challengerKey: o.ChallengerKey}
	if err := a.restore(); err != nil {
		return nil, err
	}
	return a, nil
}

// Close releases the store. The CometBFT node must have stopped. A block
// finalized and not committed is given up: a restart replays it.
func (a *App) Close() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.node == nil {
		return nil
	}
	if a.pending != nil {
		a.node.AbortBlock()
		a.pending = nil
	}
	return a.node.Close()
}

// Service returns the coordinator service the replica runs (nil before
// InitChain on a new directory): its Handler serves the Connect API.
func (a *App) Service() *service.Node {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.node
}

// SetMempool gives the app CometBFT's mempool, for Broadcast.
func (a *App) SetMempool(m mempool.Mempool) { a.mempool.Store(&m) }

// openNode opens the service over the data directory, creating the chain
// from g when the directory is empty; the genesis batch carries the app
// hash at height 0.
func (a *App) openNode(g *lightkeeperv1.Genesis) (*service.Node, error) {
	return service.Open(service.Options{
		Config:  a.cfg,
		Genesis: g,
		DataDir: a.dir,
		Logger:  a.log,
		Replication: &service.Replication{
			Sequencer:     a,
			ChallengerKey: a.challengerKey,
			Genesis: func(res *state.Result, b *pebbledb.Batch) error {
				hash, err := AppHash(0, nil, res.Changes)
				if err != nil {
					return err
				}
				return b.PutAppHash(0, hash)
			},
		},
	})
}

func (a *App) restore() error {
	store, err := pebbledb.Open(a.dir, pebbledb.WithLogger(a.log))
	if err != nil {
		return err
	}
	initialized, err := store.Initialized()
	if err == nil && initialized {
		_, _, ok, aerr := store.AppHash()
		if err = aerr; err == nil && !ok {
			err = fmt.Errorf("data directory %q holds a chain without an app hash: it was written by the single-node coordinator, not by a replica", a.dir)
		}
	}
	if cerr := store.Close(); err == nil {
		err = cerr
	}
	if err != nil || !initialized {
		return err
	}
	n, err := a.openNode(nil)
	if err != nil {
		return err
	}
	if err := a.adopt(n); err != nil {
		n.Close()
		return err
	}
	a.log.Info("replica restored", "chain_id", n.ChainID(), "height", a.height, "app_hash", fmt.Sprintf("%X", a.appHash))
	return nil
}

// adopt takes an opened service node: its last committed height and app
// hash, and the chain's transaction limits.
func (a *App) adopt(n *service.Node) error {
	height, hash, ok, err := n.Store().AppHash()
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("%w: data directory %q holds no app hash", pebbledb.ErrCorrupt, a.dir)
	}
	var head uint64
	var params *lightkeeperv1.ConsensusParams
	n.CheckMachine(func(m *state.Machine) {
		h, _ := m.Head()
		head, params = h.GetHeight(), m.Params()
	})
	if head != height {
		return fmt.Errorf("%w: data directory %q holds block %d but an app hash for height %d", pebbledb.ErrCorrupt, a.dir, head, height)
	}
	a.node, a.height, a.appHash = n, height, hash
	a.limits = limitsOf(n.ChainID(), params)
	return nil
}

// Info tells CometBFT the last committed block, so that its handshake
// replays the blocks after it (and InitChain on a new directory).
func (a *App) Info(context.Context, *abci.RequestInfo) (*abci.ResponseInfo, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	res := &abci.ResponseInfo{Data: "lightkeeper", AppVersion: AppVersion}
	if a.node != nil && a.height > 0 {
		res.LastBlockHeight = int64(a.height)
		res.LastBlockAppHash = bytes.Clone(a.appHash)
	}
	return res, nil
}

// InitChain starts the chain from the lightkeeper genesis, which
// CometBFT's genesis carries as app_state (protobuf JSON, as in
// genesis.json). The chain id and genesis time must be CometBFT's too:
// block 1 carries CometBFT's genesis time and a machine whose genesis is
// later would refuse it. Called again on a directory that already holds
// this genesis (a crash before CometBFT recorded the answer), it answers
// the same.
func (a *App) InitChain(_ context.Context, req *abci.RequestInitChain) (*abci.ResponseInitChain, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	g, err := setup.ParseGenesis(req.AppStateBytes)
	if err != nil {
		return nil, fmt.Errorf("init chain: app_state is not a lightkeeper genesis: %w", err)
	}
	if g.GetChainId() != req.ChainId {
		return nil, fmt.Errorf("init chain: the lightkeeper genesis is for chain %q, CometBFT's for %q", g.GetChainId(), req.ChainId)
	}
	if got, want := g.GetGenesisTime().AsTime().UnixMilli(), req.Time.UnixMilli(); got != want {
		return nil, fmt.Errorf("init chain: the lightkeeper genesis_time is %s, CometBFT's genesis_time %s: they must be equal (to the millisecond)",
			g.GetGenesisTime().AsTime().UTC(), req.Time.UTC())
	}
	if req.InitialHeight != 1 {
		return nil, fmt.Errorf("init chain: initial_height is %d; a lightkeeper chain starts at 1 (block n of CometBFT is block n of the ledger)", req.InitialHeight)
	}
	if g.GetParams() == nil {
		return nil, errors.New("init chain: the lightkeeper genesis has no params (lightkeeper init writes a genesis with the defaults)")
	}
	if a.node != nil {
		if a.height != 0 || a.node.ChainID() != g.GetChainId() {
			return nil, fmt.Errorf("init chain: data directory %q already holds chain %q at height %d", a.dir, a.node.ChainID(), a.height)
		}
		return &abci.ResponseInitChain{AppHash: bytes.Clone(a.appHash)}, nil
	}
	n, err := a.openNode(g)
	if err != nil {
		return nil, fmt.Errorf("init chain: %w", err)
	}
	if err := a.adopt(n); err != nil {
		n.Close()
		return nil, fmt.Errorf("init chain: %w", err)
	}
	a.log.Info("replica genesis", "chain_id", g.GetChainId(), "keepers", len(g.GetKeepers()), "app_hash", fmt.Sprintf("%X", a.appHash))
	return &abci.ResponseInitChain{AppHash: bytes.Clone(a.appHash)}, nil
}

// FinalizeBlock applies a decided block. Its time is CometBFT's block
// time (BFT time: the weighted median of the validators' precommit
// times, never this machine's clock). Its entropy is the app hash of the
// previous block: fixed before the proposer chose the block, so the
// proposer's only lever on the committee seed is the choice and order of
// transactions (docs/design.md states the grinding bound). Every
// transaction gets a result, with the machine's error as its log. The
// service holds its machine's write lock from here to Commit.
func (a *App) FinalizeBlock(_ context.Context, req *abci.RequestFinalizeBlock) (*abci.ResponseFinalizeBlock, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.node == nil {
		return nil, errors.New("finalize block: no chain (InitChain has not run)")
	}
	if a.pending != nil {
		return nil, fmt.Errorf("finalize block %d: block %d was finalized and not committed", req.Height, a.pending.height)
	}
	if req.Height <= 0 || uint64(req.Height) != a.height+1 {
		return nil, fmt.Errorf("finalize block %d: the last committed block is %d", req.Height, a.height)
	}
	results := make([]*abci.ExecTxResult, len(req.Txs))
	answers := make([]service.BlockTx, len(req.Txs))
	var txs []*lightkeeperv1.Transaction
	at := make([]int, len(req.Txs)) // index in txs of block tx i, -1: not applied
	for i, b := range req.Txs {
		answers[i].Bytes = b
		tx, err := a.limits.decode(b)
		if err != nil {
			// ProcessProposal refuses such a block; only a proposal
			// that 2/3 of the voting power accepted anyway gets here,
			// and every replica answers it alike.
			results[i] = refusal(err)
			answers[i].Result = state.TxResult{Err: err}
			at[i] = -1
			continue
		}
		at[i] = len(txs)
		txs = append(txs, tx)
		if r := tx.GetRegisterKeeper(); r != nil && !a.limits.sessions {
			txs = append(txs, sessionOpened(r.GetKeeperId()))
		}
	}
	var hash []byte
	res, err := a.node.ApplyBlock(state.BlockInput{
		TimeUnixMilli: req.Time.UnixMilli(),
		Txs:           txs,
		Entropy:       bytes.Clone(a.appHash),
	}, func(res *state.Result) (err error) {
		hash, err = AppHash(a.height+1, a.appHash, res.Changes)
		hash = a.fault.appHash(hash)
		return err
	})
	if err != nil {
		// The input cannot form a block (a time out of range): the same
		// on every replica, so the chain halts here rather than diverge.
		return nil, fmt.Errorf("finalize block %d: %w", req.Height, err)
	}
	for i, j := range at {
		if j >= 0 {
			results[i] = execResult(res.TxResults[j])
			answers[i].Result = res.TxResults[j]
		}
	}
	a.pending = &pendingBlock{height: a.height + 1, result: res, appHash: hash, txs: answers}
	return &abci.ResponseFinalizeBlock{TxResults: results, AppHash: bytes.Clone(hash)}, nil
}

// sessionOpened is the SetKeeperOnline a registration implies on a
// replicated chain whose genesis keeps no keeper sessions (no
// params.sessions): there a keeper's signed registration is the only
// evidence of its presence every replica shares. It follows the
// registration in the block, whose signature admission checked, so it
// applies to a keeper that exists. A chain with session rules takes the
// keeper's own KeeperSessionTx instead (lightkeeper testnet init writes
// them into its genesis).
func sessionOpened(keeperID string) *lightkeeperv1.Transaction {
	return &lightkeeperv1.Transaction{Kind: &lightkeeperv1.Transaction_SetKeeperOnline{
		SetKeeperOnline: &lightkeeperv1.SetKeeperOnlineTx{KeeperId: keeperID, Online: true},
	}}
}

// Commit writes the finalized block's changes with its height and app
// hash in one synced batch; then the service answers the submissions the
// block carries and reacts to it (dispatch, WatchRound). Until it
// returns, Info still names the previous block, so a crash in between
// replays this one.
func (a *App) Commit(context.Context, *abci.RequestCommit) (*abci.ResponseCommit, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	p := a.pending
	if p == nil {
		return nil, errors.New("commit: no finalized block")
	}
	a.pending = nil
	if err := a.node.CommitBlock(p.result, p.txs, func(b *pebbledb.Batch) error {
		return b.PutAppHash(p.height, p.appHash)
	}); err != nil {
		return nil, err
	}
	a.height, a.appHash = p.height, p.appHash
	return &abci.ResponseCommit{}, nil
}

// Committed returns the last committed height and app hash.
func (a *App) Committed() (height uint64, appHash []byte) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.height, bytes.Clone(a.appHash)
}

// Round returns a round as this replica committed it (open or closed).
func (a *App) Round(id string) (*lightkeeperv1.Round, error) {
	s, err := a.store()
	if err != nil {
		return nil, err
	}
	return s.Round(id)
}

// Block returns a committed lightkeeper block.
func (a *App) Block(height uint64) (*lightkeeperv1.Block, error) {
	s, err := a.store()
	if err != nil {
		return nil, err
	}
	return s.Block(height)
}

var errNoChain = errors.New("no chain yet (InitChain has not run)")

func (a *App) store() (*pebbledb.Store, error) {
	n := a.Service()
	if n == nil {
		return nil, errNoChain
	}
	return n.Store(), nil
}

// Broadcast submits a transaction to this replica's mempool, which
// gossips it to the others (service.Sequencer). It returns CheckTx's
// refusal as a Connect error whose code says whether a retry can help;
// it does not wait for a block.
func (a *App) Broadcast(tx []byte) error {
	mp := a.mempool.Load()
	if mp == nil {
		return connect.NewError(connect.CodeUnavailable, errors.New("the replica is not running consensus yet"))
	}
	done := make(chan *abci.ResponseCheckTx, 1)
	if err := (*mp).CheckTx(cmttypes.Tx(tx), func(r *abci.ResponseCheckTx) { done <- r }, mempool.TxInfo{}); err != nil {
		if errors.Is(err, mempool.ErrTxInCache) {
			return connect.NewError(connect.CodeAlreadyExists, fmt.Errorf("%w: in the mempool or committed recently", service.ErrTxKnown))
		}
		return connect.NewError(connect.CodeUnavailable, fmt.Errorf("mempool: %w", err))
	}
	if r := <-done; r.Code != CodeOK {
		return connect.NewError(connectCode(r.Code), fmt.Errorf("check tx: %s", r.Log))
	}
	return nil
}

// connectCode maps CheckTx's refusal codes to what a client is told.
func connectCode(code uint32) connect.Code {
	switch code {
	case CodeMalformed:
		return connect.CodeInvalidArgument
	case CodeBadSignature:
		return connect.CodePermissionDenied
	case CodeNotAllowed, CodeRefused:
		return connect.CodeFailedPrecondition
	}
	return connect.CodeInternal
}

// ABCI result codes. Only the code enters CometBFT's results hash; the
// log says what was wrong.
const (
	CodeOK uint32 = iota
	// The bytes are not one canonical transaction within the size limit.
	CodeMalformed
	// A kind of transaction a replicated chain does not take from
	// clients (system transactions, challenges with their answers).
	CodeNotAllowed
	// A signature does not verify.
	CodeBadSignature
	// CheckTx: the committed state already refuses it (unknown or closed
	// round, not in the committee, duplicate vote, used nonce, bad key).
	CodeRefused
	// FinalizeBlock: the state machine refused it in the block.
	CodeFailed
)

func execResult(r state.TxResult) *abci.ExecTxResult {
	if r.Err != nil {
		return &abci.ExecTxResult{Code: CodeFailed, Log: r.Err.Error()}
	}
	out := &abci.ExecTxResult{Code: CodeOK}
	if r.RoundID != "" {
		out.Data = []byte(r.RoundID)
	}
	return out
}

func refusal(err error) *abci.ExecTxResult {
	return &abci.ExecTxResult{Code: codeOf(err), Log: err.Error()}
}

// encoded is a transaction's bytes as the block carries them.
func encoded(tx *lightkeeperv1.Transaction) ([]byte, error) {
	return proto.MarshalOptions{Deterministic: true}.Marshal(tx)
}
