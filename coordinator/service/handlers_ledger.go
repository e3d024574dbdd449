package service

import (
	"context"
	"errors"
	"fmt"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/lightkeeper-net/lightkeeper/pebbledb"
	lightkeeperv1 "github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1"
	"github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1/lightkeeperv1connect"
	"github.com/lightkeeper-net/lightkeeper/protocol"
)

type ledgerServer struct{ n *Node }

var _ lightkeeperv1connect.LedgerServiceHandler = ledgerServer{}

// genesisTime reads the genesis once: every keeper asks for the chain info
// when it starts, and the stored genesis lists every genesis keeper (with
// 1,000 of them, decoding it as every keeper started was a tenth of the
// CPU profile of `lightkeeper bench --keepers 1000`).
// The answers share the one Timestamp, which nothing modifies.
func (n *Node) genesisTime() (*timestamppb.Timestamp, error) {
	if t := n.genesisAt.Load(); t != nil {
		return t, nil
	}
	g, err := n.store.Genesis()
	if err != nil {
		return nil, err
	}
	n.genesisAt.Store(g.GetGenesisTime())
	return g.GetGenesisTime(), nil
}

func (s ledgerServer) GetChainInfo(ctx context.Context, req *connect.Request[lightkeeperv1.GetChainInfoRequest]) (*connect.Response[lightkeeperv1.GetChainInfoResponse], error) {
	meta, err := s.n.store.Meta()
	if err != nil {
		return nil, toConnect(err)
	}
	genesisTime, err := s.n.genesisTime()
	if err != nil {
		return nil, toConnect(err)
	}
	out := &lightkeeperv1.GetChainInfoResponse{
		ChainId:     meta.GetChainId(),
		GenesisTime: genesisTime,
		HeadHeight:  meta.GetHead().GetHeight(),
		HeadHash:    meta.GetHeadHash(),
		Params:      meta.GetParams(),
	}
	// A replica writes its app hash in the same batch as its block. It is
	// read apart from the head above, so a block committed in between
	// makes replica_height the later one: compare replicas by
	// replica_height and app_hash, which are read together.
	if s.n.repl != nil {
		h, hash, ok, err := s.n.store.AppHash()
		if err != nil {
			return nil, toConnect(err)
		}
		if ok {
			out.ReplicaHeight, out.AppHash = h, hash
		}
	}
	out.HaltReason, out.ConsensusHalted = s.n.ConsensusHalted()
	return connect.NewResponse(out), nil
}

func (s ledgerServer) GetBlock(ctx context.Context, req *connect.Request[lightkeeperv1.GetBlockRequest]) (*connect.Response[lightkeeperv1.GetBlockResponse], error) {
	h := req.Msg.GetHeight()
	if h == 0 {
		meta, err := s.n.store.Meta()
		if err != nil {
			return nil, toConnect(err)
		}
		h = meta.GetHead().GetHeight()
	}
	b, err := s.n.store.Block(h)
	if errors.Is(err, pebbledb.ErrNotFound) {
		return nil, connect.NewError(connect.CodeNotFound, fmt.Errorf("no block at height %d", h))
	}
	if err != nil {
		return nil, toConnect(err)
	}
	return connect.NewResponse(&lightkeeperv1.GetBlockResponse{Block: b}), nil
}

type verifyingKeyServer struct{ n *Node }

var _ lightkeeperv1connect.VerifyingKeyServiceHandler = verifyingKeyServer{}

func (s verifyingKeyServer) RegisterVerifyingKey(ctx context.Context, req *connect.Request[lightkeeperv1.RegisterVerifyingKeyRequest]) (*connect.Response[lightkeeperv1.RegisterVerifyingKeyResponse], error) {
	n := s.n
	if !n.limiter.allow(req.Peer().Addr, n.now()) {
		n.metrics.rateLimited.Inc()
		return nil, connect.NewError(connect.CodeResourceExhausted, errors.New("rate limit: too many registrations from this address"))
	}
	m, err := convertKeyFormat(req.Msg) // other formats to gnark's (snarkjs.go)
	if err != nil {
		return nil, err
	}
	if m.GetScheme() == lightkeeperv1.Scheme_SCHEME_UNSPECIFIED {
		return nil, invalidArgument("scheme: missing")
	}
	if m.GetCurve() == lightkeeperv1.Curve_CURVE_UNSPECIFIED {
		return nil, invalidArgument("curve: missing")
	}
	if _, err := n.store.VerifyingKey(protocol.VerifyingKeyID(m.GetKey())); err != nil {
		if err := n.admitRegistration(req.Peer().Addr, len(m.GetKey())); err != nil {
			return nil, err
		}
	}
	vk, created, err := n.registerVerifyingKey(ctx, m.GetScheme(), m.GetCurve(), m.GetKey())
	if err != nil {
		return nil, err
	}
	return connect.NewResponse(&lightkeeperv1.RegisterVerifyingKeyResponse{VerifyingKey: vk, Created: created}), nil
}

func (s verifyingKeyServer) GetVerifyingKey(ctx context.Context, req *connect.Request[lightkeeperv1.GetVerifyingKeyRequest]) (*connect.Response[lightkeeperv1.GetVerifyingKeyResponse], error) {
	id := req.Msg.GetVerifyingKeyId()
	if err := checkID("verifying_key_id", id); err != nil {
		return nil, err
	}
	vk, err := s.n.store.VerifyingKey(id)
	if errors.Is(err, pebbledb.ErrNotFound) {
		return nil, connect.NewError(connect.CodeNotFound, fmt.Errorf("verifying key %s not registered", id))
	}
	if err != nil {
		return nil, toConnect(err)
	}
	return connect.NewResponse(&lightkeeperv1.GetVerifyingKeyResponse{VerifyingKey: vk}), nil
}
