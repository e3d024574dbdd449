package keeper

import (
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/types/known/timestamppb"

	lightkeeperv1 "github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1"
	"github.com/lightkeeper-net/lightkeeper/protocol"
)

// Keeper is one keeper identity talking to a coordinator, or to one at a
// time of a list of coordinators serving the same chain (coordinators.go).
type Keeper struct {
	cfg Config
	key ed25519.PrivateKey
	id  string
	// eps are the coordinators in order of preference; cur indexes the
	// one in use, which the session and the vote sender share.
	eps []*endpoint
	cur atomic.Int64

	// chainID is the chain's id once the keeper has registered (nil
	// before). Info may run beside Run (a host's status poll) and reads it.
	chainID atomic.Pointer[string]
	// lastAuth is the time of the last session signed (unix ms): the
	// coordinator takes each session signature once, so every session is
	// signed with a later time than the one before.
	lastAuth atomic.Int64
	// sessionTTL is the chain's session ttl (ns; 0: no session rules),
	// read from the coordinator's chain info (session.go).
	sessionTTL atomic.Int64
	stats      stats
	// seen remembers the rounds already voted on (until their deadline),
	// so a task redelivered after a reconnect is not checked twice.
	seenMu sync.Mutex
	seen   map[string]time.Time
}

// New returns a keeper for the coordinator at baseURL (NewList for a
// keeper with several coordinators; baseURL is not checked here). Its
// engine sees compute tasks with the program inlined: the keeper fetches
// each program once from the coordinator's ProgramService (and checks it
// against its id) before the engine is called.
func New(baseURL string, key ed25519.PrivateKey, cfg Config) *Keeper {
	return newKeeper([]string{baseURL}, key, cfg)
}

// NewList returns a keeper for a list of coordinators serving the same
// chain, in order of preference: it starts with the first and moves to
// the next whenever the one in use cannot be reached (coordinators.go).
// The list is checked with CheckCoordinators.
func NewList(coordinators []string, key ed25519.PrivateKey, cfg Config) (*Keeper, error) {
	urls, err := CheckCoordinators(coordinators)
	if err != nil {
		return nil, err
	}
	return newKeeper(urls, key, cfg), nil
}

func newKeeper(urls []string, key ed25519.PrivateKey, cfg Config) *Keeper {
	pub := key.Public().(ed25519.PublicKey)
	k := &Keeper{
		cfg:  cfg,
		key:  key,
		id:   hex.EncodeToString(pub),
		seen: make(map[string]time.Time),
	}
	for _, u := range urls {
		k.eps = append(k.eps, newEndpoint(cfg.httpClient, u))
	}
	k.cfg.engine = newProgramLoader(cfg.engine, k.fetchProgram)
	return k
}

// fetchProgram downloads a registered program's module.
func (k *Keeper) fetchProgram(ctx context.Context, id string) ([]byte, error) {
	var module []byte
	err := k.onAny(ctx, func(ep *endpoint) error {
		res, err := ep.programs.GetProgram(ctx, connect.NewRequest(&lightkeeperv1.GetProgramRequest{ProgramId: id, IncludeModule: true}))
		if err != nil {
			return err
		}
		module = res.Msg.GetProgram().GetModule()
		return nil
	})
	return module, err
}

// chain returns the chain's id, "" before the keeper has registered.
func (k *Keeper) chain() string {
	if p := k.chainID.Load(); p != nil {
		return *p
	}
	return ""
}

// ID returns the keeper id (hex public key).
func (k *Keeper) ID() string { return k.id }

// Run keeps the keeper working until ctx is done: it registers, opens a
// session and votes, and after any failure backs off and starts over. With
// several coordinators, a failure that says the coordinator is gone moves
// the session to the next one at once; the backoff applies after a whole
// round of the list has failed.
func (k *Keeper) Run(ctx context.Context) error {
	votes := make(chan *lightkeeperv1.Vote, 1024)
	tasks := make(chan *lightkeeperv1.Task, 256)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); k.sendVotes(ctx, votes) }()
	for range k.cfg.workers {
		wg.Add(1)
		go func() { defer wg.Done(); k.work(ctx, tasks, votes) }()
	}
	backoff := k.cfg.minBackoff
	failed := 0 // sessions in a row that did not open
	for ctx.Err() == nil {
		k.stats.connected.Store(false)
		i, ep := k.current()
		err := k.session(ctx, ep, tasks)
		if ctx.Err() != nil {
			break
		}
		// A session that was established (the coordinator answered the
		// subscription or a pull) and then failed is most likely a
		// coordinator restart: reconnect at once, and back off from the
		// start only if that fails too. Waiting here would leave the
		// restarted coordinator without eligible keepers, refusing every
		// submission meanwhile.
		healthy := k.stats.connected.Load()
		k.stats.connected.Store(false)
		k.stats.reconnects.Add(1)
		moved := failover(err) && k.switchFrom(i, err)
		if healthy {
			failed = 0
			backoff = k.cfg.minBackoff
			k.cfg.logger.Warn("session ended; reconnecting now", "keeper", short(k.id), "coordinator", ep.url, "err", err)
			continue
		}
		failed++
		if moved && failed%len(k.eps) != 0 {
			continue // the next coordinator may answer: try it now
		}
		k.cfg.logger.Warn("session failed; reconnecting", "keeper", short(k.id), "coordinator", ep.url, "err", err, "backoff", backoff)
		jitter := time.Duration(rand.Int64N(int64(backoff)/2 + 1))
		select {
		case <-time.After(backoff + jitter):
		case <-ctx.Done():
		}
		backoff = min(2*backoff, k.cfg.maxBackoff)
	}
	k.stats.connected.Store(false)
	wg.Wait()
	return nil
}

// session registers if needed and pumps tasks from ep until the session
// fails.
func (k *Keeper) session(ctx context.Context, ep *endpoint, tasks chan<- *lightkeeperv1.Task) error {
	if k.chain() == "" {
		info, err := ep.ledger.GetChainInfo(ctx, connect.NewRequest(&lightkeeperv1.GetChainInfoRequest{}))
		if err != nil {
			return fmt.Errorf("chain info: %w", err)
		}
		if info.Msg.GetConsensusHalted() {
			return &HaltedError{URL: ep.url, Reason: info.Msg.GetHaltReason()}
		}
		chainID := info.Msg.GetChainId()
		k.noteChain(info.Msg)
		_, err = ep.keeper.RegisterKeeper(ctx, connect.NewRequest(&lightkeeperv1.RegisterKeeperRequest{
			KeeperId:  k.id,
			Signature: protocol.SignRegistration(k.key, chainID),
		}))
		if err != nil {
			return fmt.Errorf("register: %w", err)
		}
		k.chainID.Store(&chainID)
		ep.chainChecked.Store(true)
		k.cfg.logger.Info("keeper registered", "keeper", short(k.id), "chain", chainID, "engine", k.cfg.engine.Name(), "coordinator", ep.url)
	}
	if err := k.checkChain(ctx, ep); err != nil {
		return err
	}
	if k.cfg.pull {
		return k.pullSession(ctx, ep, tasks)
	}
	stream, err := ep.keeper.Subscribe(ctx, connect.NewRequest(&lightkeeperv1.SubscribeRequest{Auth: k.auth()}))
	if err != nil {
		return fmt.Errorf("subscribe: %w", err)
	}
	defer stream.Close()
	// The coordinator sends the response headers, marked, once the
	// session is open (an error otherwise): only then is the session
	// established. (The header's name is service.SessionHeader; the
	// keeper does not import the coordinator.)
	if stream.ResponseHeader().Get("Lightkeeper-Session") == "open" {
		k.stats.connected.Store(true)
	}
	renewCtx, stopRenewing := context.WithCancel(ctx)
	renewed := make(chan struct{})
	go func() { defer close(renewed); k.renewSessions(renewCtx, ep) }()
	defer func() { stopRenewing(); <-renewed }()
	for stream.Receive() {
		select {
		case tasks <- stream.Msg().GetTask():
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if err := stream.Err(); err != nil {
		return fmt.Errorf("subscribe stream: %w", err)
	}
	return errStreamClosed
}

func (k *Keeper) pullSession(ctx context.Context, ep *endpoint, tasks chan<- *lightkeeperv1.Task) error {
	for ctx.Err() == nil {
		res, err := ep.keeper.PullTasks(ctx, connect.NewRequest(&lightkeeperv1.PullTasksRequest{
			Auth:   k.auth(),
			WaitMs: uint32(k.cfg.pullWait.Milliseconds()),
		}))
		if err != nil {
			return fmt.Errorf("pull: %w", err)
		}
		k.stats.connected.Store(true)
		for _, t := range res.Msg.GetTasks() {
			select {
			case tasks <- t:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
	}
	return ctx.Err()
}

func (k *Keeper) auth() *lightkeeperv1.SessionAuth {
	ms := time.Now().UnixMilli()
	for {
		last := k.lastAuth.Load()
		ms = max(ms, last+1)
		if k.lastAuth.CompareAndSwap(last, ms) {
			break
		}
	}
	return &lightkeeperv1.SessionAuth{
		KeeperId:  k.id,
		Time:      timestamppb.New(time.UnixMilli(ms)),
		Signature: protocol.SignSession(k.key, k.chain(), ms),
	}
}

// work checks tasks and signs the votes the behaviour casts.
func (k *Keeper) work(ctx context.Context, tasks <-chan *lightkeeperv1.Task, votes chan<- *lightkeeperv1.Vote) {
	for {
		var t *lightkeeperv1.Task
		select {
		case t = <-tasks:
		case <-ctx.Done():
			return
		}
		batch := k.gather(ctx, t, tasks)
		for i, verdicts := range k.verdicts(ctx, batch) {
			for _, vote := range k.signAll(batch[i], verdicts) {
				select {
				case votes <- vote:
				case <-ctx.Done():
					return
				}
			}
		}
	}
}

// gather returns first (unless its round was handled already) and the
// tasks that arrive within the task window after it, up to the batch
// size, so that proofs under one key are verified together. Without a
// batching engine, or for a behaviour that does not check, it does not
// wait.
func (k *Keeper) gather(ctx context.Context, first *lightkeeperv1.Task, tasks <-chan *lightkeeperv1.Task) []*lightkeeperv1.Task {
	var batch []*lightkeeperv1.Task
	if k.firstTime(first) {
		batch = append(batch, first)
	}
	_, batching := k.cfg.engine.(BatchEngine)
	if !batching || !k.cfg.behaviour.Checks() || k.cfg.taskBatch <= 1 || first.GetCompute() != nil {
		return batch
	}
	timer := time.NewTimer(k.cfg.taskWindow)
	defer timer.Stop()
	for len(batch) < k.cfg.taskBatch {
		select {
		case t := <-tasks:
			if k.firstTime(t) {
				batch = append(batch, t)
			}
		case <-timer.C:
			return batch
		case <-ctx.Done():
			return batch
		}
	}
	return batch
}

// verdicts checks tasks (unless the behaviour does not look at tasks) and
// returns, for each, the verdicts the behaviour casts on it.
func (k *Keeper) verdicts(ctx context.Context, ts []*lightkeeperv1.Task) [][]Verdict {
	honest := make([]Verdict, len(ts))
	if k.cfg.behaviour.Checks() {
		if b, ok := k.cfg.engine.(BatchEngine); ok && len(ts) > 1 {
			honest = b.CheckBatch(ctx, ts)
		} else {
			for i, t := range ts {
				honest[i] = k.cfg.engine.Check(ctx, t)
			}
		}
		for i, v := range honest {
			if v.Kind == lightkeeperv1.VoteKind_VOTE_KIND_ABSTAIN {
				// The vote carries the reason code only; the detail (which
				// limit, which error) exists only here.
				k.cfg.logger.Warn("abstaining", "round", ts[i].GetRoundId(), "reason", v.Reason, "detail", v.Detail)
			}
		}
	}
	out := make([][]Verdict, len(ts))
	for i, t := range ts {
		out[i] = k.cfg.behaviour.Votes(t, honest[i])
	}
	return out
}

// signAll signs verdicts on a task and records them in the stats.
func (k *Keeper) signAll(t *lightkeeperv1.Task, verdicts []Verdict) []*lightkeeperv1.Vote {
	votes := make([]*lightkeeperv1.Vote, 0, len(verdicts))
	for _, v := range verdicts {
		vote, err := k.sign(t.GetRoundId(), v)
		if err != nil {
			k.cfg.logger.Error("cannot sign vote", "round", t.GetRoundId(), "err", err)
			break
		}
		k.stats.record(t.GetRoundId(), v)
		votes = append(votes, vote)
	}
	return votes
}

// firstTime reports whether the task's round has not been handled yet, and
// marks it handled.
func (k *Keeper) firstTime(t *lightkeeperv1.Task) bool {
	k.seenMu.Lock()
	defer k.seenMu.Unlock()
	now := time.Now()
	if len(k.seen) > 4096 {
		for id, deadline := range k.seen {
			if now.After(deadline) {
				delete(k.seen, id)
			}
		}
	}
	if _, ok := k.seen[t.GetRoundId()]; ok {
		return false
	}
	k.seen[t.GetRoundId()] = t.GetDeadline().AsTime()
	return true
}

func (k *Keeper) sign(roundID string, v Verdict) (*lightkeeperv1.Vote, error) {
	raw, err := hex.DecodeString(roundID)
	if err != nil || len(raw) != 32 {
		return nil, fmt.Errorf("round id %q is not 32 hex bytes", roundID)
	}
	rid := [32]byte(raw)
	sig := protocol.SignVote(k.key, k.chain(), rid, protocol.VoteKind(v.Kind), v.ResultHash)
	if sig == nil {
		return nil, errors.New("vote cannot be signed")
	}
	return &lightkeeperv1.Vote{
		RoundId:    roundID,
		KeeperId:   k.id,
		Kind:       v.Kind,
		ResultHash: v.ResultHash[:],
		Reason:     v.Reason,
		Signature:  sig,
		Compute:    v.Compute,
	}, nil
}

// sendVotes batches votes: a batch goes out when it is full or batchDelay
// after its first vote. A batch that cannot be sent is retried a few
// times; after that its rounds will count the keeper as silent, which is
// what it was.
func (k *Keeper) sendVotes(ctx context.Context, votes <-chan *lightkeeperv1.Vote) {
	var batch []*lightkeeperv1.Vote
	var flush <-chan time.Time
	outputBytes := 0
	for {
		select {
		case v := <-votes:
			batch = append(batch, v)
			if len(batch) == 1 {
				flush = time.After(k.cfg.batchDelay)
			}
			// A leader's compute vote carries up to 64 KiB of output:
			// keep a batch well inside the coordinator's request limit.
			outputBytes += len(v.GetCompute().GetOutput())
			if len(batch) < k.cfg.batchSize && outputBytes < maxBatchOutputBytes {
				continue
			}
		case <-flush:
		case <-ctx.Done():
			return
		}
		k.submit(ctx, batch)
		batch, flush, outputBytes = nil, nil, 0
	}
}

// maxBatchOutputBytes is the compute output one vote batch carries at most
// (before the vote that crosses it is sent with it).
const maxBatchOutputBytes = 1 << 20

// submitRounds is how many times submit goes round the list of
// coordinators (one try each) before it gives a batch up.
const submitRounds = 5

// submit sends a batch until a coordinator answers it. When the one in use
// cannot be reached the batch goes to the next one at once (votes are
// transactions any replica accepts; one the old coordinator had committed
// comes back DUPLICATE, which counts as accepted); after a whole round of
// the list it waits, with backoff. InvalidArgument would be the answer
// anywhere: the batch is given up at once.
func (k *Keeper) submit(ctx context.Context, batch []*lightkeeperv1.Vote) {
	delay := k.cfg.minBackoff
	for attempt := 1; ; attempt++ {
		i, ep := k.current()
		err := k.checkChain(ctx, ep)
		var res *connect.Response[lightkeeperv1.SubmitVotesResponse]
		if err == nil {
			res, err = ep.keeper.SubmitVotes(ctx, connect.NewRequest(&lightkeeperv1.SubmitVotesRequest{Votes: batch}))
		}
		if err == nil {
			for i, r := range res.Msg.GetResults() {
				k.stats.status(r.GetStatus())
				if !voteCounts(r.GetStatus()) && i < len(batch) {
					k.cfg.logger.Debug("vote not accepted", "keeper", short(k.id), "round", r.GetRoundId(), "status", r.GetStatus().String(), "msg", r.GetMessage())
				}
			}
			return
		}
		if attempt >= submitRounds*len(k.eps) || ctx.Err() != nil || connect.CodeOf(err) == connect.CodeInvalidArgument {
			k.cfg.logger.Warn("votes lost", "keeper", short(k.id), "votes", len(batch), "coordinator", ep.url, "err", err)
			k.stats.lost.Add(int64(len(batch)))
			return
		}
		if failover(err) && k.switchFrom(i, err) && attempt%len(k.eps) != 0 {
			continue // resend to the next coordinator now
		}
		select {
		case <-time.After(delay):
		case <-ctx.Done():
			return
		}
		delay = min(2*delay, k.cfg.maxBackoff)
	}
}

// voteCounts reports whether a vote with this status is in the ledger:
// ACCEPTED, or DUPLICATE — the same vote, signature and all, was accepted
// before (a batch resent after its answer was lost, or resent to another
// coordinator of the chain after the first had committed it).
func voteCounts(st lightkeeperv1.VoteStatus) bool {
	return st == lightkeeperv1.VoteStatus_VOTE_STATUS_ACCEPTED || st == lightkeeperv1.VoteStatus_VOTE_STATUS_DUPLICATE
}

// stats are the keeper's counters, safe to read while it runs.
type stats struct {
	connected  atomic.Bool
	reconnects atomic.Int64
	// renewals and renewalFailures count RenewSession calls (session.go).
	renewals        atomic.Int64
	renewalFailures atomic.Int64
	switches        atomic.Int64
	approvals       atomic.Int64
	rejections      atomic.Int64
	abstains        atomic.Int64
	accepted        atomic.Int64
	refused         atomic.Int64
	lost            atomic.Int64

	mu         sync.Mutex
	last       []VoteRecord
	abstainLog []VoteRecord
}

// VoteRecord is one vote the keeper cast.
type VoteRecord struct {
	RoundID string
	Kind    lightkeeperv1.VoteKind
	Reason  lightkeeperv1.RejectReason
	// Detail is the keeper's own explanation (e.g. why it abstained); it
	// is not part of the vote.
	Detail string
	Time   time.Time
}

// Stats is a snapshot of a keeper's counters.
type Stats struct {
	Connected  bool
	Reconnects int64
	// Switches counts the moves from one coordinator of the list to the
	// next; Coordinator is the one in use.
	Switches                        int64
	Coordinator                     string
	Approvals, Rejections, Abstains int64
	// Accepted counts the votes the coordinator has in its ledger:
	// accepted, or DUPLICATE of one accepted before.
	Accepted, Refused, Lost int64
	// Renewals counts the chain sessions renewed while streaming,
	// RenewalFailures the renewals that failed (refusals for being early
	// are neither).
	Renewals, RenewalFailures int64
	LastVotes                 []VoteRecord // newest last, at most 16
	// LastAbstentions are the latest ABSTAIN votes with their detail,
	// newest last, at most 16: why this keeper could not vote.
	LastAbstentions []VoteRecord
}

func (s *stats) record(roundID string, v Verdict) {
	switch v.Kind {
	case lightkeeperv1.VoteKind_VOTE_KIND_APPROVE:
		s.approvals.Add(1)
	case lightkeeperv1.VoteKind_VOTE_KIND_REJECT:
		s.rejections.Add(1)
	default:
		s.abstains.Add(1)
	}
	s.mu.Lock()
	rec := VoteRecord{RoundID: roundID, Kind: v.Kind, Reason: v.Reason, Detail: v.Detail, Time: time.Now()}
	s.last = append(s.last, rec)
	if len(s.last) > 16 {
		s.last = s.last[len(s.last)-16:]
	}
	if v.Kind == lightkeeperv1.VoteKind_VOTE_KIND_ABSTAIN {
		s.abstainLog = append(s.abstainLog, rec)
		if len(s.abstainLog) > 16 {
			s.abstainLog = s.abstainLog[len(s.abstainLog)-16:]
		}
	}
	s.mu.Unlock()
}

func (s *stats) status(st lightkeeperv1.VoteStatus) {
	if voteCounts(st) {
		s.accepted.Add(1)
	} else {
		s.refused.Add(1)
	}
}

// Stats returns a snapshot of the keeper's counters.
func (k *Keeper) Stats() Stats {
	s := &k.stats
	coordinator := ""
	if len(k.eps) > 0 {
		_, ep := k.current()
		coordinator = ep.url
	}
	s.mu.Lock()
	last := append([]VoteRecord(nil), s.last...)
	abstentions := append([]VoteRecord(nil), s.abstainLog...)
	s.mu.Unlock()
	return Stats{
		Connected: s.connected.Load(), Reconnects: s.reconnects.Load(), Switches: s.switches.Load(), Coordinator: coordinator,
		Approvals: s.approvals.Load(), Rejections: s.rejections.Load(), Abstains: s.abstains.Load(),
		Accepted: s.accepted.Load(), Refused: s.refused.Load(), Lost: s.lost.Load(),
		Renewals: s.renewals.Load(), RenewalFailures: s.renewalFailures.Load(),
		LastVotes: last, LastAbstentions: abstentions,
	}
}
