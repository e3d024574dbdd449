package service

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"strings"

	"connectrpc.com/connect"

	"github.com/lightkeeper-net/lightkeeper/coordinator/state"
	lightkeeperv1 "github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1"
)

// withdrawalsTopic is the watch hub's key for paid withdrawals (no round
// id can equal it).
const withdrawalsTopic = "withdrawals"

// withdrawalsPage bounds one store read of the stream.
const withdrawalsPage = 256

// FormatCursor is the WatchWithdrawals cursor of a withdrawal position.
func FormatCursor(height uint64, index uint32) string {
	return fmt.Sprintf("%d:%d", height, index)
}

// ParseCursor parses a WatchWithdrawals cursor ("" is 0:0).
func ParseCursor(s string) (height uint64, index uint32, err error) {
	if s == "" {
		return 0, 0, nil
	}
	hs, is, ok := strings.Cut(s, ":")
	if !ok {
		return 0, 0, fmt.Errorf("cursor %q: want HEIGHT:INDEX", s)
	}
	height, err = strconv.ParseUint(hs, 10, 64)
	if err != nil {
		return 0, 0, fmt.Errorf("cursor %q: height: %v", s, err)
	}
	i, err := strconv.ParseUint(is, 10, 32)
	if err != nil {
		return 0, 0, fmt.Errorf("cursor %q: index: %v", s, err)
	}
	return height, uint32(i), nil
}

// nextPosition is the position right after (height, index).
func nextPosition(height uint64, index uint32) (uint64, uint32) {
	if index == math.MaxUint32 {
		return height + 1, 0
	}
	return height, index + 1
}

func (s ledgerServer) WatchWithdrawals(ctx context.Context, req *connect.Request[lightkeeperv1.WatchWithdrawalsRequest], stream *connect.ServerStream[lightkeeperv1.WatchWithdrawalsResponse]) error {
	height, index, err := ParseCursor(req.Msg.GetFromCursor())
	if err != nil {
		return invalidArgument("from_cursor: %v", err)
	}
	release, err := s.n.streams.acquire(req.Peer().Addr, "")
	if err != nil {
		return err
	}
	defer release()
	// Subscribe before the first read so no block can slip in between.
	changed, cancel := s.n.watch.subscribe(withdrawalsTopic)
	defer cancel()
	var block *lightkeeperv1.Block
	for {
		page, err := s.n.store.Withdrawals(height, index, withdrawalsPage)
		if err != nil {
			return toConnect(err)
		}
		for _, w := range page {
			if block == nil || block.GetHeader().GetHeight() != w.GetHeight() {
				if block, err = s.n.store.Block(w.GetHeight()); err != nil {
					return toConnect(err)
				}
			}
			var cert *lightkeeperv1.Certificate
			for _, c := range block.GetCertificates() {
				if c.GetRoundId() == w.GetRoundId() {
					cert = c
					break
				}
			}
			// Self-contained for the offline check, as GetCertificate serves it.
			if err := s.n.fillCertEligible(cert); err != nil {
				return err
			}
			height, index = nextPosition(w.GetHeight(), w.GetIndex())
			if err := stream.Send(&lightkeeperv1.WatchWithdrawalsResponse{
				Withdrawal:  w,
				Certificate: cert,
				Cursor:      FormatCursor(w.GetHeight(), w.GetIndex()),
				NextCursor:  FormatCursor(height, index),
			}); err != nil {
				return err
			}
		}
		if len(page) == withdrawalsPage {
			continue
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return nil
		case <-s.n.stopped:
			return toConnect(ErrStopped)
		}
	}
}

// maxPoolLeaves bounds one GetPool page.
const maxPoolLeaves = 10_000

func (s ledgerServer) GetPool(ctx context.Context, req *connect.Request[lightkeeperv1.GetPoolRequest]) (*connect.Response[lightkeeperv1.GetPoolResponse], error) {
	limit := int(req.Msg.GetLimit())
	if limit == 0 || limit > maxPoolLeaves {
		limit = maxPoolLeaves
	}
	res := &lightkeeperv1.GetPoolResponse{}
	if err := s.n.readMachine(func(m *state.Machine) {
		res.VerifyingKeyId, res.Size, res.Balance, res.Roots = m.PoolVerifyingKeyID(), m.PoolSize(), m.PoolBalance(), m.PoolRoots()
	}); err != nil {
		return nil, toConnect(err)
	}
	leaves, err := s.n.store.PoolLeaves(req.Msg.GetFromIndex(), limit)
	if err != nil {
		return nil, toConnect(err)
	}
	// Leaves of a block committed after the machine was read are not
	// listed: the page matches the pool's size and roots.
	for _, l := range leaves {
		if l.GetIndex() < res.Size {
			res.Leaves = append(res.Leaves, l)
		}
	}
	return connect.NewResponse(res), nil
}
