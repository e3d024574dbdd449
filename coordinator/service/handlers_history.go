package service

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"connectrpc.com/connect"

	"github.com/lightkeeper-net/lightkeeper/coordinator/state"
	"github.com/lightkeeper-net/lightkeeper/pebbledb"
	lightkeeperv1 "github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1"
)

// MaxHistoryEpochs is how many epochs of a keeper's history the
// coordinator keeps; older ones are dropped.
const MaxHistoryEpochs = 1000

// keeperHistory is what GetKeeperHistory serves: per keeper, its record
// at the end of each epoch in which a committed block changed it. The
// chain keeps only current records, and a history is for people looking
// at the network (the explorer's charts), not for consensus, so the
// service keeps it in memory from the moment it opens its data: at most
// MaxHistoryEpochs points of about 80 bytes per keeper.
type keeperHistory struct {
	mu     sync.RWMutex
	points map[string][]*lightkeeperv1.KeeperEpochPoint
}

func newKeeperHistory() *keeperHistory {
	return &keeperHistory{points: make(map[string][]*lightkeeperv1.KeeperEpochPoint)}
}

func (x *keeperHistory) record(epoch, height uint64, k *lightkeeperv1.Keeper) {
	p := &lightkeeperv1.KeeperEpochPoint{
		Epoch: epoch, Height: height, Reputation: k.GetReputation(), Stake: k.GetStake(),
		EffectiveStake: k.GetEffectiveStake(), ChallengeFailures: k.GetChallengeFailures(),
		Active: k.GetActive(), Jailed: k.GetJailed(),
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	ps := x.points[k.GetId()]
	if n := len(ps); n > 0 && ps[n-1].GetEpoch() == epoch {
		ps[n-1] = p
		return
	}
	if len(ps) == MaxHistoryEpochs {
		ps = append(ps[:0], ps[1:]...)
	}
	x.points[k.GetId()] = append(ps, p)
}

// observe records the keepers a committed block changed (afterBlock).
func (x *keeperHistory) observe(res *state.Result) {
	epoch, height := res.Staking.GetEpoch(), res.Block.GetHeader().GetHeight()
	for _, k := range res.Keepers {
		x.record(epoch, height, k)
	}
}

// startKeeperHistory begins every keeper's history with its stored record
// when the node opens (before it produces blocks).
func (n *Node) startKeeperHistory() error {
	n.history = newKeeperHistory()
	keepers, err := n.store.Keepers()
	if err != nil {
		return fmt.Errorf("keeper history: %w", err)
	}
	var epoch, height uint64
	if err := n.readMachine(func(m *state.Machine) {
		head, _ := m.Head()
		epoch, height = m.Staking().GetEpoch(), head.GetHeight()
	}); err != nil {
		return err
	}
	for _, k := range keepers {
		n.history.record(epoch, height, k)
	}
	return nil
}

func (s keeperServer) GetKeeperHistory(ctx context.Context, req *connect.Request[lightkeeperv1.GetKeeperHistoryRequest]) (*connect.Response[lightkeeperv1.GetKeeperHistoryResponse], error) {
	id := req.Msg.GetKeeperId()
	if err := checkID("keeper_id", id); err != nil {
		return nil, err
	}
	if _, err := s.n.store.Keeper(id); errors.Is(err, pebbledb.ErrNotFound) {
		return nil, connect.NewError(connect.CodeNotFound, fmt.Errorf("keeper %s not found", id))
	} else if err != nil {
		return nil, toConnect(err)
	}
	h := s.n.history
	h.mu.RLock()
	out := &lightkeeperv1.GetKeeperHistoryResponse{Points: append([]*lightkeeperv1.KeeperEpochPoint(nil), h.points[id]...)}
	h.mu.RUnlock()
	return connect.NewResponse(out), nil
}
