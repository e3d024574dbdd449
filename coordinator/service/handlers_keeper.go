package service

import (
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/proto"

	"github.com/lightkeeper-net/lightkeeper/coordinator/state"
	"github.com/lightkeeper-net/lightkeeper/pebbledb"
	lightkeeperv1 "github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1"
	"github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1/lightkeeperv1connect"
	"github.com/lightkeeper-net/lightkeeper/protocol"
)

type keeperServer struct{ n *Node }

var _ lightkeeperv1connect.KeeperServiceHandler = keeperServer{}

// maxVoteBatch bounds one SubmitVotes call.
const maxVoteBatch = 1024

func (s keeperServer) RegisterKeeper(ctx context.Context, req *connect.Request[lightkeeperv1.RegisterKeeperRequest]) (*connect.Response[lightkeeperv1.RegisterKeeperResponse], error) {
	if err := checkID("keeper_id", req.Msg.GetKeeperId()); err != nil {
		return nil, err
	}
	if k, done, err := s.n.admitKeeper(req.Peer().Addr, req.Msg.GetKeeperId(), req.Msg.GetSignature()); err != nil || done {
		if err != nil {
			return nil, err
		}
		return connect.NewResponse(&lightkeeperv1.RegisterKeeperResponse{Keeper: k, ChainId: s.n.chainID}), nil
	}
	res, err := s.n.submit(ctx, &lightkeeperv1.Transaction{Kind: &lightkeeperv1.Transaction_RegisterKeeper{
		RegisterKeeper: &lightkeeperv1.RegisterKeeperTx{KeeperId: req.Msg.GetKeeperId(), Signature: req.Msg.GetSignature()},
	}})
	if err == nil {
		err = res.Err
	}
	if err != nil {
		return nil, toConnect(err)
	}
	return connect.NewResponse(&lightkeeperv1.RegisterKeeperResponse{Keeper: res.Keeper, ChainId: s.n.chainID}), nil
}

// authenticate checks a session signature and that the keeper is
// registered.
func (n *Node) authenticate(auth *lightkeeperv1.SessionAuth) (string, error) {
	id := auth.GetKeeperId()
	if err := checkID("auth.keeper_id", id); err != nil {
		return "", err
	}
	if auth.GetTime() == nil {
		return "", invalidArgument("auth.time: missing")
	}
	t := auth.GetTime().AsTime()
	if skew := n.now().Sub(t).Abs(); skew > n.cfg.Network.SessionSkewDuration() {
		return "", connect.NewError(connect.CodePermissionDenied, fmt.Errorf("auth.time is %v away from the coordinator's clock (allowed %v)", skew.Round(time.Second), n.cfg.Network.SessionSkewDuration()))
	}
	pub, _ := hex.DecodeString(id)
	if !protocol.VerifySession(n.chainID, ed25519.PublicKey(pub), t.UnixMilli(), auth.GetSignature()) {
		return "", connect.NewError(connect.CodePermissionDenied, errors.New("auth.signature does not verify for this keeper and chain"))
	}
	registered := false
	if err := n.readMachine(func(m *state.Machine) {
		if k, ok := m.Keeper(id); ok {
			registered = k.GetRegistered()
		}
	}); err != nil {
		return "", toConnect(err)
	}
	if !registered {
		return "", connect.NewError(connect.CodeFailedPrecondition, fmt.Errorf("keeper %s is not registered: call RegisterKeeper first", id))
	}
	// A signature is good for one session: replayed, it opens nothing.
	if err := n.sessions.advance(id, t.UnixMilli()); err != nil {
		return "", err
	}
	return id, nil
}

// openSession starts or renews a keeper's session: a new session refills
// its queue from state and makes it online (in a block, so committee draws
// see it) before tasks flow.
func (n *Node) openSession(ctx context.Context, auth *lightkeeperv1.SessionAuth, stream bool) error {
	id := auth.GetKeeperId()
	if n.dispatch.begin(id, stream, n.now(), n.cfg.Network.PullGraceDuration()) {
		n.dispatch.refill(id, n.owedTasks(id))
	}
	if n.repl != nil {
		return n.chainSession(ctx, auth)
	}
	if n.keeperOnline(id) {
		return nil
	}
	res, err := n.submit(ctx, setOnlineTx(id, true))
	if err == nil {
		err = res.Err
	}
	return toConnect(err)
}

// SessionHeader is the response header with which Subscribe tells a keeper
// that its session is open, before any task.
const SessionHeader = "Lightkeeper-Session"

func (s keeperServer) Subscribe(ctx context.Context, req *connect.Request[lightkeeperv1.SubscribeRequest], stream *connect.ServerStream[lightkeeperv1.SubscribeResponse]) error {
	n := s.n
	if err := n.errIfHalted(); err != nil {
		return err
	}
	id, err := n.authenticate(req.Msg.GetAuth())
	if err != nil {
		return err
	}
	// A replica whose consensus halts ends its streams: the keeper moves
	// to another replica rather than wait for tasks that never come.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-n.haltedCh:
			cancel()
		case <-ctx.Done():
		}
	}()
	release, err := n.streams.acquire(req.Peer().Addr, id)
	if err != nil {
		return err
	}
	defer release()
	// The producer takes a keeper offline once it is out of session, so
	// ending the stream is all there is to do here.
	defer n.dispatch.endStream(id)
	if err := n.openSession(ctx, req.Msg.GetAuth(), true); err != nil {
		return err
	}
	n.log.Debug("keeper subscribed", "keeper", id)
	// Send the headers now, marked: the keeper takes them as the session
	// being open (keeper.Run reconnects at once after an open session
	// fails, and backs off after a refused one).
	stream.ResponseHeader().Set(SessionHeader, "open")
	if err := stream.Send(nil); err != nil {
		return err
	}
	for {
		tasks := n.dispatch.next(ctx, id, 64, 0)
		if ctx.Err() != nil {
			return n.errIfHalted()
		}
		for _, t := range tasks {
			if err := stream.Send(&lightkeeperv1.SubscribeResponse{Task: t}); err != nil {
				return err
			}
		}
		select {
		case <-n.stopped:
			return toConnect(ErrStopped)
		default:
		}
	}
}

func (s keeperServer) PullTasks(ctx context.Context, req *connect.Request[lightkeeperv1.PullTasksRequest]) (*connect.Response[lightkeeperv1.PullTasksResponse], error) {
	n := s.n
	if err := n.errIfHalted(); err != nil {
		return nil, err
	}
	id, err := n.authenticate(req.Msg.GetAuth())
	if err != nil {
		return nil, err
	}
	max := int(req.Msg.GetMaxTasks())
	if max == 0 {
		max = 16
	}
	max = min(max, 1024)
	wait := time.Duration(req.Msg.GetWaitMs()) * time.Millisecond
	if wait == 0 {
		wait = 20 * time.Second
	}
	wait = min(wait, n.cfg.Network.MaxPullWaitDuration())
	release, err := n.streams.acquire(req.Peer().Addr, id)
	if err != nil {
		return nil, err
	}
	defer release()
	if err := n.openSession(ctx, req.Msg.GetAuth(), false); err != nil {
		return nil, err
	}
	tasks := n.dispatch.next(ctx, id, max, wait)
	return connect.NewResponse(&lightkeeperv1.PullTasksResponse{Tasks: tasks}), nil
}

func (s keeperServer) SubmitVotes(ctx context.Context, req *connect.Request[lightkeeperv1.SubmitVotesRequest]) (*connect.Response[lightkeeperv1.SubmitVotesResponse], error) {
	n := s.n
	if err := n.errIfHalted(); err != nil {
		return nil, err
	}
	addr := req.Peer().Addr
	if !n.badVotes.ok(addr, n.now()) {
		n.metrics.rateLimited.Inc()
		return nil, connect.NewError(connect.CodeResourceExhausted, fmt.Errorf("this address sent more refused votes than %v a second (burst %d) allow (limits.bad_vote_rate, limits.bad_vote_burst): retry later",
			n.cfg.Limits.BadVoteRate, n.cfg.Limits.BadVoteBurst))
	}
	votes := req.Msg.GetVotes()
	if len(votes) == 0 {
		return nil, invalidArgument("votes: empty")
	}
	if len(votes) > maxVoteBatch {
		return nil, invalidArgument("votes: %d in one batch, the limit is %d", len(votes), maxVoteBatch)
	}
	// Votes that cannot count whatever their signature (malformed, unknown
	// or closed round, not in the committee) and exact repeats are
	// answered here, without a signature check or a place in a block.
	out := make([]*lightkeeperv1.VoteResult, len(votes))
	final := make([]bool, len(votes))
	if err := n.readMachine(func(m *state.Machine) {
		for i, v := range votes {
			if res, ok := m.PrecheckVote(v); ok {
				out[i], final[i] = voteResult(v, res), true
				n.metrics.votes.WithLabelValues(res.VoteStatus.String()).Inc()
			}
		}
	}); err != nil {
		return nil, toConnect(err)
	}
	// Every other vote needs its signature checked: here, outside the
	// machine's lock, on all cores. Then queue them all before waiting on
	// any, so a batch lands in one block rather than one block per vote.
	txs := make([]*lightkeeperv1.Transaction, len(votes))
	for i, v := range votes {
		if !final[i] {
			txs[i] = &lightkeeperv1.Transaction{Kind: &lightkeeperv1.Transaction_CastVote{CastVote: &lightkeeperv1.CastVoteTx{Vote: v}}}
		}
	}
	verified := n.verifyAll(txs)
	pending := make([]*pendingTx, len(votes))
	errs := make([]error, len(votes))
	for i, tx := range txs {
		if tx != nil {
			pending[i], errs[i] = n.enqueueVerified(tx, verified[i])
		}
	}
	bad := 0
	defer func() { n.badVotes.spend(addr, float64(bad), n.now()) }()
	for i, v := range votes {
		if !final[i] {
			if errs[i] != nil {
				out[i] = &lightkeeperv1.VoteResult{RoundId: v.GetRoundId(), Message: errs[i].Error()}
				continue
			}
			res, err := n.wait(ctx, pending[i])
			if err != nil {
				return nil, toConnect(err)
			}
			out[i] = voteResult(v, res)
		}
		if refusedVote(out[i].GetStatus()) {
			bad++
		}
	}
	return connect.NewResponse(&lightkeeperv1.SubmitVotesResponse{Results: out}), nil
}

func voteResult(v *lightkeeperv1.Vote, res state.TxResult) *lightkeeperv1.VoteResult {
	r := &lightkeeperv1.VoteResult{RoundId: v.GetRoundId(), Status: res.VoteStatus}
	if res.Err != nil {
		r.Message = res.Err.Error()
	}
	return r
}

// refusedVote reports whether a vote status counts against its sender's
// limits.bad_vote_rate: votes an honest keeper never sends. DUPLICATE
// (a retried batch), ROUND_CLOSED (a late vote) and EQUIVOCATION (signed by
// a member, and punished) do not count.
func refusedVote(st lightkeeperv1.VoteStatus) bool {
	switch st {
	case lightkeeperv1.VoteStatus_VOTE_STATUS_MALFORMED, lightkeeperv1.VoteStatus_VOTE_STATUS_UNKNOWN_ROUND,
		lightkeeperv1.VoteStatus_VOTE_STATUS_NOT_IN_COMMITTEE, lightkeeperv1.VoteStatus_VOTE_STATUS_BAD_SIGNATURE:
		return true
	}
	return false
}

func (s keeperServer) GetKeeper(ctx context.Context, req *connect.Request[lightkeeperv1.GetKeeperRequest]) (*connect.Response[lightkeeperv1.GetKeeperResponse], error) {
	id := req.Msg.GetKeeperId()
	if err := checkID("keeper_id", id); err != nil {
		return nil, err
	}
	k, err := s.n.store.Keeper(id)
	if errors.Is(err, pebbledb.ErrNotFound) {
		return nil, connect.NewError(connect.CodeNotFound, fmt.Errorf("keeper %s not found", id))
	}
	if err != nil {
		return nil, toConnect(err)
	}
	return connect.NewResponse(&lightkeeperv1.GetKeeperResponse{Keeper: k}), nil
}

func (s keeperServer) ListKeepers(ctx context.Context, req *connect.Request[lightkeeperv1.ListKeepersRequest]) (*connect.Response[lightkeeperv1.ListKeepersResponse], error) {
	after := req.Msg.GetPageToken()
	if after != "" {
		if err := checkID("page_token", after); err != nil {
			return nil, err
		}
	}
	size := int(req.Msg.GetPageSize())
	ks, err := s.n.store.Keepers()
	if err != nil {
		return nil, toConnect(err)
	}
	// Keepers come sorted by id; the page token is the last id returned.
	start, _ := slices.BinarySearchFunc(ks, after, func(k *lightkeeperv1.Keeper, id string) int { return strings.Compare(k.GetId(), id) })
	if start < len(ks) && ks[start].GetId() == after {
		start++
	}
	out := &lightkeeperv1.ListKeepersResponse{}
	budget, used := listPageBudget(s.n.cfg.Limits.MaxRequestBytes), 0
	for _, k := range ks[start:] {
		n := proto.Size(k) + 8
		if (size > 0 && len(out.Keepers) == size) || (used+n > budget && len(out.Keepers) > 0) {
			out.NextPageToken = out.Keepers[len(out.Keepers)-1].GetId()
			break
		}
		used += n
		out.Keepers = append(out.Keepers, k)
	}
	return connect.NewResponse(out), nil
}
