package service_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"net/http"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"

	"github.com/lightkeeper-net/lightkeeper/devtools/devnet"
	"github.com/lightkeeper-net/lightkeeper/internal/setup"
	lightkeeperv1 "github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1"
	"github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1/lightkeeperv1connect"
	"github.com/lightkeeper-net/lightkeeper/protocol"
	"github.com/lightkeeper-net/lightkeeper/verifier/compute"
)

// commandModule is about the smallest module the registration checks
// accept: one memory exported as "memory" and a "_start" whose body is
// i32.const tag; drop — so each tag is a distinct program.
func commandModule(tag byte) []byte {
	sec := func(id byte, body ...byte) []byte { return append([]byte{id, byte(len(body))}, body...) }
	return bytes.Join([][]byte{
		[]byte("\x00asm\x01\x00\x00\x00"),
		sec(1, 1, 0x60, 0, 0), // type () -> ()
		sec(3, 1, 0),          // one function of type 0
		sec(5, 1, 0, 1),       // one memory of 1 page
		sec(7, 2, 6, '_', 's', 't', 'a', 'r', 't', 0, 0, 6, 'm', 'e', 'm', 'o', 'r', 'y', 2, 0),
		sec(10, 1, 5, 0, 0x41, tag&0x3f, 0x1a, 0x0b),
	}, nil)
}

// pullTasks opens (or renews) a pull session for key and returns the tasks it gets.
func pullTasks(t *testing.T, kc lightkeeperv1connect.KeeperServiceClient, chainID string, key ed25519.PrivateKey, wait time.Duration) []*lightkeeperv1.Task {
	t.Helper()
	res, err := kc.PullTasks(context.Background(), connect.NewRequest(&lightkeeperv1.PullTasksRequest{
		Auth:   sessionAuth(key, chainID),
		WaitMs: uint32(wait.Milliseconds()),
	}))
	if err != nil {
		t.Fatal(err)
	}
	return res.Msg.GetTasks()
}

func computeVote(t *testing.T, chainID, roundID string, key ed25519.PrivateKey, res compute.Result, upload bool) *lightkeeperv1.Vote {
	t.Helper()
	raw, _ := hex.DecodeString(roundID)
	kind := lightkeeperv1.VoteKind_VOTE_KIND_APPROVE
	if res.Trap != compute.TrapNone {
		kind = lightkeeperv1.VoteKind_VOTE_KIND_REJECT
	}
	h := compute.ResultHash(res)
	oh := compute.OutputHash(res.Output)
	c := &lightkeeperv1.ComputeResult{OutputHash: oh[:], ExitCode: res.ExitCode, FuelUsed: res.FuelUsed, Trap: uint32(res.Trap)}
	if upload {
		c.Output = res.Output
	}
	return &lightkeeperv1.Vote{RoundId: roundID, KeeperId: setup.KeyID(key), Kind: kind, ResultHash: h[:], Compute: c,
		Signature: protocol.SignVote(key, chainID, [32]byte(raw), protocol.VoteKind(kind), h)}
}

// TestComputeService: programs are registered through ProgramService
// (checked, stored, idempotent, refused with the check's reason), a
// compute round's tasks name the program and tell only seat 0 it leads,
// the leader's upload becomes the round's output, and programs survive a
// restart.
func TestComputeService(t *testing.T) {
	dir := t.TempDir()
	cfg := testConfig()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	d, err := devnet.Start(ctx, devnet.Options{Dir: dir, ExtraGenesisKeepers: 3, Config: &cfg.Config, Params: cfg.Params})
	if err != nil {
		t.Fatal(err)
	}
	chainID := d.Genesis.GetChainId()
	kc := lightkeeperv1connect.NewKeeperServiceClient(http.DefaultClient, d.URL)
	pc := lightkeeperv1connect.NewProgramServiceClient(http.DefaultClient, d.URL)
	rc := lightkeeperv1connect.NewRoundServiceClient(http.DefaultClient, d.URL)
	for _, k := range d.Keys {
		if _, err := kc.RegisterKeeper(ctx, connect.NewRequest(&lightkeeperv1.RegisterKeeperRequest{
			KeeperId: setup.KeyID(k), Signature: protocol.SignRegistration(k, chainID)})); err != nil {
			t.Fatal(err)
		}
		pullTasks(t, kc, chainID, k, time.Millisecond) // online
	}

	module := commandModule(1)
	reg, err := pc.RegisterProgram(ctx, connect.NewRequest(&lightkeeperv1.RegisterProgramRequest{Module: module}))
	if err != nil {
		t.Fatal(err)
	}
	p := reg.Msg.GetProgram()
	if want := compute.ProgramIDOf(module).String(); p.GetId() != want || !reg.Msg.GetCreated() || len(p.GetModule()) != 0 ||
		p.GetSize() != uint64(len(module)) || len(p.GetMeteredHash()) != 32 || p.GetMemoryPages() != 1 {
		t.Fatalf("registered %v created=%v, want id %s", p, reg.Msg.GetCreated(), want)
	}
	again, err := pc.RegisterProgram(ctx, connect.NewRequest(&lightkeeperv1.RegisterProgramRequest{Module: module}))
	if err != nil || again.Msg.GetCreated() || again.Msg.GetProgram().GetId() != p.GetId() {
		t.Fatalf("registering again: %v %v", again, err)
	}
	for _, tc := range []struct {
		module []byte
		want   string
	}{
		{nil, "module: empty"},
		{[]byte("garbage"), "reason 1, invalid module"},
		{module[:len(module)-12], "invalid module"},
	} {
		_, err := pc.RegisterProgram(ctx, connect.NewRequest(&lightkeeperv1.RegisterProgramRequest{Module: tc.module}))
		if connect.CodeOf(err) != connect.CodeInvalidArgument || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("register %q: %v, want InvalidArgument with %q", tc.module, err, tc.want)
		}
	}
	got, err := pc.GetProgram(ctx, connect.NewRequest(&lightkeeperv1.GetProgramRequest{ProgramId: p.GetId(), IncludeModule: true}))
	if err != nil || !bytes.Equal(got.Msg.GetProgram().GetModule(), module) {
		t.Fatalf("GetProgram: %v", err)
	}
	if _, err := pc.GetProgram(ctx, connect.NewRequest(&lightkeeperv1.GetProgramRequest{ProgramId: strings.Repeat("0", 64)})); connect.CodeOf(err) != connect.CodeNotFound {
		t.Fatalf("unknown program: %v", err)
	}

	sub, err := rc.SubmitRound(ctx, connect.NewRequest(&lightkeeperv1.SubmitRoundRequest{Request: &lightkeeperv1.RoundRequest{
		Payload: &lightkeeperv1.RoundRequest_Compute{Compute: &lightkeeperv1.ComputeRequest{ProgramId: p.GetId(), Input: []byte("in"), Fuel: 1000}},
	}}))
	if err != nil {
		t.Fatal(err)
	}
	r := sub.Msg.GetRound()
	if r.GetKind() != lightkeeperv1.RoundKind_ROUND_KIND_COMPUTE || len(r.GetCommittee()) != 3 || r.GetThreshold() != 2 {
		t.Fatalf("round %v", r)
	}
	keys := map[string]ed25519.PrivateKey{}
	for _, k := range d.Keys {
		keys[setup.KeyID(k)] = k
	}
	for seat, id := range r.GetCommittee() {
		tasks := pullTasks(t, kc, chainID, keys[id], 5*time.Second)
		if len(tasks) != 1 {
			t.Fatalf("seat %d: %d tasks", seat, len(tasks))
		}
		c := tasks[0].GetCompute()
		if c.GetProgramId() != p.GetId() || string(c.GetInput()) != "in" || c.GetFuel() != 1000 || c.GetLeader() != (seat == 0) ||
			len(c.GetProgram()) != 0 || c.GetLimits().GetMaxOutputBytes() != 64<<10 {
			t.Fatalf("seat %d: task %v", seat, c)
		}
	}
	res := compute.Result{Output: []byte("the output\n"), FuelUsed: 40}
	st := submitVotes(t, kc,
		computeVote(t, chainID, r.GetId(), keys[r.GetCommittee()[0]], res, true),
		computeVote(t, chainID, r.GetId(), keys[r.GetCommittee()[1]], res, false))
	if st[0] != lightkeeperv1.VoteStatus_VOTE_STATUS_ACCEPTED || st[1] != lightkeeperv1.VoteStatus_VOTE_STATUS_ACCEPTED {
		t.Fatalf("votes: %v", st)
	}
	bad := computeVote(t, chainID, r.GetId(), keys[r.GetCommittee()[2]], res, false)
	bad.Compute.FuelUsed++ // does not open the signed hash
	if st := submitVotes(t, kc, bad); st[0] != lightkeeperv1.VoteStatus_VOTE_STATUS_MALFORMED {
		t.Fatalf("inconsistent vote: %v", st)
	}
	gr, err := rc.GetRound(ctx, connect.NewRequest(&lightkeeperv1.GetRoundRequest{RoundId: r.GetId()}))
	if err != nil {
		t.Fatal(err)
	}
	if dr := gr.Msg.GetRound(); dr.GetOutcome() != lightkeeperv1.Outcome_OUTCOME_APPROVED || string(dr.GetResult().GetOutput()) != "the output\n" {
		t.Fatalf("decided round %v", dr)
	}
	cert, err := rc.GetCertificate(ctx, connect.NewRequest(&lightkeeperv1.GetCertificateRequest{RoundId: r.GetId()}))
	if err != nil || len(cert.Msg.GetCertificate().GetResult().GetOutput()) != 0 || cert.Msg.GetCertificate().GetResult().GetFuelUsed() != 40 {
		t.Fatalf("certificate: %v %v", cert, err)
	}

	// Restart on the same directory: the program is still registered.
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	d, err = devnet.Start(ctx, devnet.Options{Dir: dir, ExtraGenesisKeepers: 3, Config: &cfg.Config, Params: cfg.Params})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	kc = lightkeeperv1connect.NewKeeperServiceClient(http.DefaultClient, d.URL)
	rc = lightkeeperv1connect.NewRoundServiceClient(http.DefaultClient, d.URL)
	for _, k := range d.Keys {
		pullTasks(t, kc, chainID, k, time.Millisecond)
	}
	if _, err := rc.SubmitRound(ctx, connect.NewRequest(&lightkeeperv1.SubmitRoundRequest{Request: &lightkeeperv1.RoundRequest{
		Payload: &lightkeeperv1.RoundRequest_Compute{Compute: &lightkeeperv1.ComputeRequest{ProgramId: p.GetId(), Fuel: 1000}},
	}})); err != nil {
		t.Fatalf("compute round after a restart: %v", err)
	}
}
