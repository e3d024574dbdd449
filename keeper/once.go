package keeper

import (
	"context"
	"errors"
	"fmt"
	"time"

	"connectrpc.com/connect"

	lightkeeperv1 "github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1"
	"github.com/lightkeeper-net/lightkeeper/protocol"
)

// PollOptions bound one Poll: how long it may wait for work, how much work
// it takes, and how long it may spend checking.
type PollOptions struct {
	// Wait is how long PullTasks may wait for a task to arrive (the
	// coordinator caps it at its max_pull_wait); 0 or less returns at once
	// when nothing is queued.
	Wait time.Duration
	// MaxTasks is the most tasks taken in one pull; 0 lets the coordinator
	// choose (16). On a host with a CPU budget per invocation this is the
	// dependable bound: some hosts (Cloudflare Workers, as deployed) do not
	// advance the clock while code runs, so a wall-clock budget cannot see
	// time spent verifying there.
	MaxTasks int
	// Budget, when positive, stops checking once this much time has gone by
	// since the tasks arrived; the tasks left are answered ABSTAIN (could
	// not check within a local resource limit, docs/design.md §3) rather than left
	// to time out silently.
	Budget time.Duration
}

// PollOnce registers if needed, pulls tasks once (waiting up to wait for
// one), checks them, signs the votes and submits them, all before it
// returns. It is the whole keeper for hosts that run in short invocations
// (an edge worker's cron trigger) and cannot keep Run's goroutines alive.
func (k *Keeper) PollOnce(ctx context.Context, wait time.Duration) (handled int, err error) {
	return k.Poll(ctx, PollOptions{Wait: wait})
}

// Poll is PollOnce with every bound explicit. handled counts the tasks that
// got a vote (or were skipped as already voted on), whether or not the
// submission then succeeded; err says what failed.
func (k *Keeper) Poll(ctx context.Context, o PollOptions) (handled int, err error) {
	// A host that runs in short invocations has no later moment to try
	// another coordinator from: the pull goes round the list at once.
	var res *connect.Response[lightkeeperv1.PullTasksResponse]
	err = k.onAny(ctx, func(ep *endpoint) error {
		if err := k.ensureRegistered(ctx, ep); err != nil {
			return err
		}
		// wait_ms 0 means the coordinator's default (20 s), so "do not
		// wait" is the shortest wait it can express, 1 ms.
		r, err := ep.keeper.PullTasks(ctx, connect.NewRequest(&lightkeeperv1.PullTasksRequest{
			Auth:     k.auth(),
			MaxTasks: uint32(max(0, min(o.MaxTasks, 1024))),
			WaitMs:   uint32(max(1, min(o.Wait.Milliseconds(), 1<<31))),
		}))
		if err != nil {
			return fmt.Errorf("pull %s: %w", ep.url, err)
		}
		res = r
		return nil
	})
	if err != nil {
		k.stats.connected.Store(false)
		return 0, err
	}
	k.stats.connected.Store(true)
	tasks := res.Msg.GetTasks()
	start := time.Now()
	// The tasks of one pull arrived together: they are checked in groups
	// of the task batch size (one by one under a wall-clock budget, which
	// is looked at between checks).
	group := k.cfg.taskBatch
	if o.Budget > 0 {
		group = 1
	}
	var batch []*lightkeeperv1.Vote
	for len(tasks) > 0 {
		if ctx.Err() != nil {
			// Nothing can be sent any more; stop rather than check in vain.
			return handled, ctx.Err()
		}
		var fresh []*lightkeeperv1.Task
		for len(tasks) > 0 && len(fresh) < group {
			t := tasks[0]
			tasks = tasks[1:]
			if k.firstTime(t) {
				fresh = append(fresh, t)
			} else {
				handled++
			}
		}
		var verdicts [][]Verdict
		switch {
		case len(fresh) == 0:
			continue
		case o.Budget > 0 && time.Since(start) > o.Budget:
			// OVERSIZED is the reason the verifier gives for work over a
			// local limit; a spent budget is the same kind of refusal.
			for range fresh {
				verdicts = append(verdicts, []Verdict{abstain(lightkeeperv1.RejectReason_REJECT_REASON_OVERSIZED,
					fmt.Sprintf("not checked: this invocation's budget of %v was spent", o.Budget))})
			}
		default:
			verdicts = k.verdicts(ctx, fresh)
		}
		for i, t := range fresh {
			batch = append(batch, k.signAll(t, verdicts[i])...)
			handled++
		}
	}
	if len(batch) == 0 {
		return handled, nil
	}
	return handled, k.submitOnce(ctx, batch)
}

// submitOnce sends one batch of votes, retrying briefly: a short-lived host
// has no later moment to send them from (the coordinator re-sends a task
// only when a new session starts, after pull_grace without a pull), and a
// round's deadline is seconds away.
func (k *Keeper) submitOnce(ctx context.Context, batch []*lightkeeperv1.Vote) error {
	var res *connect.Response[lightkeeperv1.SubmitVotesResponse]
	var err error
	delay := 200 * time.Millisecond
	// Three tries at each coordinator of the list; the next one right
	// away when the one in use is not there, a pause after each round.
	for attempt := 1; ; attempt++ {
		i, ep := k.current()
		if err = k.checkChain(ctx, ep); err == nil {
			res, err = ep.keeper.SubmitVotes(ctx, connect.NewRequest(&lightkeeperv1.SubmitVotesRequest{Votes: batch}))
		}
		if err == nil || attempt >= 3*len(k.eps) || connect.CodeOf(err) == connect.CodeInvalidArgument || ctx.Err() != nil {
			break
		}
		if failover(err) && k.switchFrom(i, err) && attempt%len(k.eps) != 0 {
			continue
		}
		select {
		case <-time.After(delay):
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
		delay *= 2
	}
	if err != nil {
		k.stats.lost.Add(int64(len(batch)))
		return fmt.Errorf("submit %d votes: %w", len(batch), err)
	}
	var refused []string
	for _, r := range res.Msg.GetResults() {
		k.stats.status(r.GetStatus())
		if !voteCounts(r.GetStatus()) {
			refused = append(refused, fmt.Sprintf("%s: %s %s", short(r.GetRoundId()), r.GetStatus(), r.GetMessage()))
		}
	}
	if len(refused) > 0 {
		// Not an error: a vote after the round closed is normal when a
		// task is redelivered. Worth a line in the log.
		k.cfg.logger.Info("votes not accepted", "keeper", short(k.id), "votes", refused)
	}
	return nil
}

// ensureRegistered learns the chain id and registers the key unless the
// coordinator already knows it as registered. It reads before it writes so
// a host that starts afresh on every invocation costs the ledger nothing
// once registered.
func (k *Keeper) ensureRegistered(ctx context.Context, ep *endpoint) error {
	if k.chain() != "" {
		return nil
	}
	info, err := ep.ledger.GetChainInfo(ctx, connect.NewRequest(&lightkeeperv1.GetChainInfoRequest{}))
	if err != nil {
		return fmt.Errorf("chain info: %w", err)
	}
	if info.Msg.GetConsensusHalted() {
		return &HaltedError{URL: ep.url, Reason: info.Msg.GetHaltReason()}
	}
	chainID := info.Msg.GetChainId()
	k.noteChain(info.Msg)
	got, err := ep.keeper.GetKeeper(ctx, connect.NewRequest(&lightkeeperv1.GetKeeperRequest{KeeperId: k.id}))
	switch {
	case err == nil && got.Msg.GetKeeper().GetRegistered():
	case err == nil || connect.CodeOf(err) == connect.CodeNotFound:
		_, err = ep.keeper.RegisterKeeper(ctx, connect.NewRequest(&lightkeeperv1.RegisterKeeperRequest{
			KeeperId:  k.id,
			Signature: protocol.SignRegistration(k.key, chainID),
		}))
		if err != nil {
			return fmt.Errorf("register: %w", err)
		}
		k.cfg.logger.Info("keeper registered", "keeper", short(k.id), "chain", chainID, "engine", k.cfg.engine.Name(), "coordinator", ep.url)
	default:
		return fmt.Errorf("get keeper: %w", err)
	}
	k.chainID.Store(&chainID)
	ep.chainChecked.Store(true)
	return nil
}

// ErrNotRegistered is returned by Info for a key the coordinator does not
// know yet.
var ErrNotRegistered = errors.New("keeper not known to the coordinator yet")

// Info asks the coordinator for this keeper's record: stake, reputation,
// online, vote counts. Hosts show it to people; it is read-only.
func (k *Keeper) Info(ctx context.Context) (*lightkeeperv1.Keeper, error) {
	var res *connect.Response[lightkeeperv1.GetKeeperResponse]
	err := k.onAny(ctx, func(ep *endpoint) error {
		var err error
		res, err = ep.keeper.GetKeeper(ctx, connect.NewRequest(&lightkeeperv1.GetKeeperRequest{KeeperId: k.id}))
		return err
	})
	if connect.CodeOf(err) == connect.CodeNotFound {
		return nil, ErrNotRegistered
	}
	if err != nil {
		return nil, fmt.Errorf("get keeper: %w", err)
	}
	return res.Msg.GetKeeper(), nil
}

func short(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}
