package service

import (
	"context"
	"crypto/rand"
	"fmt"
	"slices"
	"strings"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/lightkeeper-net/lightkeeper/coordinator/state"
	"github.com/lightkeeper-net/lightkeeper/pebbledb"
	lightkeeperv1 "github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1"
	"github.com/lightkeeper-net/lightkeeper/protocol"
)

// tick bounds how late a deadline or an expired pull lease is noticed.
const tick = 100 * time.Millisecond

// Run produces blocks until ctx is done or a block cannot be persisted. The
// latter is fatal: the machine has moved past what the disk holds, so the
// node stops, nobody is told of the lost block's results and reads of the
// machine refuse; a restart resumes from the last durable block.
func (n *Node) Run(ctx context.Context) error {
	if n.repl != nil {
		// Blocks come from the replicated log (ApplyBlock, CommitBlock);
		// no keeper was marked online by this process's sessions. The
		// scheduler runs only with a listed challenger key (sealed.go).
		close(n.started)
		if n.challenges != nil {
			go n.challenges.run(ctx)
		}
		select {
		case <-ctx.Done():
			n.stop(ErrStopped)
			return nil
		case <-n.stopped:
			return n.stopErr
		}
	}
	// Keepers marked online in a previous run are not connected to this
	// one: the first block takes them offline; they come back when they
	// open a session.
	if offline := n.sessionChanges(n.now()); len(offline) > 0 {
		if err := n.produce(nil, offline); err != nil {
			n.stop(err)
			return err
		}
	}
	close(n.started)
	if n.challenges != nil {
		go n.challenges.run(ctx)
	}
	timer := time.NewTimer(tick)
	defer timer.Stop()
	maxTxs := n.cfg.Network.MaxTxsPerBlock
	// A block is read back whole (GetBlock, verify-cert), so its
	// transactions stay under the same byte budget as a listing page: a
	// transaction that would cross it waits for the next block (one
	// larger than the budget still gets a block of its own).
	maxBytes := listPageBudget(n.cfg.Limits.MaxRequestBytes)
	var carry *pendingTx
	for {
		var batch []*pendingTx
		size := 0
		if carry != nil {
			batch, size, carry = append(batch, carry), proto.Size(carry.tx), nil
		} else {
			select {
			case p := <-n.txs:
				batch, size = append(batch, p), proto.Size(p.tx)
			case <-timer.C:
				timer.Reset(tick)
			case <-ctx.Done():
				n.stop(ErrStopped)
				return nil
			case <-n.stopped:
				return n.stopErr
			}
		}
		// Group commit: everything that queued up while the last block
		// was being synced goes into this one, up to the count and byte
		// limits.
	drain:
		for len(batch) < maxTxs && size < maxBytes {
			select {
			case p := <-n.txs:
				sz := proto.Size(p.tx)
				if size+sz > maxBytes {
					carry = p
					break drain
				}
				batch, size = append(batch, p), size+sz
			default:
				break drain
			}
		}
		now := n.now()
		system := n.sessionChanges(now)
		if len(batch) == 0 && len(system) == 0 && !n.blockDue(now) {
			continue
		}
		if err := n.produce(batch, system); err != nil {
			n.log.Error("block not persisted; stopping", "err", err)
			n.stop(err)
			return err
		}
	}
}

// blockDue reports whether time alone calls for a block: a round deadline
// passed, an unbonding entry is due, an epoch ended, or a new day began
// (reputation decay).
func (n *Node) blockDue(now time.Time) bool {
	due := false
	n.readMachine(func(m *state.Machine) {
		if m.NextWakeup() <= now.UnixMilli() {
			due = true
		}
		head, _ := m.Head()
		const day = 24 * time.Hour / time.Millisecond
		if now.UnixMilli()/int64(day) > head.GetTime().AsTime().UnixMilli()/int64(day) {
			due = true
		}
	})
	return due
}

// sessionChanges returns the transactions that bring the state's online
// flags in line with the keepers' sessions: offline for those whose stream
// closed or whose pull lease ran out, online for those that opened a
// session while an offline transaction for them was already on its way.
//
// It runs before every block, so it reads the flags without copying a
// keeper and sorts only the changes (the block's order stays by id).
func (n *Node) sessionChanges(now time.Time) []*lightkeeperv1.Transaction {
	var txs []*lightkeeperv1.Transaction
	n.readMachine(func(m *state.Machine) {
		m.EachRegisteredKeeper(func(id string, online bool) {
			if active := n.dispatch.active(id, now); active != online {
				txs = append(txs, setOnlineTx(id, active))
			}
		})
	})
	slices.SortFunc(txs, func(a, b *lightkeeperv1.Transaction) int {
		return strings.Compare(a.GetSetKeeperOnline().GetKeeperId(), b.GetSetKeeperOnline().GetKeeperId())
	})
	return txs
}

func (n *Node) keeperOnline(id string) bool {
	online := false
	n.readMachine(func(m *state.Machine) {
		online, _ = m.KeeperOnline(id)
	})
	return online
}

func setOnlineTx(id string, online bool) *lightkeeperv1.Transaction {
	return &lightkeeperv1.Transaction{Kind: &lightkeeperv1.Transaction_SetKeeperOnline{
		SetKeeperOnline: &lightkeeperv1.SetKeeperOnlineTx{KeeperId: id, Online: online},
	}}
}

// produce applies one block (system transactions first), persists it and
// only then answers the waiting requests and dispatches. It holds the
// machine's write lock from ApplyBlock until the block's batch is committed,
// so no handler reads a block that is not yet durable; a block that fails
// to commit leaves the lock with lost set: the machine is ahead of the disk
// and reads refuse from then on (the node is stopping).
func (n *Node) produce(batch []*pendingTx, system []*lightkeeperv1.Transaction) error {
	txs := make([]*lightkeeperv1.Transaction, 0, len(system)+len(batch))
	txs = append(txs, system...)
	var verified state.VerifiedSigs
	for _, p := range batch {
		txs = append(txs, p.tx)
		verified.Add(p.verified...)
	}
	start := time.Now()
	n.mu.Lock()
	head, _ := n.machine.Head()
	t := n.now().UnixMilli()
	if ht := head.GetTime().AsTime().UnixMilli(); t < ht {
		t = ht // the wall clock stepped back; block time never does
	}
	// Fresh entropy once the block's transactions are fixed: part of the
	// committee seed of the rounds it opens, so no submitter can predict
	// (and grind nonces against) its committee.
	entropy := make([]byte, protocol.EntropyLen)
	if _, err := rand.Read(entropy); err != nil {
		n.mu.Unlock()
		return err
	}
	res, err := n.machine.ApplyBlock(state.BlockInput{TimeUnixMilli: t, Txs: txs, Entropy: entropy, Verified: verified})
	if err != nil {
		n.mu.Unlock()
		// A refused block leaves the machine unchanged: fail its requests.
		for _, p := range batch {
			p.done <- state.TxResult{Err: err}
		}
		return nil
	}
	// Counted before the commit: once the block is readable a scrape must
	// already include it (a failed commit stops the node anyway).
	n.metrics.blockApplied(res)
	if err := n.commit(res); err != nil {
		n.lost = err
		n.mu.Unlock()
		return err
	}
	n.mu.Unlock()
	n.metrics.blockCommitted(res, time.Since(start))
	for i, p := range batch {
		p.done <- res.TxResults[len(system)+i]
	}
	n.afterBlock(res)
	return nil
}

// commit persists an applied block; the caller holds n.mu.
func (n *Node) commit(res *state.Result) error {
	if n.testHookAfterApply != nil {
		if err := n.testHookAfterApply(res); err != nil {
			return err
		}
	}
	return n.persistInto(n.store.NewBatch(), res, nil)
}

// persistInto writes a block's change set, and extra's records when given
// (a replica's app hash), in one synced batch.
func (n *Node) persistInto(b *pebbledb.Batch, res *state.Result, extra func(*pebbledb.Batch) error) error {
	if err := b.Apply(res.Changes); err != nil {
		b.Close()
		return fmt.Errorf("persist block %d: %w", res.Block.GetHeader().GetHeight(), err)
	}
	if extra != nil {
		if err := extra(b); err != nil {
			b.Close()
			return fmt.Errorf("persist block %d: %w", res.Block.GetHeader().GetHeight(), err)
		}
	}
	if err := b.Commit(); err != nil {
		return fmt.Errorf("commit block %d: %w", res.Block.GetHeader().GetHeight(), err)
	}
	return nil
}

// afterBlock reacts to a durable block: new rounds go to their committees,
// watchers hear of changed rounds.
func (n *Node) afterBlock(res *state.Result) {
	if n.challenges != nil {
		n.challenges.observe(res)
	}
	if n.sealer != nil {
		n.sealer.observe()
	}
	n.history.observe(res)
	for _, ev := range res.Events {
		switch e := ev.(type) {
		case state.RoundOpened:
			n.proofs.add(e.Round)
			n.dispatchRound(e.Round)
		case state.RoundDecided:
			n.log.Info("round decided", "round", e.Round.GetId(), "outcome", e.Round.GetOutcome().String(),
				"approvals", e.Round.GetApprovals(), "rejections", e.Round.GetRejections(), "height", res.Block.GetHeader().GetHeight())
		case state.EquivocationDetected:
			n.log.Warn("equivocation", "keeper", e.Evidence.GetKeeperId(), "round", e.Evidence.GetRoundId())
		}
	}
	for _, r := range res.Rounds {
		if r.GetPhase() == lightkeeperv1.RoundPhase_ROUND_PHASE_CLOSED {
			n.dispatch.closeRound(r.GetId())
		}
		n.watch.notify(r.GetId())
	}
	if len(res.SpentNullifiers) > 0 {
		n.watch.notify(withdrawalsTopic)
	}
}
