package service

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/lightkeeper-net/lightkeeper/coordinator/state"
	"github.com/lightkeeper-net/lightkeeper/pebbledb"
	lightkeeperv1 "github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1"
	"github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1/lightkeeperv1connect"
	"github.com/lightkeeper-net/lightkeeper/protocol"
)

// stakingServer is the economy's API (docs/design.md §2 and §9): signed
// transactions in, accounts, stakes, groups, guarantees and epochs out.
// Reads come from the state machine between blocks (committed state, see
// readMachine) except completed epochs' statements, which come from the
// store.
type stakingServer struct{ n *Node }

var _ lightkeeperv1connect.StakingServiceHandler = stakingServer{}

func (s stakingServer) SubmitTx(ctx context.Context, req *connect.Request[lightkeeperv1.SubmitTxRequest]) (*connect.Response[lightkeeperv1.SubmitTxResponse], error) {
	n := s.n
	if !n.limiter.allow(req.Peer().Addr, n.now()) {
		n.metrics.rateLimited.Inc()
		return nil, connect.NewError(connect.CodeResourceExhausted, errors.New("rate limit: too many transactions from this address"))
	}
	stx := req.Msg.GetTx()
	// A cheap pre-filter: garbage never reaches a block. The machine
	// checks the signature again (it must be correct on its own input).
	body, _, err := protocol.VerifyTx(n.chainID, stx)
	if err != nil {
		return nil, toConnect(err)
	}
	if body.GetMsg() == nil {
		return nil, invalidArgument("tx.body: no message set")
	}
	if sr := body.GetSubmitRound(); sr != nil {
		if err := n.checkRoundRequest("tx.body.submit_round.request", sr.GetRequest()); err != nil {
			return nil, err
		}
	}
	tx := protocol.SignedTransaction(stx)
	res, err := n.submit(ctx, tx)
	if err == nil {
		err = res.Err
	}
	if err != nil {
		return nil, toConnect(err)
	}
	return connect.NewResponse(&lightkeeperv1.SubmitTxResponse{
		Height:      res.Height,
		TxHash:      hex.EncodeToString(protocol.TransactionHash(tx)),
		Account:     res.Account,
		UnbondingId: res.UnbondingID,
		RoundId:     res.RoundID,
		PoolLeaf:    res.PoolLeaf,
	}), nil
}

func (s stakingServer) GetAccount(ctx context.Context, req *connect.Request[lightkeeperv1.GetAccountRequest]) (*connect.Response[lightkeeperv1.GetAccountResponse], error) {
	id := req.Msg.GetAccountId()
	if err := checkID("account_id", id); err != nil {
		return nil, err
	}
	out := &lightkeeperv1.GetAccountResponse{}
	if err := s.n.readMachine(func(m *state.Machine) {
		out.Account, _ = m.Account(id)
		out.Unbonding = m.Unbonding(id)
		out.Guarantees = m.Guarantees(id, "")
		if k, ok := m.Keeper(id); ok {
			out.SelfBond = k.GetStake()
		}
	}); err != nil {
		return nil, toConnect(err)
	}
	return connect.NewResponse(out), nil
}

func (s stakingServer) GetKeeperStake(ctx context.Context, req *connect.Request[lightkeeperv1.GetKeeperStakeRequest]) (*connect.Response[lightkeeperv1.GetKeeperStakeResponse], error) {
	id := req.Msg.GetKeeperId()
	if err := checkID("keeper_id", id); err != nil {
		return nil, err
	}
	out := &lightkeeperv1.GetKeeperStakeResponse{}
	found := false
	if err := s.n.readMachine(func(m *state.Machine) {
		out.Keeper, found = m.Keeper(id)
		out.Guarantees = m.Guarantees("", id)
	}); err != nil {
		return nil, toConnect(err)
	}
	if !found {
		return nil, connect.NewError(connect.CodeNotFound, fmt.Errorf("keeper %s not found", id))
	}
	return connect.NewResponse(out), nil
}

func (s stakingServer) GetGroup(ctx context.Context, req *connect.Request[lightkeeperv1.GetGroupRequest]) (*connect.Response[lightkeeperv1.GetGroupResponse], error) {
	id := req.Msg.GetGroupId()
	if err := checkID("group_id", id); err != nil {
		return nil, err
	}
	out := &lightkeeperv1.GetGroupResponse{}
	found := false
	// GroupStake may bring stakes up to date, so it runs under the write
	// lock like a block (never inside one: the producer holds the lock
	// until its block is committed).
	s.n.mu.Lock()
	if s.n.lost != nil {
		s.n.mu.Unlock()
		return nil, toConnect(ErrStopped)
	}
	m := s.n.machine
	if out.Group, found = m.Group(id); found {
		gs, _ := m.GroupStake(id)
		out.Backing, out.StakeLimit, out.EffectiveStake, out.VoteCap = gs.Backing, gs.Limit, gs.Effective, gs.VoteCap
		for _, mid := range out.Group.GetMembers() {
			if k, ok := m.Keeper(mid); ok {
				out.Members = append(out.Members, k)
			}
		}
	}
	s.n.mu.Unlock()
	if !found {
		return nil, connect.NewError(connect.CodeNotFound, fmt.Errorf("group %s not found", id))
	}
	return connect.NewResponse(out), nil
}

func (s stakingServer) ListGuarantees(ctx context.Context, req *connect.Request[lightkeeperv1.ListGuaranteesRequest]) (*connect.Response[lightkeeperv1.ListGuaranteesResponse], error) {
	g, t := req.Msg.GetGuarantorId(), req.Msg.GetTargetId()
	if (g == "") == (t == "") {
		return nil, invalidArgument("set exactly one of guarantor_id and target_id")
	}
	for field, v := range map[string]string{"guarantor_id": g, "target_id": t} {
		if v != "" {
			if err := checkID(field, v); err != nil {
				return nil, err
			}
		}
	}
	out := &lightkeeperv1.ListGuaranteesResponse{}
	if err := s.n.readMachine(func(m *state.Machine) { out.Guarantees = m.Guarantees(g, t) }); err != nil {
		return nil, toConnect(err)
	}
	return connect.NewResponse(out), nil
}

func (s stakingServer) GetEpoch(ctx context.Context, req *connect.Request[lightkeeperv1.GetEpochRequest]) (*connect.Response[lightkeeperv1.GetEpochResponse], error) {
	out := &lightkeeperv1.GetEpochResponse{}
	if err := s.n.readMachine(func(m *state.Machine) {
		st := m.Staking()
		out.CurrentEpoch = st.GetEpoch()
		out.CurrentStartedAt = st.GetEpochStartedAt()
		out.ActiveSet = st.GetActiveSet()
		out.NextEpochAt = timestampMilli(m.NextEpochAt())
	}); err != nil {
		return nil, toConnect(err)
	}
	var err error
	if req.Msg.Epoch != nil {
		if req.Msg.GetEpoch() >= out.CurrentEpoch {
			return nil, connect.NewError(connect.CodeFailedPrecondition, fmt.Errorf("epoch %d has not ended (the current epoch is %d)", req.Msg.GetEpoch(), out.CurrentEpoch))
		}
		out.Record, err = s.n.store.Epoch(req.Msg.GetEpoch())
	} else {
		out.Record, err = s.n.store.LastEpoch()
		if errors.Is(err, pebbledb.ErrNotFound) {
			err = nil
		}
	}
	if errors.Is(err, pebbledb.ErrNotFound) {
		// Skipped epochs (no block during them) have no statement: the
		// next block ended them as one.
		return nil, connect.NewError(connect.CodeNotFound, fmt.Errorf("no statement for epoch %d (it passed without a block and was paid with the next)", req.Msg.GetEpoch()))
	}
	if err != nil {
		return nil, toConnect(err)
	}
	return connect.NewResponse(out), nil
}

func (s stakingServer) GetCommunityFund(ctx context.Context, req *connect.Request[lightkeeperv1.GetCommunityFundRequest]) (*connect.Response[lightkeeperv1.GetCommunityFundResponse], error) {
	var st *lightkeeperv1.StakingState
	if err := s.n.readMachine(func(m *state.Machine) { st = m.Staking() }); err != nil {
		return nil, toConnect(err)
	}
	return connect.NewResponse(&lightkeeperv1.GetCommunityFundResponse{
		CommunityFund: st.GetCommunityFund(),
		FeePot:        st.GetFeePot(),
		TotalMinted:   st.GetTotalMinted(),
		TotalSlashed:  st.GetTotalSlashed(),
		TotalSupply:   st.GetGenesisSupply() + st.GetTotalMinted(),
		TotalFees:     st.GetTotalFees(),
	}), nil
}

func timestampMilli(ms int64) *timestamppb.Timestamp { return timestamppb.New(time.UnixMilli(ms)) }
