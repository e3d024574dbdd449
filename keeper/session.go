package keeper

import (
	"context"
	"time"

	"connectrpc.com/connect"

	lightkeeperv1 "github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1"
)

// On a chain that keeps keeper sessions as chain state (genesis
// params.sessions, docs/design.md "Keeper sessions as chain state") a
// keeper is online until a block's time passes its last accepted session
// plus the ttl. Opening a Subscribe stream or a PullTasks puts a session on
// the chain when the keeper needs one; a pulling keeper calls again well
// within the ttl, but a streaming keeper holds one stream for as long as
// its coordinator lives, so it renews its session beside the stream
// (RenewSession) every third of the ttl. The coordinator refuses a renewal
// within a quarter of the ttl of the last one, so a third never trips it;
// after a renewal the session has two more periods to live, and a failed
// call is retried sooner.

// noteChain records what a keeper needs from a coordinator's chain info
// beyond the chain id: the session ttl (0 for a chain without session
// rules, where nothing is renewed).
func (k *Keeper) noteChain(info *lightkeeperv1.GetChainInfoResponse) {
	k.sessionTTL.Store(int64(info.GetParams().GetSessions().GetTtl().AsDuration()))
}

// renewEvery is how often a streaming keeper renews its chain session; 0
// when it does not (the chain keeps no sessions, or the config says not
// to).
func (k *Keeper) renewEvery() time.Duration {
	ttl := time.Duration(k.sessionTTL.Load())
	if !k.cfg.renewSessions || ttl <= 0 {
		return 0
	}
	return ttl / 3
}

// renewSessions renews the keeper's session on ep every renewEvery until
// ctx ends (the stream it accompanies ended). A failed renewal is logged
// and tried again after a quarter of the period (a twelfth of the ttl),
// so one lost call costs a twelfth of the session's margin, not a third;
// a coordinator that is really gone ends the stream as well, which moves
// the keeper on (Run). A coordinator that has no renewals
// (Unimplemented: an older one) or refuses them for the chain
// (FailedPrecondition: no session rules) is not asked again for this
// stream.
func (k *Keeper) renewSessions(ctx context.Context, ep *endpoint) {
	every := k.renewEvery()
	if every <= 0 {
		return
	}
	timer := time.NewTimer(every)
	defer timer.Stop()
	for {
		select {
		case <-timer.C:
		case <-ctx.Done():
			return
		}
		next, start := every, time.Now()
		_, err := ep.keeper.RenewSession(ctx, connect.NewRequest(&lightkeeperv1.RenewSessionRequest{Auth: k.auth()}))
		switch code := connect.CodeOf(err); {
		case err == nil:
			k.stats.renewals.Add(1)
		case ctx.Err() != nil:
			return
		case code == connect.CodeUnimplemented || code == connect.CodeFailedPrecondition:
			k.cfg.logger.Debug("coordinator takes no session renewals; not renewing on this stream", "keeper", short(k.id), "coordinator", ep.url, "err", err)
			return
		case code == connect.CodeResourceExhausted:
			// Renewed recently enough (the stream opened with a fresh
			// session, or a retry after a lost answer): nothing to do
			// until the next period.
			k.cfg.logger.Debug("session renewal not due", "keeper", short(k.id), "coordinator", ep.url, "err", err)
		default:
			k.stats.renewalFailures.Add(1)
			k.cfg.logger.Warn("session renewal failed; retrying", "keeper", short(k.id), "coordinator", ep.url, "err", err, "retry_in", every/4)
			next = every / 4
		}
		// The call waits for its block: the period runs from its start,
		// so renewals stay a third of the ttl apart however slow blocks are.
		timer.Reset(max(0, next-time.Since(start)))
	}
}
