package service

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"errors"
	"fmt"
	"sync"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/proto"

	"github.com/lightkeeper-net/lightkeeper/coordinator/state"
	"github.com/lightkeeper-net/lightkeeper/pebbledb"
	lightkeeperv1 "github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1"
)

// Replicated mode: the node serves the whole API, but blocks come from a
// replicated log (a CometBFT replica, coordinator/replica) instead of its
// own producer. Handlers are the same; what differs:
//
//   - submit encodes the transaction canonically and hands it to the
//     Sequencer (the mempool's CheckTx), then waits until a committed
//     block carries those bytes: acknowledged still means durable.
//   - blocks arrive through ApplyBlock and CommitBlock, which hold the
//     machine's write lock between them exactly as produce does, so
//     readers still see committed state only, and run the same afterBlock
//     (dispatch, WatchRound, proof index, keeper history).
//   - the node-local transactions are off: a keeper's presence is not
//     shared by the replicas, so no set_keeper_online is produced
//     (registration marks a keeper online, replica/app.go);
//   - on a chain with params.challenges every submit_round is sealed by
//     the replica's challenger key, and challenges are opened sealed and
//     revealed after their close (sealed.go): their answers never cross
//     the mempool before it.

// Sequencer orders transactions for a replicated node. The service does
// not know what is behind it (CometBFT's mempool, for a replica).
type Sequencer interface {
	// Broadcast submits a transaction's canonical encoding. An error is
	// its refusal before any block (CheckTx); a *connect.Error's code
	// reaches the client as it is. Nil means it may enter a block, not
	// that it will: the node waits for CommitBlock to name it.
	Broadcast(tx []byte) error
}

// ErrTxKnown is what a Sequencer's Broadcast wraps when it already holds
// the transaction's bytes (CometBFT's mempool cache): the node then
// answers from the committed result, or waits for the pending one,
// instead of refusing a retry.
var ErrTxKnown = errors.New("transaction already known to the mempool")

// Replication puts a node in replicated mode (Options.Replication).
type Replication struct {
	Sequencer Sequencer
	// Genesis, when set, adds the replication layer's own records (the
	// app hash at height 0) to the batch that writes a new chain's
	// genesis, so they are durable together.
	Genesis func(res *state.Result, b *pebbledb.Batch) error
	// ChallengerKey is the replica's challenger key. When the genesis
	// lists it in params.challenges the replica seals the rounds it
	// submits and may open challenges (sealed.go); otherwise it can submit
	// no round on a chain that seals them.
	ChallengerKey ed25519.PrivateKey
}

// canonicalTx is the encoding replicas agree on: one transaction, one
// byte string, one hash in the mempool and in blocks.
var canonicalTx = proto.MarshalOptions{Deterministic: true}

// replicatedWait bounds how long a submission waits for its block: a
// transaction CheckTx admitted can still leave the mempool unapplied
// (another one took its nonce; the recheck after a block refused it), and
// nothing else would ever answer its waiter.
const replicatedWait = time.Minute

// txKey identifies a transaction by its canonical bytes.
type txKey [sha256.Size]byte

// recentResults is how many committed transactions' results a replica
// remembers: CometBFT's mempool cache (10000 by default) refuses the
// bytes of a transaction it has seen, so a client's retry of a committed
// one (same round request, same vote) is answered from here instead.
const recentResults = 10000

// waiters holds the submissions waiting for their block, by transaction.
// Identical bytes share one entry: the mempool keeps one copy, and the
// block's result answers all of them. It also remembers the results of
// the last recentResults transactions committed.
type waiters struct {
	mu sync.Mutex
	m  map[txKey][]*pendingTx

	recent map[txKey]state.TxResult
	order  []txKey // ring of recent's keys, oldest at next
	next   int
}

func (w *waiters) add(k txKey, p *pendingTx) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.m == nil {
		w.m = make(map[txKey][]*pendingTx)
	}
	w.m[k] = append(w.m[k], p)
}

func (w *waiters) remove(k txKey, p *pendingTx) {
	w.mu.Lock()
	defer w.mu.Unlock()
	ps := w.m[k]
	for i, q := range ps {
		if q == p {
			ps = append(ps[:i], ps[i+1:]...)
			break
		}
	}
	if len(ps) == 0 {
		delete(w.m, k)
	} else {
		w.m[k] = ps
	}
}

func (w *waiters) answer(k txKey, r state.TxResult) {
	w.mu.Lock()
	ps := w.m[k]
	delete(w.m, k)
	if w.recent == nil {
		w.recent = make(map[txKey]state.TxResult, recentResults)
		w.order = make([]txKey, 0, recentResults)
	}
	if _, ok := w.recent[k]; !ok {
		if len(w.order) < recentResults {
			w.order = append(w.order, k)
		} else {
			delete(w.recent, w.order[w.next])
			w.order[w.next] = k
			w.next = (w.next + 1) % recentResults
		}
	}
	w.recent[k] = r
	w.mu.Unlock()
	for _, p := range ps {
		deliver(p, r)
	}
}

// answered answers p from the recent results if its transaction was
// committed already; false if not (it is still on its way).
func (w *waiters) answered(k txKey, p *pendingTx) bool {
	w.mu.Lock()
	r, ok := w.recent[k]
	w.mu.Unlock()
	if ok {
		w.remove(k, p)
		deliver(p, r)
	}
	return ok
}

// deliver gives p its answer unless it has one: a retry found in the
// recent results may also be answered by the block, and the first
// answer is the one.
func deliver(p *pendingTx, r state.TxResult) {
	select {
	case p.done <- r: // buffered: one answer
	default:
	}
}

// Replicated reports whether the node runs in replicated mode.
func (n *Node) Replicated() bool { return n.repl != nil }

// broadcast is enqueueVerified in replicated mode: the transaction goes to
// the sequencer, and its waiter is registered first so that a block
// committed right after CheckTx cannot be missed.
func (n *Node) broadcast(tx *lightkeeperv1.Transaction) (*pendingTx, error) {
	select {
	case <-n.stopped:
		return nil, ErrStopped
	default:
	}
	if err := n.errIfHalted(); err != nil {
		return nil, err
	}
	if sr := tx.GetSubmitRound(); sr != nil && sr.GetSeal() == nil && sr.GetChallenge() == nil && n.challengeRules != nil {
		if n.sealer == nil {
			return nil, connect.NewError(connect.CodeFailedPrecondition, errNoChallengerKey)
		}
		// A sealed round is free (the machine cannot tell a client's from
		// a challenge): while rounds cost fees, a client's must come as a
		// signed, paid submit_round, which carries no seal.
		if fee := n.feePerWorkUnit; fee > 0 {
			return nil, connect.NewError(connect.CodeFailedPrecondition, fmt.Errorf("%w: staking.fee_per_work_unit is %d: submit the round as a signed submit_round transaction", state.ErrPaymentRequired, fee))
		}
		tx = n.sealer.sealClient(tx)
	}
	b, err := canonicalTx.Marshal(tx)
	if err != nil {
		return nil, connect.NewError(connect.CodeInvalidArgument, fmt.Errorf("transaction: %w", err))
	}
	k := txKey(sha256.Sum256(b))
	p := &pendingTx{tx: tx, done: make(chan state.TxResult, 1), key: &k}
	n.waiters.add(k, p)
	if err := n.repl.Sequencer.Broadcast(b); err != nil {
		// The mempool has these bytes already: committed (answered from
		// the recent results) or still pending (answered by its block).
		if errors.Is(err, ErrTxKnown) {
			n.waiters.answered(k, p)
			return p, nil
		}
		n.waiters.remove(k, p)
		return nil, err
	}
	return p, nil
}

// waitReplicated is wait in replicated mode, bounded by replicatedWait.
func (n *Node) waitReplicated(ctx context.Context, p *pendingTx) (state.TxResult, error) {
	timer := time.NewTimer(replicatedWait)
	defer timer.Stop()
	select {
	case r := <-p.done:
		return r, nil
	case <-ctx.Done():
		n.waiters.remove(*p.key, p)
		return state.TxResult{}, ctx.Err()
	case <-n.stopped:
		n.waiters.remove(*p.key, p)
		return state.TxResult{}, ErrStopped
	case <-n.haltedCh:
		// No block will carry it here; another replica may still commit
		// it (the mempool gossiped it), and a resend there finds it.
		n.waiters.remove(*p.key, p)
		return state.TxResult{}, n.errIfHalted()
	case <-timer.C:
		n.waiters.remove(*p.key, p)
		return state.TxResult{}, connect.NewError(connect.CodeDeadlineExceeded,
			fmt.Errorf("the transaction was admitted to the mempool but no committed block carried it within %s: it may have been dropped (a recheck refused it); retry", replicatedWait))
	}
}

// errNoSession refuses to open a session for a keeper that is not online
// on a replicated chain without session rules, where no replica may mark
// it online on its own.
var errNoSession = errors.New("this replicated chain keeps no keeper sessions (its genesis has no params.sessions): a keeper comes online by registering (RegisterKeeper); this keeper is registered but offline")

// chainSession brings a keeper's chain session in line with the session
// it opens here (Subscribe or PullTasks): on a chain with session rules,
// the keeper's own signature of this session goes on the chain as a
// KeeperSessionTx when the keeper is offline or its session has less than
// half its ttl left, so that a keeper that pulls keeps itself online (a
// streaming one renews with RenewSession). Without session rules, an
// offline keeper is refused (errNoSession).
func (n *Node) chainSession(ctx context.Context, auth *lightkeeperv1.SessionAuth) error {
	rules, k, err := n.sessionState(auth.GetKeeperId())
	if err != nil {
		return err
	}
	if rules == nil {
		if k.GetOnline() {
			return nil
		}
		return connect.NewError(connect.CodeFailedPrecondition, errNoSession)
	}
	if k.GetOnline() && k.GetSessionExpiresAt() != nil && k.GetSessionExpiresAt().AsTime().Sub(n.now()) > rules.GetTtl().AsDuration()/2 {
		return nil
	}
	res, err := n.submit(ctx, keeperSessionTx(auth))
	if err == nil {
		err = res.Err
	}
	return toConnect(err)
}

// sessionState reads the chain's session rules (nil: none) and the
// keeper's committed record (nil: unknown).
func (n *Node) sessionState(id string) (*lightkeeperv1.SessionParams, *lightkeeperv1.Keeper, error) {
	var rules *lightkeeperv1.SessionParams
	var k *lightkeeperv1.Keeper
	if err := n.readMachine(func(m *state.Machine) {
		rules = m.Params().GetSessions()
		k, _ = m.Keeper(id)
	}); err != nil {
		return nil, nil, toConnect(err)
	}
	return rules, k, nil
}

func keeperSessionTx(auth *lightkeeperv1.SessionAuth) *lightkeeperv1.Transaction {
	return &lightkeeperv1.Transaction{Kind: &lightkeeperv1.Transaction_KeeperSession{KeeperSession: &lightkeeperv1.KeeperSessionTx{
		KeeperId: auth.GetKeeperId(), UnixMilli: auth.GetTime().AsTime().UnixMilli(), Signature: auth.GetSignature(),
	}}}
}

// ApplyBlock applies a block the replicated log decided. It takes the
// machine's write lock and, when the block applies, keeps it until
// CommitBlock (or AbortBlock): readers never see a block that is not
// durable. seal runs under the lock on the applied block (the replica
// computes its app hash there); its error stands for a failure after the
// machine moved: the node is lost, as when produce fails to commit.
//
// The caller serializes ApplyBlock, CommitBlock and CheckMachine
// (CometBFT's ABCI connection does).
func (n *Node) ApplyBlock(in state.BlockInput, seal func(*state.Result) error) (*state.Result, error) {
	n.mu.Lock()
	if n.lost != nil {
		n.mu.Unlock()
		return nil, n.lost
	}
	res, err := n.machine.ApplyBlock(in)
	if err != nil {
		n.mu.Unlock() // a refused block leaves the machine unchanged
		return nil, err
	}
	if seal != nil {
		if err := seal(res); err != nil {
			n.lost = err
			n.mu.Unlock()
			return nil, err
		}
	}
	n.metrics.blockApplied(res)
	return res, nil
}

// BlockTx is one transaction of a committed block as the replicated log
// carries it, with its result: CommitBlock answers its waiters.
type BlockTx struct {
	Bytes  []byte
	Result state.TxResult
}

// CommitBlock persists the block ApplyBlock applied, with extra's records
// (the app hash) in the same synced batch, then releases the write lock,
// answers the submissions the block carries and runs afterBlock. A failed
// commit leaves the node lost: reads refuse until a restart, which
// replays the block.
func (n *Node) CommitBlock(res *state.Result, txs []BlockTx, extra func(*pebbledb.Batch) error) error {
	start := time.Now()
	if err := n.persistInto(n.store.NewBatch(), res, extra); err != nil {
		n.lost = err
		n.mu.Unlock()
		return err
	}
	n.mu.Unlock()
	n.metrics.blockCommitted(res, time.Since(start))
	for _, t := range txs {
		n.waiters.answer(txKey(sha256.Sum256(t.Bytes)), t.Result)
	}
	n.afterBlock(res)
	return nil
}

// AbortBlock gives up a block ApplyBlock applied and CommitBlock never
// wrote (the replica is stopping mid-block): the machine is ahead of the
// disk, so the node is lost and reads refuse; a restart replays the block.
func (n *Node) AbortBlock() {
	n.lost = ErrStopped
	n.mu.Unlock()
}

// CheckMachine runs f on the machine without the lock, for checks that
// the replicated log serializes with ApplyBlock itself (CheckTx runs on
// the same ABCI connection lock as FinalizeBlock). It must not take the
// read lock: between FinalizeBlock and Commit the write lock is held, and
// a CheckTx waiting for it would hold up the Commit that releases it.
func (n *Node) CheckMachine(f func(m *state.Machine)) { f(n.machine) }

// Store returns the node's store, for the replication layer's own records
// (app hash) and reads.
func (n *Node) Store() *pebbledb.Store { return n.store }
