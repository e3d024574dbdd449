package service_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/lightkeeper-net/lightkeeper/devtools/devnet"
	"github.com/lightkeeper-net/lightkeeper/devtools/workload"
	"github.com/lightkeeper-net/lightkeeper/internal/setup"
	lightkeeperv1 "github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1"
	"github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1/lightkeeperv1connect"
	"github.com/lightkeeper-net/lightkeeper/protocol"
)

// clientFrom is an HTTP client whose connections come from ip (another
// loopback address than the honest clients' 127.0.0.1), so the
// coordinator sees an abuser at an address of its own.
func clientFrom(ip string) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
	return &http.Client{Transport: &http.Transport{DialContext: d.DialContext}}
}

var lastSessionMilli atomic.Int64

// sessionAuth signs a fresh session for key: each with a later time than
// the last, as the coordinator takes a session signature once.
func sessionAuth(key ed25519.PrivateKey, chainID string) *lightkeeperv1.SessionAuth {
	ms := time.Now().UnixMilli()
	for {
		last := lastSessionMilli.Load()
		ms = max(ms, last+1)
		if lastSessionMilli.CompareAndSwap(last, ms) {
			break
		}
	}
	return &lightkeeperv1.SessionAuth{KeeperId: setup.KeyID(key), Time: timestamppb.New(time.UnixMilli(ms)),
		Signature: protocol.SignSession(key, chainID, ms)}
}

func newKey(t testing.TB) ed25519.PrivateKey {
	t.Helper()
	_, k, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func wantExhausted(t *testing.T, what string, err error, key string) {
	t.Helper()
	if connect.CodeOf(err) != connect.CodeResourceExhausted || !strings.Contains(err.Error(), key) {
		t.Fatalf("%s: %v, want ResourceExhausted naming %s", what, err, key)
	}
}

// castVotesInBlocks counts the cast_vote transactions by keeperID in the
// blocks after height from.
func castVotesInBlocks(t *testing.T, d *devnet.Devnet, from uint64, keeperIDs map[string]bool) int {
	t.Helper()
	lc := lightkeeperv1connect.NewLedgerServiceClient(http.DefaultClient, d.URL)
	info, err := lc.GetChainInfo(context.Background(), connect.NewRequest(&lightkeeperv1.GetChainInfoRequest{}))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for h := from + 1; h <= info.Msg.GetHeadHeight(); h++ {
		b, err := lc.GetBlock(context.Background(), connect.NewRequest(&lightkeeperv1.GetBlockRequest{Height: h}))
		if err != nil {
			t.Fatal(err)
		}
		for _, tx := range b.Msg.GetBlock().GetTransactions() {
			if v := tx.GetCastVote().GetVote(); v != nil && keeperIDs[v.GetKeeperId()] {
				n++
			}
		}
	}
	return n
}

func headHeight(t *testing.T, d *devnet.Devnet) uint64 {
	t.Helper()
	lc := lightkeeperv1connect.NewLedgerServiceClient(http.DefaultClient, d.URL)
	info, err := lc.GetChainInfo(context.Background(), connect.NewRequest(&lightkeeperv1.GetChainInfoRequest{}))
	if err != nil {
		t.Fatal(err)
	}
	return info.Msg.GetHeadHeight()
}

// TestJunkVotesBounded: votes from outside a round's committee are
// answered without a signature check or a block, votes with a member's id
// and a bad signature are checked once, and an address that keeps sending
// refused votes is cut off (limits.bad_vote_rate) — while the committee's
// honest votes, from another address, are accepted and decide the round.
func TestJunkVotesBounded(t *testing.T) {
	cfg := testConfig()
	cfg.Limits.BadVoteRate = 0.001 // only the burst
	cfg.Limits.BadVoteBurst = 50
	d := startDevnet(t, cfg, 10, 0)
	ctx := context.Background()
	chainID := d.Genesis.GetChainId()
	sub := workload.NewSubmitter(http.DefaultClient, d.URL)
	honest := lightkeeperv1connect.NewKeeperServiceClient(http.DefaultClient, d.URL)
	abuser := lightkeeperv1connect.NewKeeperServiceClient(clientFrom("127.0.0.2"), d.URL)

	round, err := sub.Submit(ctx, validItem(t), "junk")
	if err != nil {
		t.Fatal(err)
	}
	from := headHeight(t, d)
	outsider := newKey(t) // never registered, no stake
	junk := map[string]bool{setup.KeyID(outsider): true}
	var batch []*lightkeeperv1.Vote
	for range 40 {
		batch = append(batch, signedVote(t, chainID, round.GetId(), outsider, lightkeeperv1.VoteKind_VOTE_KIND_APPROVE))
	}
	res, err := abuser.SubmitVotes(ctx, connect.NewRequest(&lightkeeperv1.SubmitVotesRequest{Votes: batch}))
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range res.Msg.GetResults() {
		if r.GetStatus() != lightkeeperv1.VoteStatus_VOTE_STATUS_NOT_IN_COMMITTEE {
			t.Fatalf("junk vote %d: %v, want NOT_IN_COMMITTEE", i, r.GetStatus())
		}
	}
	// A member's id with a bad signature needs the signature check: into
	// a block it goes, as BAD_SIGNATURE; that spends the rest.
	forged := signedVote(t, chainID, round.GetId(), keyByID(t, d, round.GetCommittee()[9]), lightkeeperv1.VoteKind_VOTE_KIND_REJECT)
	forged.Signature[3] ^= 1
	var forgedBatch []*lightkeeperv1.Vote
	for range 20 {
		forgedBatch = append(forgedBatch, forged)
	}
	res, err = abuser.SubmitVotes(ctx, connect.NewRequest(&lightkeeperv1.SubmitVotesRequest{Votes: forgedBatch}))
	if err != nil {
		t.Fatal(err)
	}
	if st := res.Msg.GetResults()[0].GetStatus(); st != lightkeeperv1.VoteStatus_VOTE_STATUS_BAD_SIGNATURE {
		t.Fatalf("forged vote: %v, want BAD_SIGNATURE", st)
	}
	// 60 refused votes spent the burst of 50: the address is cut off.
	for range 3 {
		_, err = abuser.SubmitVotes(ctx, connect.NewRequest(&lightkeeperv1.SubmitVotesRequest{Votes: batch}))
		wantExhausted(t, "junk votes after the budget", err, "limits.bad_vote_rate")
	}
	// The committee votes from 127.0.0.1 and decides the round.
	var votes []*lightkeeperv1.Vote
	for _, id := range round.GetCommittee()[:7] {
		votes = append(votes, signedVote(t, chainID, round.GetId(), keyByID(t, d, id), lightkeeperv1.VoteKind_VOTE_KIND_APPROVE))
	}
	for i, st := range submitVotes(t, honest, votes...) {
		if st != lightkeeperv1.VoteStatus_VOTE_STATUS_ACCEPTED {
			t.Fatalf("honest vote %d: %v", i, st)
		}
	}
	decided, err := sub.WaitDecided(ctx, round.GetId())
	if err != nil {
		t.Fatal(err)
	}
	if decided.GetOutcome() != lightkeeperv1.Outcome_OUTCOME_APPROVED {
		t.Fatalf("outcome %v, want APPROVED", decided.GetOutcome())
	}
	// An exact repeat of an accepted vote is answered without a block too.
	if st := submitVotes(t, honest, votes[0]); st[0] != lightkeeperv1.VoteStatus_VOTE_STATUS_DUPLICATE {
		t.Fatalf("repeated vote: %v, want DUPLICATE", st)
	}
	// None of the outsider's votes reached a block.
	if n := castVotesInBlocks(t, d, from, junk); n != 0 {
		t.Fatalf("%d votes from outside the committee were written into blocks", n)
	}
}

// TestSessionReplay: a signed session message replayed (within the
// allowed clock skew) opens nothing. Before the fix the replay opened a
// pull session in the keeper's name — kept it online and took its tasks.
func TestSessionReplay(t *testing.T) {
	cfg := testConfig()
	d := startDevnet(t, cfg, 10, 1)
	ctx := context.Background()
	chainID := d.Genesis.GetChainId()
	kc := lightkeeperv1connect.NewKeeperServiceClient(http.DefaultClient, d.URL)
	key := d.Keys[10] // in genesis, run by nobody
	if _, err := kc.RegisterKeeper(ctx, connect.NewRequest(&lightkeeperv1.RegisterKeeperRequest{
		KeeperId: setup.KeyID(key), Signature: protocol.SignRegistration(key, chainID),
	})); err != nil {
		t.Fatal(err)
	}
	pull := func(c lightkeeperv1connect.KeeperServiceClient, auth *lightkeeperv1.SessionAuth) error {
		_, err := c.PullTasks(ctx, connect.NewRequest(&lightkeeperv1.PullTasksRequest{Auth: auth, WaitMs: 1}))
		return err
	}
	auth := sessionAuth(key, chainID)
	if err := pull(kc, auth); err != nil {
		t.Fatalf("fresh session: %v", err)
	}
	// The same message again, from anywhere: refused, however often.
	eve := lightkeeperv1connect.NewKeeperServiceClient(clientFrom("127.0.0.2"), d.URL)
	for range 3 {
		if err := pull(eve, auth); connect.CodeOf(err) != connect.CodePermissionDenied || !strings.Contains(err.Error(), "replayed") {
			t.Fatalf("replayed session: %v, want PermissionDenied", err)
		}
	}
	// An older signature, still within the skew, is a replay too.
	older := &lightkeeperv1.SessionAuth{KeeperId: auth.KeeperId, Time: timestamppb.New(auth.Time.AsTime().Add(-time.Millisecond)),
		Signature: protocol.SignSession(key, chainID, auth.Time.AsTime().Add(-time.Millisecond).UnixMilli())}
	if err := pull(eve, older); connect.CodeOf(err) != connect.CodePermissionDenied {
		t.Fatalf("older session: %v, want PermissionDenied", err)
	}
	// The keeper itself signs a new one and carries on.
	if err := pull(kc, sessionAuth(key, chainID)); err != nil {
		t.Fatalf("next fresh session: %v", err)
	}
	// Keepers run by the devnet (keeper.Keeper signs each session anew)
	// are online throughout.
	if err := d.WaitOnline(ctx, 11, 10*time.Second); err != nil {
		t.Fatal(err)
	}
}

// TestStreamLimits: open streams are bounded per keeper
// (limits.max_sessions_per_keeper) and per address
// (limits.max_streams_per_address), and a client at another address still
// watches its round to the decision.
func TestStreamLimits(t *testing.T) {
	cfg := testConfig()
	cfg.Limits.MaxSessionsPerKeeper = 1
	cfg.Limits.MaxStreamsPerAddress = 12 // the devnet's 10 keepers, at 127.0.0.1, hold 10
	d := startDevnet(t, cfg, 10, 1)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	chainID := d.Genesis.GetChainId()
	sub := workload.NewSubmitter(http.DefaultClient, d.URL)
	round, err := sub.Submit(ctx, validItem(t), "streams")
	if err != nil {
		t.Fatal(err)
	}

	// One keeper identity: a Subscribe stream is its one session; a
	// second session (another stream, or a waiting pull) is refused.
	abuse := clientFrom("127.0.0.2")
	kc := lightkeeperv1connect.NewKeeperServiceClient(abuse, d.URL)
	key := d.Keys[10]
	if _, err := kc.RegisterKeeper(ctx, connect.NewRequest(&lightkeeperv1.RegisterKeeperRequest{
		KeeperId: setup.KeyID(key), Signature: protocol.SignRegistration(key, chainID),
	})); err != nil {
		t.Fatal(err)
	}
	// The session is open as soon as the keeper is online, and stays open
	// while the stream is read (until the test's context ends): the call
	// itself returns as soon as the coordinator sends the session header.
	go func() {
		stream, err := kc.Subscribe(ctx, connect.NewRequest(&lightkeeperv1.SubscribeRequest{Auth: sessionAuth(key, chainID)}))
		if err != nil {
			return
		}
		defer stream.Close()
		for stream.Receive() {
		}
	}()
	if err := d.WaitOnline(ctx, 11, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	_, err = kc.PullTasks(ctx, connect.NewRequest(&lightkeeperv1.PullTasksRequest{Auth: sessionAuth(key, chainID), WaitMs: 1}))
	wantExhausted(t, "second session of one keeper", err, "limits.max_sessions_per_keeper")

	// One address: 11 more streams fill 127.0.0.2's 12.
	rc := lightkeeperv1connect.NewRoundServiceClient(abuse, d.URL)
	for i := range 11 {
		w, err := rc.WatchRound(ctx, connect.NewRequest(&lightkeeperv1.WatchRoundRequest{RoundId: round.GetId()}))
		if err != nil {
			t.Fatal(err)
		}
		defer w.Close()
		if !w.Receive() {
			t.Fatalf("watch %d: %v", i, w.Err())
		}
	}
	w, err := rc.WatchRound(ctx, connect.NewRequest(&lightkeeperv1.WatchRoundRequest{RoundId: round.GetId()}))
	if err == nil {
		if w.Receive() {
			t.Fatal("13th stream from one address was served")
		}
		err = w.Err()
		w.Close()
	}
	wantExhausted(t, "stream over the address limit", err, "limits.max_streams_per_address")

	// A client at 127.0.0.1 watches the round while the committee decides it.
	honest := lightkeeperv1connect.NewRoundServiceClient(http.DefaultClient, d.URL)
	hw, err := honest.WatchRound(ctx, connect.NewRequest(&lightkeeperv1.WatchRoundRequest{RoundId: round.GetId()}))
	if err != nil {
		t.Fatal(err)
	}
	defer hw.Close()
	var votes []*lightkeeperv1.Vote
	for _, id := range round.GetCommittee()[:7] {
		votes = append(votes, signedVote(t, chainID, round.GetId(), keyByID(t, d, id), lightkeeperv1.VoteKind_VOTE_KIND_APPROVE))
	}
	submitVotes(t, lightkeeperv1connect.NewKeeperServiceClient(http.DefaultClient, d.URL), votes...)
	var last *lightkeeperv1.Round
	for hw.Receive() {
		last = hw.Msg().GetRound()
		if last.GetOutcome() != lightkeeperv1.Outcome_OUTCOME_UNSPECIFIED {
			break
		}
	}
	if last.GetOutcome() != lightkeeperv1.Outcome_OUTCOME_APPROVED {
		t.Fatalf("watched round: %v (%v), want APPROVED", last, hw.Err())
	}
}

// TestRegistrationLimits: new keeper keys without the funds to bond stop
// at limits.max_unbonded_keepers (a funded key and the genesis keys still
// register); registered bytes of verifying keys and programs are bounded
// per address (limits.registration_bytes_per_hour) and in all
// (limits.max_registered_bytes), while an honest client registers its key
// and has its round decided.
func TestRegistrationLimits(t *testing.T) {
	cfg := testConfig()
	cfg.Limits.MaxUnbondedKeepers = 2
	cfg.Limits.RegistrationBytesPerHour = 64 << 10
	item := validItem(t)
	cfg.Limits.MaxRegisteredBytes = int64(len(item.VK)) + 200<<10
	funded := newKey(t) // a new key with the funds to bond
	d := startDevnetOpts(t, cfg, 10, 1, func(g *lightkeeperv1.Genesis, _ []ed25519.PrivateKey) {
		g.Balances = append(g.Balances, &lightkeeperv1.GenesisBalance{AccountId: setup.KeyID(funded), Amount: cfg.Params.Staking.MinSelfBond})
	})
	ctx := context.Background()
	chainID := d.Genesis.GetChainId()
	abuse := clientFrom("127.0.0.2")
	kc := lightkeeperv1connect.NewKeeperServiceClient(abuse, d.URL)
	register := func(key ed25519.PrivateKey) error {
		_, err := kc.RegisterKeeper(ctx, connect.NewRequest(&lightkeeperv1.RegisterKeeperRequest{
			KeeperId: setup.KeyID(key), Signature: protocol.SignRegistration(key, chainID),
		}))
		return err
	}
	for i := range 2 {
		if err := register(newKey(t)); err != nil {
			t.Fatalf("unbonded key %d: %v", i, err)
		}
	}
	wantExhausted(t, "third unbonded key", register(newKey(t)), "limits.max_unbonded_keepers")
	// A genesis key registers, and registers again, as often as it likes.
	for range 3 {
		if err := register(d.Keys[10]); err != nil {
			t.Fatalf("genesis key: %v", err)
		}
	}
	// A key whose account can pay min_self_bond registers.
	if err := register(funded); err != nil {
		t.Fatalf("funded key: %v", err)
	}

	// Bytes per address: junk keys are charged when tried, whatever they
	// turn out to be, so the third 40 KiB attempt is over 64 KiB an hour.
	vc := lightkeeperv1connect.NewVerifyingKeyServiceClient(abuse, d.URL)
	junkKey := func(tag byte) error {
		key := make([]byte, 40<<10)
		key[0] = tag
		_, err := vc.RegisterVerifyingKey(ctx, connect.NewRequest(&lightkeeperv1.RegisterVerifyingKeyRequest{
			Scheme: lightkeeperv1.Scheme_SCHEME_GROTH16, Curve: lightkeeperv1.Curve_CURVE_BN254, Key: key,
		}))
		return err
	}
	for i := range 2 {
		if err := junkKey(byte(i)); connect.CodeOf(err) != connect.CodeInvalidArgument {
			t.Fatalf("junk key %d: %v, want InvalidArgument", i, err)
		}
	}
	wantExhausted(t, "third junk key", junkKey(2), "limits.registration_bytes_per_hour")

	// An honest client (127.0.0.1) registers its key and its round is
	// decided.
	sub := workload.NewSubmitter(http.DefaultClient, d.URL)
	round, err := sub.Submit(ctx, item, "honest")
	if err != nil {
		t.Fatal(err)
	}
	var votes []*lightkeeperv1.Vote
	for _, id := range round.GetCommittee()[:7] {
		votes = append(votes, signedVote(t, chainID, round.GetId(), keyByID(t, d, id), lightkeeperv1.VoteKind_VOTE_KIND_APPROVE))
	}
	submitVotes(t, lightkeeperv1connect.NewKeeperServiceClient(http.DefaultClient, d.URL), votes...)
	if r, err := sub.WaitDecided(ctx, round.GetId()); err != nil || r.GetOutcome() != lightkeeperv1.Outcome_OUTCOME_APPROVED {
		t.Fatalf("honest round: %v, %v", r.GetOutcome(), err)
	}
	// In all: the stored key leaves 200 KiB; a 300 KiB program does not fit.
	pc := lightkeeperv1connect.NewProgramServiceClient(clientFrom("127.0.0.3"), d.URL)
	_, err = pc.RegisterProgram(ctx, connect.NewRequest(&lightkeeperv1.RegisterProgramRequest{Module: make([]byte, 300<<10)}))
	wantExhausted(t, "program over the total", err, "limits.max_registered_bytes")
}
