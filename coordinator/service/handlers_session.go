package service

import (
	"context"
	"errors"
	"fmt"
	"time"

	"connectrpc.com/connect"

	lightkeeperv1 "github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1"
)

// RenewSession puts a keeper's own session signature on the chain
// (KeeperSessionTx; docs/design.md, "Keeper sessions as chain state").
// Each renewal is a transaction every replica applies, so a node refuses
// one that comes less than a quarter of the ttl after the last: a keeper
// renews every third of it (keeper.Keeper does), and nobody makes the
// chain carry a session per request.
func (s keeperServer) RenewSession(ctx context.Context, req *connect.Request[lightkeeperv1.RenewSessionRequest]) (*connect.Response[lightkeeperv1.RenewSessionResponse], error) {
	n := s.n
	if err := n.errIfHalted(); err != nil {
		return nil, err
	}
	auth := req.Msg.GetAuth()
	rules, k, err := n.sessionState(auth.GetKeeperId())
	if err != nil {
		return nil, err
	}
	if rules == nil {
		return nil, connect.NewError(connect.CodeFailedPrecondition, errors.New("this chain keeps no keeper sessions (its genesis has no params.sessions): the open Subscribe stream or PullTasks is the session"))
	}
	if end := k.GetSessionExpiresAt(); end != nil {
		ttl := rules.GetTtl().AsDuration()
		if left := end.AsTime().Sub(n.now()); left > ttl*3/4 {
			return nil, connect.NewError(connect.CodeResourceExhausted, fmt.Errorf("session renewed %v ago; renew at most every %v (a quarter of the ttl)", (ttl-left).Round(time.Millisecond), ttl/4))
		}
	}
	if _, err := n.authenticate(auth); err != nil {
		return nil, err
	}
	res, err := n.submit(ctx, keeperSessionTx(auth))
	if err == nil {
		err = res.Err
	}
	if err != nil {
		return nil, toConnect(err)
	}
	return connect.NewResponse(&lightkeeperv1.RenewSessionResponse{Keeper: res.Keeper}), nil
}
