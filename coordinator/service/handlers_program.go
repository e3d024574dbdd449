package service

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"

	"connectrpc.com/connect"

	"github.com/lightkeeper-net/lightkeeper/pebbledb"
	lightkeeperv1 "github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1"
	"github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1/lightkeeperv1connect"
	"github.com/lightkeeper-net/lightkeeper/protocol"
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
	// The registration checks decode, meter and validate the whole module:
	// run them here, once, off the block producer, so the state machine
	// can take the result on trust (as it does a verifying key's parse).
	select {
	case n.checkSlots <- struct{}{}:
		defer func() { <-n.checkSlots }()
	case <-ctx.Done():
		return nil, toConnect(ctx.Err())
	}
	p, err := compute.Check(module, compute.Limits(protocol.ComputeLimitsOf(n.computeParams)))
	if err != nil {
		if r := compute.ReasonOf(err); r != compute.ReasonNone {
			return nil, connect.NewError(connect.CodeInvalidArgument, fmt.Errorf("module refused (reason %d, %s): %w", r, r, err))
		}
		return nil, toConnect(err)
	}
	res, err := n.submit(ctx, &lightkeeperv1.Transaction{Kind: &lightkeeperv1.Transaction_RegisterProgram{
		RegisterProgram: &lightkeeperv1.RegisterProgramTx{
			Module:         module,
			MeteredHash:    p.MeteredHash[:],
			MemoryPages:    p.MemoryPages,
			MaxMemoryPages: p.MaxMemoryPages,
			Functions:      uint32(p.Functions),
			UsesFloat:      p.UsesFloat,
			Imports:        p.Imports,
		},
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
