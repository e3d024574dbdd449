package service_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/lightkeeper-net/lightkeeper/coordinator/config"
	"github.com/lightkeeper-net/lightkeeper/devtools/byzantine"
	"github.com/lightkeeper-net/lightkeeper/devtools/devnet"
	"github.com/lightkeeper-net/lightkeeper/devtools/proofgen"
	"github.com/lightkeeper-net/lightkeeper/devtools/workload"
	"github.com/lightkeeper-net/lightkeeper/internal/setup"
	lightkeeperv1 "github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1"
	"github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1/lightkeeperv1connect"
	"github.com/lightkeeper-net/lightkeeper/protocol"
	"github.com/lightkeeper-net/lightkeeper/verifier"
)

var (
	fixtureOnce sync.Once
	fixture     *proofgen.Fixture
	fixtureErr  error
)

// validItem returns a valid groth16/bn254 request, proved once per test
// binary.
func validItem(t *testing.T) workload.Item {
	t.Helper()
	fixtureOnce.Do(func() {
		fixture, fixtureErr = proofgen.New(verifier.SchemeGroth16, verifier.CurveBN254)
	})
	if fixtureErr != nil {
		t.Fatal(fixtureErr)
	}
	p, err := fixture.Prove(3)
	if err != nil {
		t.Fatal(err)
	}
	return workload.Item{Scheme: fixture.Scheme, Curve: fixture.Curve, VK: fixture.VerifyingKey,
		Proof: p.Proof, Public: p.PublicInputs, Want: workload.Approved}
}

// startDevnet starts a devnet whose run keepers are all silent (online,
// never voting), so a test can cast every vote itself with the keys in
// d.Keys.
func startDevnet(t *testing.T, cfg testSetup, silent, extra int) *devnet.Devnet {
	t.Helper()
	return startDevnetOpts(t, cfg, silent, extra, nil)
}

// startDevnetWith is startDevnet with a genesis edit.
func startDevnetWith(t *testing.T, cfg testSetup, silent int, edit func(*lightkeeperv1.Genesis, []ed25519.PrivateKey)) *devnet.Devnet {
	t.Helper()
	return startDevnetOpts(t, cfg, silent, 0, edit)
}

func startDevnetOpts(t *testing.T, cfg testSetup, silent, extra int, edit func(*lightkeeperv1.Genesis, []ed25519.PrivateKey)) *devnet.Devnet {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	byz := make([]byzantine.Strategy, silent)
	for i := range byz {
		byz[i] = byzantine.Silent
	}
	d, err := devnet.Start(ctx, devnet.Options{Keepers: silent, Byzantine: byz, ExtraGenesisKeepers: extra, Config: &cfg.Config, Params: cfg.Params, Genesis: edit})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := d.Close(); err != nil {
			t.Errorf("devnet close: %v", err)
		}
	})
	if err := d.WaitOnline(ctx, silent, 30*time.Second); err != nil {
		t.Fatal(err)
	}
	return d
}

func keyByID(t *testing.T, d *devnet.Devnet, id string) ed25519.PrivateKey {
	t.Helper()
	for _, k := range d.Keys {
		if setup.KeyID(k) == id {
			return k
		}
	}
	t.Fatalf("no key for keeper %s", id)
	return nil
}

func signedVote(t *testing.T, chainID, roundID string, key ed25519.PrivateKey, kind lightkeeperv1.VoteKind) *lightkeeperv1.Vote {
	t.Helper()
	raw, err := hex.DecodeString(roundID)
	if err != nil {
		t.Fatal(err)
	}
	var zero [32]byte
	return &lightkeeperv1.Vote{
		RoundId:    roundID,
		KeeperId:   setup.KeyID(key),
		Kind:       kind,
		ResultHash: zero[:],
		Signature:  protocol.SignVote(key, chainID, [32]byte(raw), protocol.VoteKind(kind), zero),
	}
}

func submitVotes(t *testing.T, kc lightkeeperv1connect.KeeperServiceClient, votes ...*lightkeeperv1.Vote) []lightkeeperv1.VoteStatus {
	t.Helper()
	res, err := kc.SubmitVotes(context.Background(), connect.NewRequest(&lightkeeperv1.SubmitVotesRequest{Votes: votes}))
	if err != nil {
		t.Fatal(err)
	}
	var out []lightkeeperv1.VoteStatus
	for _, r := range res.Msg.GetResults() {
		out = append(out, r.GetStatus())
	}
	return out
}

func TestVoteStatuses(t *testing.T) {
	cfg := testConfig()
	d := startDevnet(t, cfg, 10, 1)
	ctx := context.Background()
	sub := workload.NewSubmitter(http.DefaultClient, d.URL)
	kc := lightkeeperv1connect.NewKeeperServiceClient(http.DefaultClient, d.URL)
	chainID := d.Genesis.GetChainId()

	round, err := sub.Submit(ctx, validItem(t), "statuses")
	if err != nil {
		t.Fatal(err)
	}
	if len(round.GetCommittee()) != 10 || round.GetThreshold() != 7 || round.GetRejectThreshold() != 4 {
		t.Fatalf("committee %d, threshold %d, reject %d; want 10, 7, 4", len(round.GetCommittee()), round.GetThreshold(), round.GetRejectThreshold())
	}
	member := keyByID(t, d, round.GetCommittee()[0])
	outsider := d.Keys[10] // in genesis, registered below, never online: never drawn
	if _, err := kc.RegisterKeeper(ctx, connect.NewRequest(&lightkeeperv1.RegisterKeeperRequest{
		KeeperId: setup.KeyID(outsider), Signature: protocol.SignRegistration(outsider, chainID),
	})); err != nil {
		t.Fatal(err)
	}

	approve := signedVote(t, chainID, round.GetId(), member, lightkeeperv1.VoteKind_VOTE_KIND_APPROVE)
	forged := signedVote(t, chainID, round.GetId(), member, lightkeeperv1.VoteKind_VOTE_KIND_APPROVE)
	forged.Signature[0] ^= 1
	otherChain := signedVote(t, "another-chain", round.GetId(), member, lightkeeperv1.VoteKind_VOTE_KIND_APPROVE)
	reject := signedVote(t, chainID, round.GetId(), member, lightkeeperv1.VoteKind_VOTE_KIND_REJECT)
	unknown := signedVote(t, chainID, strings.Repeat("ab", 32), member, lightkeeperv1.VoteKind_VOTE_KIND_APPROVE)
	malformed := signedVote(t, chainID, round.GetId(), member, lightkeeperv1.VoteKind_VOTE_KIND_APPROVE)
	malformed.ResultHash = []byte{1}

	for _, tc := range []struct {
		name string
		vote *lightkeeperv1.Vote
		want lightkeeperv1.VoteStatus
	}{
		{"forged signature", forged, lightkeeperv1.VoteStatus_VOTE_STATUS_BAD_SIGNATURE},
		{"signed for another chain", otherChain, lightkeeperv1.VoteStatus_VOTE_STATUS_BAD_SIGNATURE},
		{"out of committee", signedVote(t, chainID, round.GetId(), outsider, lightkeeperv1.VoteKind_VOTE_KIND_APPROVE), lightkeeperv1.VoteStatus_VOTE_STATUS_NOT_IN_COMMITTEE},
		{"unknown round", unknown, lightkeeperv1.VoteStatus_VOTE_STATUS_UNKNOWN_ROUND},
		{"malformed result hash", malformed, lightkeeperv1.VoteStatus_VOTE_STATUS_MALFORMED},
		{"valid", approve, lightkeeperv1.VoteStatus_VOTE_STATUS_ACCEPTED},
		{"replayed", approve, lightkeeperv1.VoteStatus_VOTE_STATUS_DUPLICATE},
		{"conflicting", reject, lightkeeperv1.VoteStatus_VOTE_STATUS_EQUIVOCATION},
	} {
		if got := submitVotes(t, kc, tc.vote); len(got) != 1 || got[0] != tc.want {
			t.Errorf("%s: status %v, want %v", tc.name, got, tc.want)
		}
	}

	// A vote is never revealed while the round is being voted on.
	rc := lightkeeperv1connect.NewRoundServiceClient(http.DefaultClient, d.URL)
	got, err := rc.GetRound(ctx, connect.NewRequest(&lightkeeperv1.GetRoundRequest{RoundId: round.GetId()}))
	if err != nil {
		t.Fatal(err)
	}
	if r := got.Msg.GetRound(); r.GetPhase() != lightkeeperv1.RoundPhase_ROUND_PHASE_VOTING || len(r.GetVotes()) != 0 || r.GetApprovals() != 0 {
		t.Fatalf("voting round shows phase %v, %d votes, %d approvals; want VOTING with nothing revealed", r.GetPhase(), len(r.GetVotes()), r.GetApprovals())
	}
	if _, err := rc.GetCertificate(ctx, connect.NewRequest(&lightkeeperv1.GetCertificateRequest{RoundId: round.GetId()})); connect.CodeOf(err) != connect.CodeFailedPrecondition {
		t.Fatalf("certificate of an undecided round: %v, want FailedPrecondition", err)
	}

	// Six more approvals (one batch) decide it; the equivocation stays on record.
	var batch []*lightkeeperv1.Vote
	for _, id := range round.GetCommittee()[1:7] {
		batch = append(batch, signedVote(t, chainID, round.GetId(), keyByID(t, d, id), lightkeeperv1.VoteKind_VOTE_KIND_APPROVE))
	}
	for i, st := range submitVotes(t, kc, batch...) {
		if st != lightkeeperv1.VoteStatus_VOTE_STATUS_ACCEPTED {
			t.Fatalf("vote %d: %v", i, st)
		}
	}
	decided, err := sub.WaitDecided(ctx, round.GetId())
	if err != nil {
		t.Fatal(err)
	}
	if decided.GetOutcome() != lightkeeperv1.Outcome_OUTCOME_APPROVED || decided.GetApprovals() != 7 {
		t.Fatalf("outcome %v with %d approvals, want APPROVED with 7", decided.GetOutcome(), decided.GetApprovals())
	}
	cert, err := rc.GetCertificate(ctx, connect.NewRequest(&lightkeeperv1.GetCertificateRequest{RoundId: round.GetId()}))
	if err != nil {
		t.Fatal(err)
	}
	if n := len(cert.Msg.GetCertificate().GetVotes()); n != 7 {
		t.Fatalf("certificate has %d votes, want 7", n)
	}
	// The block holds the certificate with its eligible list's hash only;
	// the API serves it with the list, self-contained for the offline
	// check, and it is still the block's certificate.
	served := cert.Msg.GetCertificate()
	if h, err := protocol.EligibleListHash(served.GetEligible()); err != nil || len(served.GetEligible()) == 0 || !bytes.Equal(h, served.GetEligibleHash()) {
		t.Fatalf("served certificate: %d eligible keepers hashing to %x (%v), eligible_hash %x", len(served.GetEligible()), h, err, served.GetEligibleHash())
	}
	lc := lightkeeperv1connect.NewLedgerServiceClient(http.DefaultClient, d.URL)
	blk, err := lc.GetBlock(ctx, connect.NewRequest(&lightkeeperv1.GetBlockRequest{Height: served.GetHeight()}))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range blk.Msg.GetBlock().GetCertificates() {
		if len(c.GetEligible()) != 0 || len(c.GetEligibleHash()) != 32 {
			t.Fatalf("block certificate carries %d eligible keepers and a %d-byte hash; want the hash only", len(c.GetEligible()), len(c.GetEligibleHash()))
		}
	}
	info, err := lc.GetChainInfo(ctx, connect.NewRequest(&lightkeeperv1.GetChainInfoRequest{}))
	if err != nil {
		t.Fatal(err)
	}
	if err := protocol.VerifyCertificateInBlock(served, info.Msg.GetParams(), blk.Msg.GetBlock()); err != nil {
		t.Fatalf("served certificate: %v", err)
	}
	// Rounds are served with their list too.
	got, err = rc.GetRound(ctx, connect.NewRequest(&lightkeeperv1.GetRoundRequest{RoundId: round.GetId()}))
	if err != nil {
		t.Fatal(err)
	}
	if r := got.Msg.GetRound(); len(r.GetEligible()) != len(served.GetEligible()) || !bytes.Equal(r.GetEligibleHash(), served.GetEligibleHash()) {
		t.Fatalf("round served with %d eligible keepers, hash %x; certificate %d, %x", len(r.GetEligible()), r.GetEligibleHash(), len(served.GetEligible()), served.GetEligibleHash())
	}
	k, err := kc.GetKeeper(ctx, connect.NewRequest(&lightkeeperv1.GetKeeperRequest{KeeperId: setup.KeyID(member)}))
	if err != nil {
		t.Fatal(err)
	}
	if k.Msg.GetKeeper().GetEquivocations() != 1 {
		t.Fatalf("equivocations = %d, want 1", k.Msg.GetKeeper().GetEquivocations())
	}
}

func TestSubmitRefusals(t *testing.T) {
	cfg := testConfig()
	cfg.Limits.SubmitRate = 0.001 // effectively only the burst
	cfg.Limits.SubmitBurst = 5    // the key is registered once per Submitter, then one per round
	d := startDevnet(t, cfg, 10, 0)
	ctx := context.Background()
	sub := workload.NewSubmitter(http.DefaultClient, d.URL)
	item := validItem(t)

	if _, err := sub.Submit(ctx, item, "a"); err != nil {
		t.Fatal(err)
	}
	// The same request and nonce again is the same round, not a new one.
	again, err := sub.Rounds.SubmitRound(ctx, connect.NewRequest(&lightkeeperv1.SubmitRoundRequest{
		Request: &lightkeeperv1.RoundRequest{Payload: &lightkeeperv1.RoundRequest_Proof{Proof: &lightkeeperv1.ProofRequest{
			Scheme: lightkeeperv1.Scheme_SCHEME_GROTH16, Curve: lightkeeperv1.Curve_CURVE_BN254,
			VerifyingKeyId: strings.Repeat("00", 32), Proof: item.Proof, PublicInputs: item.Public,
		}}},
	}))
	if connect.CodeOf(err) != connect.CodeNotFound {
		t.Fatalf("unknown verifying key: %v (%v), want NotFound", err, again)
	}
	bad := item
	bad.Public = []byte(`["1","2","3","4","5","6","7","8","9"]`)
	if _, err := sub.Submit(ctx, bad, "b"); connect.CodeOf(err) != connect.CodeInvalidArgument {
		t.Fatalf("wrong input count: %v, want InvalidArgument", err)
	}
	big := item
	big.Proof = make([]byte, cfg.Params.SizeLimits.MaxProofBytes+1)
	if _, err := sub.Submit(ctx, big, "c"); connect.CodeOf(err) != connect.CodeInvalidArgument || !strings.Contains(err.Error(), "request.proof.proof") {
		t.Fatalf("oversized proof: %v, want InvalidArgument naming the field", err)
	}
	if _, err := sub.Submit(ctx, item, "d"); connect.CodeOf(err) != connect.CodeResourceExhausted {
		t.Fatalf("after the burst: %v, want ResourceExhausted", err)
	}
}

func TestRequestSizeLimit(t *testing.T) {
	cfg := testConfig()
	cfg.Limits.MaxRequestBytes = 64 << 10
	cfg.Params.SizeLimits.MaxVerifyingKeyBytes = 32 << 10
	cfg.Params.SizeLimits.MaxProofBytes = 32 << 10
	cfg.Params.SizeLimits.MaxPublicInputBytes = 32 << 10
	d := startDevnet(t, cfg, 10, 0)
	vc := lightkeeperv1connect.NewVerifyingKeyServiceClient(http.DefaultClient, d.URL)
	_, err := vc.RegisterVerifyingKey(context.Background(), connect.NewRequest(&lightkeeperv1.RegisterVerifyingKeyRequest{
		Scheme: lightkeeperv1.Scheme_SCHEME_GROTH16, Curve: lightkeeperv1.Curve_CURVE_BN254, Key: make([]byte, 100<<10),
	}))
	if connect.CodeOf(err) != connect.CodeResourceExhausted {
		t.Fatalf("request over max_request_bytes: %v, want ResourceExhausted", err)
	}
	_, err = vc.RegisterVerifyingKey(context.Background(), connect.NewRequest(&lightkeeperv1.RegisterVerifyingKeyRequest{
		Scheme: lightkeeperv1.Scheme_SCHEME_GROTH16, Curve: lightkeeperv1.Curve_CURVE_BN254, Key: []byte("not a key"),
	}))
	if connect.CodeOf(err) != connect.CodeInvalidArgument {
		t.Fatalf("garbage key: %v, want InvalidArgument", err)
	}
}

func TestSessionAuth(t *testing.T) {
	d := startDevnet(t, testConfig(), 10, 1)
	kc := lightkeeperv1connect.NewKeeperServiceClient(http.DefaultClient, d.URL)
	chainID := d.Genesis.GetChainId()
	key := d.Keys[0]
	now := time.Now()
	pull := func(auth *lightkeeperv1.SessionAuth) error {
		_, err := kc.PullTasks(context.Background(), connect.NewRequest(&lightkeeperv1.PullTasksRequest{Auth: auth, WaitMs: 1}))
		return err
	}
	good := &lightkeeperv1.SessionAuth{KeeperId: setup.KeyID(key), Time: timestamppb.New(time.UnixMilli(now.UnixMilli())),
		Signature: protocol.SignSession(key, chainID, now.UnixMilli())}
	if err := pull(good); err != nil {
		t.Fatalf("good session: %v", err)
	}
	stale := &lightkeeperv1.SessionAuth{KeeperId: setup.KeyID(key), Time: timestamppb.New(now.Add(-time.Hour)),
		Signature: protocol.SignSession(key, chainID, now.Add(-time.Hour).UnixMilli())}
	if err := pull(stale); connect.CodeOf(err) != connect.CodePermissionDenied {
		t.Fatalf("stale session: %v, want PermissionDenied", err)
	}
	stolen := &lightkeeperv1.SessionAuth{KeeperId: setup.KeyID(d.Keys[1]), Time: good.Time, Signature: good.Signature}
	if err := pull(stolen); connect.CodeOf(err) != connect.CodePermissionDenied {
		t.Fatalf("signature of another keeper: %v, want PermissionDenied", err)
	}
	extra := d.Keys[10]
	unregistered := &lightkeeperv1.SessionAuth{KeeperId: setup.KeyID(extra), Time: good.Time,
		Signature: protocol.SignSession(extra, chainID, now.UnixMilli())}
	if err := pull(unregistered); connect.CodeOf(err) != connect.CodeFailedPrecondition {
		t.Fatalf("unregistered keeper: %v, want FailedPrecondition", err)
	}
	if err := pull(&lightkeeperv1.SessionAuth{KeeperId: "xyz"}); connect.CodeOf(err) != connect.CodeInvalidArgument {
		t.Fatalf("malformed id: %v, want InvalidArgument", err)
	}
	_, err := kc.RegisterKeeper(context.Background(), connect.NewRequest(&lightkeeperv1.RegisterKeeperRequest{
		KeeperId: setup.KeyID(extra), Signature: protocol.SignRegistration(d.Keys[0], chainID),
	}))
	if connect.CodeOf(err) != connect.CodePermissionDenied {
		t.Fatalf("registration without key possession: %v, want PermissionDenied", err)
	}
}

// TestProtocols checks that one port serves Connect (JSON, as in the
// README's curl example), gRPC and gRPC-Web, plus health and metrics.
func TestProtocols(t *testing.T) {
	d := startDevnet(t, testConfig(), 10, 0)
	ctx := context.Background()

	res, err := http.Post(d.URL+"/lightkeeper.v1.LedgerService/GetChainInfo", "application/json", strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || !bytes.Contains(body, []byte(`"chainId":"lightkeeper-devnet"`)) {
		t.Fatalf("Connect JSON: %d %s", res.StatusCode, body)
	}

	var protocols http.Protocols
	protocols.SetUnencryptedHTTP2(true)
	h2c := &http.Client{Transport: &http.Transport{Protocols: &protocols}}
	for name, opt := range map[string]connect.ClientOption{"grpc": connect.WithGRPC(), "grpc-web": connect.WithGRPCWeb()} {
		lc := lightkeeperv1connect.NewLedgerServiceClient(h2c, d.URL, opt)
		info, err := lc.GetChainInfo(ctx, connect.NewRequest(&lightkeeperv1.GetChainInfoRequest{}))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if info.Msg.GetParams().GetThreshold() != 7 {
			t.Fatalf("%s: params %v", name, info.Msg.GetParams())
		}
	}

	res, err = http.Post(d.URL+"/grpc.health.v1.Health/Check", "application/json", strings.NewReader(`{"service":"lightkeeper.v1.RoundService"}`))
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(res.Body)
	res.Body.Close()
	if !bytes.Contains(body, []byte("SERVING")) {
		t.Fatalf("health: %s", body)
	}
	res, err = http.Get(d.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(res.Body)
	res.Body.Close()
	if !bytes.Contains(body, []byte("lightkeeper_block_height")) {
		t.Fatalf("metrics lack lightkeeper_block_height")
	}

	// Bad ids are refused with the field named, not looked up.
	rc := lightkeeperv1connect.NewRoundServiceClient(http.DefaultClient, d.URL)
	_, err = rc.GetRound(ctx, connect.NewRequest(&lightkeeperv1.GetRoundRequest{RoundId: "nope"}))
	var ce *connect.Error
	if !errors.As(err, &ce) || ce.Code() != connect.CodeInvalidArgument || !strings.Contains(ce.Message(), "round_id") {
		t.Fatalf("bad round id: %v", err)
	}
	_, err = rc.GetRound(ctx, connect.NewRequest(&lightkeeperv1.GetRoundRequest{RoundId: strings.Repeat("0", 64)}))
	if connect.CodeOf(err) != connect.CodeNotFound {
		t.Fatalf("missing round: %v, want NotFound", err)
	}
	_, err = rc.ListRounds(ctx, connect.NewRequest(&lightkeeperv1.ListRoundsRequest{PageToken: "!!"}))
	if connect.CodeOf(err) != connect.CodeInvalidArgument {
		t.Fatalf("bad page token: %v, want InvalidArgument", err)
	}
}

func TestMaxOpenRounds(t *testing.T) {
	cfg := testConfig()
	cfg.Limits.MaxOpenRounds = 1
	d := startDevnet(t, cfg, 10, 0)
	sub := workload.NewSubmitter(http.DefaultClient, d.URL)
	if _, err := sub.Submit(context.Background(), validItem(t), "first"); err != nil {
		t.Fatal(err)
	}
	// The silent keepers never vote: the first round stays open.
	_, err := sub.Submit(context.Background(), validItem(t), "second")
	if connect.CodeOf(err) != connect.CodeResourceExhausted || !strings.Contains(err.Error(), "1 rounds are open") {
		t.Fatalf("second round while one is open: %v, want ResourceExhausted", err)
	}
}

// testSetup is what a test chooses for a devnet: the node's config and
// the chain's parameters (its genesis params).
type testSetup struct {
	config.Config
	Params *lightkeeperv1.ConsensusParams
}

// testConfig is config.Default() without random challenges, on a chain
// with the default parameters. Challenges are tested on their own
// (challenge_test.go); elsewhere they would open rounds the test did not
// submit and spend CPU proving in the background.
func testConfig() testSetup {
	cfg := config.Default()
	cfg.Challenges.Enabled = false
	return testSetup{Config: cfg, Params: protocol.DefaultParams()}
}

// A key registered once cannot be registered again under another scheme or
// curve (or an invalid one): the answer is InvalidArgument naming the
// contradiction, not the stored record.
func TestRegisterVerifyingKeyContradiction(t *testing.T) {
	d := startDevnet(t, testConfig(), 1, 0)
	ctx := context.Background()
	vc := lightkeeperv1connect.NewVerifyingKeyServiceClient(http.DefaultClient, d.URL)
	it := validItem(t)
	reg := func(scheme lightkeeperv1.Scheme, curve lightkeeperv1.Curve) (*lightkeeperv1.RegisterVerifyingKeyResponse, error) {
		res, err := vc.RegisterVerifyingKey(ctx, connect.NewRequest(&lightkeeperv1.RegisterVerifyingKeyRequest{Scheme: scheme, Curve: curve, Key: it.VK}))
		if err != nil {
			return nil, err
		}
		return res.Msg, nil
	}
	groth16, bn254 := lightkeeperv1.Scheme(it.Scheme), lightkeeperv1.Curve(it.Curve)
	first, err := reg(groth16, bn254)
	if err != nil || !first.GetCreated() {
		t.Fatalf("first registration: %v %v", first, err)
	}
	again, err := reg(groth16, bn254)
	if err != nil || again.GetCreated() || again.GetVerifyingKey().GetId() != first.GetVerifyingKey().GetId() {
		t.Fatalf("same registration again: %v %v, want the stored record", again, err)
	}
	for _, c := range []struct {
		scheme lightkeeperv1.Scheme
		curve  lightkeeperv1.Curve
		want   string
	}{
		{lightkeeperv1.Scheme_SCHEME_PLONK, bn254, "scheme"},
		{groth16, lightkeeperv1.Curve_CURVE_BLS12_381, "curve"},
		{groth16, lightkeeperv1.Curve(99), "curve"},
		{lightkeeperv1.Scheme(42), bn254, "scheme"},
	} {
		res, err := reg(c.scheme, c.curve)
		if connect.CodeOf(err) != connect.CodeInvalidArgument || !strings.Contains(err.Error(), c.want) {
			t.Errorf("key registered as %v/%v, again as %v/%v: created %v, %v; want InvalidArgument naming the %s",
				groth16, bn254, c.scheme, c.curve, res.GetCreated(), err, c.want)
		}
	}
}
