package service

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"

	"connectrpc.com/connect"

	"github.com/lightkeeper-net/lightkeeper/coordinator/state"
	"github.com/lightkeeper-net/lightkeeper/pebbledb"
	lightkeeperv1 "github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1"
	"github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1/lightkeeperv1connect"
	"github.com/lightkeeper-net/lightkeeper/verifier/compute"
)

type programServer struct{ n *Node }

var _ lightkeeperv1connect.ProgramServiceHandler = programServer{}

// maxConcurrentChecks bounds the registration checks running at once:
// each costs about 80 ms per MB of CPU (docs/compute.md).
const maxConcurrentChecks = 2

// programMessageBytes is the largest ProgramService message: a module of
// compute.max_module_bytes, base64-encoded in the Connect JSON form
// (4/3), plus room for the envelope.
func programMessageBytes(maxModule uint64, maxRequest int) int {
	return max(maxRequest, int(maxModule/3*4)+64<<10)
}

func (s programServer) RegisterProgram(ctx context.Context, req *connect.Request[lightkeeperv1.RegisterProgramRequest]) (*connect.Response[lightkeeperv1.RegisterProgramResponse], error) {
	n := s.n
	if !n.limiter.allow(req.Peer().Addr, n.now()) {
		n.metrics.rateLimited.Inc()
		return nil, connect.NewError(connect.CodeResourceExhausted, errors.New("rate limit: too many registrations from this address"))
	}
	module := req.Msg.GetModule()
	if len(module) == 0 {
		return nil, invalidArgument("module: empty")
	}
	sum := sha256.Sum256(module)
	if p, err := n.store.Program(hex.EncodeToString(sum[:]), false); err == nil {
		return connect.NewResponse(&lightkeeperv1.RegisterProgramResponse{Program: p}), nil
	}
	if err := n.admitRegistration(req.Peer().Addr, len(module)); err != nil {
		return nil, err
	}
	// Admission only refuses early: the state machine runs the same
	// registration check (wasmcheck) itself when it applies the
	// transaction; running it here, off the block producer, fills the
	// machine's verdict cache so the block does not pay for it. wazero's
	// full validation is not a chain rule (keepers run it before they run
	// a program), but a module it refuses could never run, so it is
	// refused here too.
	select {
	case n.checkSlots <- struct{}{}:
		defer func() { <-n.checkSlots }()
	case <-ctx.Done():
		return nil, toConnect(ctx.Err())
	}
	err := state.CheckProgram(module, n.computeParams)
	if err == nil {
		err = compute.Validate(module)
	}
	if err != nil {
		if r := compute.ReasonOf(err); r != compute.ReasonNone {
			return nil, connect.NewError(connect.CodeInvalidArgument, fmt.Errorf("module refused (reason %d, %s): %w", r, r, err))
		}
		return nil, toConnect(err)
	}
	res, err := n.submit(ctx, &lightkeeperv1.Transaction{Kind: &lightkeeperv1.Transaction_RegisterProgram{
		RegisterProgram: &lightkeeperv1.RegisterProgramTx{Module: module},
	}})
	if err == nil {
		err = res.Err
	}
	if err != nil {
		return nil, toConnect(err)
	}
	created := res.Program.GetRegisteredHeight() == res.Height
	if created {
		n.registeredBytes.Add(int64(len(module)))
	}
	return connect.NewResponse(&lightkeeperv1.RegisterProgramResponse{Program: res.Program, Created: created}), nil
}

func (s programServer) GetProgram(ctx context.Context, req *connect.Request[lightkeeperv1.GetProgramRequest]) (*connect.Response[lightkeeperv1.GetProgramResponse], error) {
	id := req.Msg.GetProgramId()
	if err := checkID("program_id", id); err != nil {
		return nil, err
	}
	p, err := s.n.store.Program(id, req.Msg.GetIncludeModule())
	if errors.Is(err, pebbledb.ErrNotFound) {
		return nil, connect.NewError(connect.CodeNotFound, fmt.Errorf("program %s not registered", id))
	}
	if err != nil {
		return nil, toConnect(err)
	}
	return connect.NewResponse(&lightkeeperv1.GetProgramResponse{Program: p}), nil
}
