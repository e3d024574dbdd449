package replica

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"

	abci "github.com/cometbft/cometbft/abci/types"
	"google.golang.org/protobuf/proto"

	"github.com/lightkeeper-net/lightkeeper/coordinator/ledger"
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

// App is the ABCI 2.0 application. CometBFT's local client serializes
// its calls; the mutex also covers reads from outside (tests, a future
// Connect API).
type App struct {
	abci.BaseApplication

	log   *slog.Logger
	store *pebbledb.Store

	mu      sync.Mutex
	machine *state.Machine // nil until InitChain on a new directory
	height  uint64         // last committed
	appHash []byte         // after height
	limits  txLimits       // from the chain parameters, fixed at genesis

	// The block FinalizeBlock applied and Commit has not yet written. The
	// machine is already past it; a crash before Commit loses it from
	// memory and CometBFT's handshake replays it.
	pending *pendingBlock
}

type pendingBlock struct {
	height  uint64
	result  *state.Result
	appHash []byte
}

// Open opens (or creates) a replica's data directory. A directory that
// holds a chain is restored at its last committed block; an empty one
// waits for InitChain.
func Open(dir string, log *slog.Logger) (*App, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	store, err := pebbledb.Open(dir, pebbledb.WithLogger(log))
	if err != nil {
		return nil, err
	}
	a := &App{log: log, store: store}
	if err := a.restore(); err != nil {
		store.Close()
		return nil, err
	}
	return a, nil
}

// Close releases the store. The CometBFT node must have stopped.
func (a *App) Close() error { return a.store.Close() }

func (a *App) restore() error {
	initialized, err := a.store.Initialized()
	if err != nil || !initialized {
		return err
	}
	height, hash, ok, err := a.store.AppHash()
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("data directory %q holds a chain without an app hash: it was written by the single-node coordinator, not by a replica", a.store.Dir())
	}
	loaded, err := a.store.Load(ledger.Families)
	if err != nil {
		return err
	}
	m, _, err := state.RestoreLedger(loaded)
	if err != nil {
		return err
	}
	if head, _ := m.Head(); head.GetHeight() != height {
		return fmt.Errorf("%w: data directory %q holds block %d but an app hash for height %d", pebbledb.ErrCorrupt, a.store.Dir(), head.GetHeight(), height)
	}
	a.machine, a.height, a.appHash = m, height, hash
	a.limits = limitsOf(m.ChainID(), m.Params())
	a.log.Info("replica restored", "chain_id", m.ChainID(), "height", height, "app_hash", fmt.Sprintf("%X", hash))
	return nil
}

// Info tells CometBFT the last committed block, so that its handshake
// replays the blocks after it (and InitChain on a new directory).
func (a *App) Info(context.Context, *abci.RequestInfo) (*abci.ResponseInfo, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	res := &abci.ResponseInfo{Data: "lightkeeper", AppVersion: AppVersion}
	if a.machine != nil && a.height > 0 {
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
	if a.machine != nil {
		if a.height != 0 || a.machine.ChainID() != g.GetChainId() {
			return nil, fmt.Errorf("init chain: data directory %q already holds chain %q at height %d", a.store.Dir(), a.machine.ChainID(), a.height)
		}
		return &abci.ResponseInitChain{AppHash: bytes.Clone(a.appHash)}, nil
	}
	m, res, err := state.New(g)
	if err != nil {
		return nil, fmt.Errorf("init chain: %w", err)
	}
	hash, err := AppHash(0, nil, res.Changes)
	if err != nil {
		return nil, err
	}
	if err := a.persist(0, res.Changes, hash); err != nil {
		return nil, err
	}
	a.machine, a.height, a.appHash = m, 0, hash
	a.limits = limitsOf(m.ChainID(), m.Params())
	a.log.Info("replica genesis", "chain_id", g.GetChainId(), "keepers", len(g.GetKeepers()), "app_hash", fmt.Sprintf("%X", hash))
	return &abci.ResponseInitChain{AppHash: bytes.Clone(hash)}, nil
}

// FinalizeBlock applies a decided block. Its time is CometBFT's block
// time (BFT time: the weighted median of the validators' precommit
// times, never this machine's clock). Its entropy is the app hash of the
// previous block: fixed before the proposer chose the block, so the
// proposer's only lever on the committee seed is the choice and order of
// transactions (docs/design.md states the grinding bound). Every
// transaction gets a result, with the machine's error as its log.
func (a *App) FinalizeBlock(_ context.Context, req *abci.RequestFinalizeBlock) (*abci.ResponseFinalizeBlock, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.machine == nil {
		return nil, errors.New("finalize block: no chain (InitChain has not run)")
	}
	if a.pending != nil {
		return nil, fmt.Errorf("finalize block %d: block %d was finalized and not committed", req.Height, a.pending.height)
	}
	if req.Height <= 0 || uint64(req.Height) != a.height+1 {
		return nil, fmt.Errorf("finalize block %d: the last committed block is %d", req.Height, a.height)
	}
	results := make([]*abci.ExecTxResult, len(req.Txs))
	var txs []*lightkeeperv1.Transaction
	at := make([]int, len(req.Txs)) // index in txs of block tx i, -1: not applied
	for i, b := range req.Txs {
		tx, err := a.limits.decode(b)
		if err != nil {
			// ProcessProposal refuses such a block; only a proposal
			// that 2/3 of the voting power accepted anyway gets here,
			// and every replica answers it alike.
			results[i] = refusal(err)
			at[i] = -1
			continue
		}
		at[i] = len(txs)
		txs = append(txs, tx)
		if r := tx.GetRegisterKeeper(); r != nil {
			txs = append(txs, sessionOpened(r.GetKeeperId()))
		}
	}
	res, err := a.machine.ApplyBlock(state.BlockInput{
		TimeUnixMilli: req.Time.UnixMilli(),
		Txs:           txs,
		Entropy:       bytes.Clone(a.appHash),
	})
	if err != nil {
		// The input cannot form a block (a time out of range): the same
		// on every replica, so the chain halts here rather than diverge.
		return nil, fmt.Errorf("finalize block %d: %w", req.Height, err)
	}
	hash, err := AppHash(a.height+1, a.appHash, res.Changes)
	if err != nil {
		return nil, fmt.Errorf("finalize block %d: %w", req.Height, err)
	}
	for i, j := range at {
		if j >= 0 {
			results[i] = execResult(res.TxResults[j])
		}
	}
	a.pending = &pendingBlock{height: a.height + 1, result: res, appHash: hash}
	return &abci.ResponseFinalizeBlock{TxResults: results, AppHash: bytes.Clone(hash)}, nil
}

// sessionOpened is the SetKeeperOnline a registration implies on a
// replicated chain: until keeper sessions are signed transactions (the
// next step of issue #11), a keeper's signed registration is the only
// evidence of its presence every replica shares. It follows the
// registration in the block, whose signature admission checked, so it
// applies to a keeper that exists.
func sessionOpened(keeperID string) *lightkeeperv1.Transaction {
	return &lightkeeperv1.Transaction{Kind: &lightkeeperv1.Transaction_SetKeeperOnline{
		SetKeeperOnline: &lightkeeperv1.SetKeeperOnlineTx{KeeperId: keeperID, Online: true},
	}}
}

// Commit writes the finalized block's changes with its height and app
// hash in one synced batch. Until it returns, Info still names the
// previous block, so a crash in between replays this one.
func (a *App) Commit(context.Context, *abci.RequestCommit) (*abci.ResponseCommit, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	p := a.pending
	if p == nil {
		return nil, errors.New("commit: no finalized block")
	}
	if err := a.persist(p.height, p.result.Changes, p.appHash); err != nil {
		return nil, err
	}
	a.height, a.appHash, a.pending = p.height, p.appHash, nil
	return &abci.ResponseCommit{}, nil
}

func (a *App) persist(height uint64, cs ledger.ChangeSet, hash []byte) error {
	b := a.store.NewBatch()
	defer b.Close()
	if err := b.Apply(cs); err != nil {
		return fmt.Errorf("persist block %d: %w", height, err)
	}
	if err := b.PutAppHash(height, hash); err != nil {
		return fmt.Errorf("persist block %d: %w", height, err)
	}
	if err := b.Commit(); err != nil {
		return fmt.Errorf("commit block %d: %w", height, err)
	}
	return nil
}

// Committed returns the last committed height and app hash.
func (a *App) Committed() (height uint64, appHash []byte) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.height, bytes.Clone(a.appHash)
}

// Round returns a round as this replica committed it (open or closed).
func (a *App) Round(id string) (*lightkeeperv1.Round, error) {
	return a.store.Round(id)
}

// Block returns a committed lightkeeper block.
func (a *App) Block(height uint64) (*lightkeeperv1.Block, error) {
	return a.store.Block(height)
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
