package service

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/lightkeeper-net/lightkeeper/coordinator/config"
	"github.com/lightkeeper-net/lightkeeper/coordinator/state"
	"github.com/lightkeeper-net/lightkeeper/internal/setup"
	lightkeeperv1 "github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1"
	"github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1/lightkeeperv1connect"
	"github.com/lightkeeper-net/lightkeeper/protocol"
)

var errCrash = errors.New("simulated crash between apply and commit")

// TestNoReadOfUncommittedBlock: the producer is stopped between applying a
// block (a signed transfer with a fee) and committing it; while it waits
// there, clients read accounts, the fund, the epoch, the chain, a keeper and
// the rounds. Then the node "crashes" (the block is never committed) and a
// new node opens the same data directory. Every answer a client got, during
// the block or after the crash, is the pre-block state, which is also what
// the restarted node holds: no client saw the lost block.
func TestNoReadOfUncommittedBlock(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cfg := config.Default()
	cfg.Challenges.Enabled = false
	dir := t.TempDir()
	alice, bob := setup.NewKey(), setup.NewKey()
	aliceID, bobID := setup.KeyID(alice), setup.KeyID(bob)
	const funds, amount, fee = 1_000_000, 1_000, 3
	g := &lightkeeperv1.Genesis{ChainId: "commit-test", GenesisTime: timestamppb.New(time.Now().Truncate(time.Second)),
		Balances: []*lightkeeperv1.GenesisBalance{{AccountId: aliceID, Amount: funds}}, Params: protocol.DefaultParams()}
	var keeperID string
	for i := 0; i < 4; i++ {
		k := setup.NewKey()
		keeperID = setup.KeyID(k)
		g.Keepers = append(g.Keepers, &lightkeeperv1.GenesisKeeper{KeeperId: keeperID, Stake: setup.DefaultStake})
	}
	n, err := Open(Options{Config: cfg, Genesis: g, DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	applied, crash := make(chan *state.Result, 1), make(chan struct{})
	n.testHookAfterApply = func(res *state.Result) error {
		for _, a := range res.Accounts {
			if a.GetId() == bobID {
				applied <- res
				<-crash
				return errCrash
			}
		}
		return nil
	}
	srv := httptest.NewServer(n.Handler())
	defer srv.Close()
	runErr := make(chan error, 1)
	go func() { runErr <- n.Run(ctx) }()

	sc := lightkeeperv1connect.NewStakingServiceClient(http.DefaultClient, srv.URL)
	lc := lightkeeperv1connect.NewLedgerServiceClient(http.DefaultClient, srv.URL)
	kc := lightkeeperv1connect.NewKeeperServiceClient(http.DefaultClient, srv.URL)
	rc := lightkeeperv1connect.NewRoundServiceClient(http.DefaultClient, srv.URL)

	// reads are the client's view: each returns a message to compare.
	reads := map[string]func(ctx context.Context) (proto.Message, error){
		"GetAccount(alice)": func(ctx context.Context) (proto.Message, error) {
			r, err := sc.GetAccount(ctx, connect.NewRequest(&lightkeeperv1.GetAccountRequest{AccountId: aliceID}))
			if err != nil {
				return nil, err
			}
			return r.Msg, nil
		},
		"GetAccount(bob)": func(ctx context.Context) (proto.Message, error) {
			r, err := sc.GetAccount(ctx, connect.NewRequest(&lightkeeperv1.GetAccountRequest{AccountId: bobID}))
			if err != nil {
				return nil, err
			}
			return r.Msg, nil
		},
		"GetCommunityFund": func(ctx context.Context) (proto.Message, error) {
			r, err := sc.GetCommunityFund(ctx, connect.NewRequest(&lightkeeperv1.GetCommunityFundRequest{}))
			if err != nil {
				return nil, err
			}
			return r.Msg, nil
		},
		"GetEpoch": func(ctx context.Context) (proto.Message, error) {
			r, err := sc.GetEpoch(ctx, connect.NewRequest(&lightkeeperv1.GetEpochRequest{}))
			if err != nil {
				return nil, err
			}
			r.Msg.NextEpochAt = nil // derived from the clock at open
			return r.Msg, nil
		},
		"GetKeeperStake": func(ctx context.Context) (proto.Message, error) {
			r, err := sc.GetKeeperStake(ctx, connect.NewRequest(&lightkeeperv1.GetKeeperStakeRequest{KeeperId: keeperID}))
			if err != nil {
				return nil, err
			}
			return r.Msg, nil
		},
		"GetChainInfo": func(ctx context.Context) (proto.Message, error) {
			r, err := lc.GetChainInfo(ctx, connect.NewRequest(&lightkeeperv1.GetChainInfoRequest{}))
			if err != nil {
				return nil, err
			}
			return r.Msg, nil
		},
		"GetKeeper": func(ctx context.Context) (proto.Message, error) {
			r, err := kc.GetKeeper(ctx, connect.NewRequest(&lightkeeperv1.GetKeeperRequest{KeeperId: keeperID}))
			if err != nil {
				return nil, err
			}
			return r.Msg, nil
		},
		"ListRounds": func(ctx context.Context) (proto.Message, error) {
			r, err := rc.ListRounds(ctx, connect.NewRequest(&lightkeeperv1.ListRoundsRequest{}))
			if err != nil {
				return nil, err
			}
			return r.Msg, nil
		},
	}
	// The committed state; no block but the transfer's changes any of it.
	before := make(map[string]proto.Message)
	for name, read := range reads {
		m, err := read(ctx)
		if err != nil {
			t.Fatalf("%s before the block: %v", name, err)
		}
		before[name] = m
	}
	if got := before["GetAccount(alice)"].(*lightkeeperv1.GetAccountResponse).GetAccount().GetBalance(); got != funds {
		t.Fatalf("alice's balance before the transfer: %d, want %d", got, funds)
	}

	stx, err := protocol.SignTx(alice, g.GetChainId(), &lightkeeperv1.TxBody{Fee: fee, Nonce: 0,
		Msg: &lightkeeperv1.TxBody_Transfer{Transfer: &lightkeeperv1.TransferMsg{To: bobID, Amount: amount}}})
	if err != nil {
		t.Fatal(err)
	}
	submitErr := make(chan error, 1)
	go func() {
		_, err := sc.SubmitTx(ctx, connect.NewRequest(&lightkeeperv1.SubmitTxRequest{Tx: stx}))
		submitErr <- err
	}()
	var res *state.Result
	select {
	case res = <-applied:
	case <-ctx.Done():
		t.Fatal("the transfer's block was never applied")
	}
	if bal := accountBalance(res, aliceID); bal != funds-amount-fee {
		t.Fatalf("the applied block gives alice %d, want %d", bal, funds-amount-fee)
	}

	// While the producer holds the applied block, every read either
	// answers with the committed state or waits for the commit.
	type answer struct {
		name string
		msg  proto.Message
		err  error
	}
	answers := make(chan answer, len(reads))
	for name, read := range reads {
		go func() {
			m, err := read(ctx)
			answers <- answer{name, m, err}
		}()
	}
	check := func(a answer, when string) {
		t.Helper()
		if a.err != nil {
			if connect.CodeOf(a.err) != connect.CodeUnavailable {
				t.Errorf("%s %s: %v (want the committed state or Unavailable)", a.name, when, a.err)
			}
			return
		}
		if !proto.Equal(a.msg, before[a.name]) {
			t.Errorf("%s %s shows state that was never committed:\n got %v\nwant %v", a.name, when, a.msg, before[a.name])
		}
	}
	// The observation window: a read that shows the uncommitted block
	// does so at once; one that waits for the commit is collected below.
	window := time.NewTimer(2 * time.Second)
	pending := len(reads)
collect:
	for pending > 0 {
		select {
		case a := <-answers:
			pending--
			check(a, "during the block")
		case <-window.C:
			break collect
		}
	}
	close(crash)
	select {
	case err := <-runErr:
		if !errors.Is(err, errCrash) {
			t.Fatalf("Run after the crash: %v", err)
		}
	case <-ctx.Done():
		t.Fatal("Run did not return after the crash")
	}
	for ; pending > 0; pending-- {
		select {
		case a := <-answers:
			check(a, "held over the crash")
		case <-ctx.Done():
			t.Fatalf("%d reads never answered after the crash", pending)
		}
	}
	for name, read := range reads {
		m, err := read(ctx)
		check(answer{name, m, err}, "after the crash")
	}
	select {
	case err := <-submitErr:
		if err == nil {
			t.Fatal("the transfer was acknowledged though its block was lost")
		}
	case <-ctx.Done():
		t.Fatal("SubmitTx not answered after the crash")
	}
	srv.Close()
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}

	// The restart holds exactly what the clients saw.
	n2, err := Open(Options{Config: cfg, Genesis: g, DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer n2.Close()
	srv2 := httptest.NewServer(n2.Handler())
	defer srv2.Close()
	sc = lightkeeperv1connect.NewStakingServiceClient(http.DefaultClient, srv2.URL)
	lc = lightkeeperv1connect.NewLedgerServiceClient(http.DefaultClient, srv2.URL)
	kc = lightkeeperv1connect.NewKeeperServiceClient(http.DefaultClient, srv2.URL)
	rc = lightkeeperv1connect.NewRoundServiceClient(http.DefaultClient, srv2.URL)
	for name, read := range reads {
		m, err := read(ctx)
		if err != nil {
			t.Fatalf("%s after the restart: %v", name, err)
		}
		if !proto.Equal(m, before[name]) {
			t.Errorf("%s after the restart differs from what clients saw:\n got %v\nwant %v", name, m, before[name])
		}
	}
}

func accountBalance(res *state.Result, id string) uint64 {
	for _, a := range res.Accounts {
		if a.GetId() == id {
			return a.GetBalance()
		}
	}
	return 0
}

// BenchmarkReadsDuringCommits: GetAccount (a machine read) and
// GetChainInfo (a store read), called in-process while a client keeps the
// producer committing one transfer block after another; reports the
// blocks committed per second alongside.
func BenchmarkReadsDuringCommits(b *testing.B) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cfg := config.Default()
	cfg.Challenges.Enabled = false
	alice, bob := setup.NewKey(), setup.NewKey()
	aliceID, bobID := setup.KeyID(alice), setup.KeyID(bob)
	g := &lightkeeperv1.Genesis{ChainId: "commit-bench", GenesisTime: timestamppb.New(time.Now().Truncate(time.Second)),
		Balances: []*lightkeeperv1.GenesisBalance{{AccountId: aliceID, Amount: 1 << 40}},
		Keepers:  []*lightkeeperv1.GenesisKeeper{{KeeperId: setup.KeyID(setup.NewKey()), Stake: setup.DefaultStake}},
		Params:   protocol.DefaultParams()}
	n, err := Open(Options{Config: cfg, Genesis: g, DataDir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	runErr := make(chan error, 1)
	go func() { runErr <- n.Run(ctx) }()
	var committed atomic.Uint64
	loaded := make(chan struct{})
	go func() {
		defer close(loaded)
		for nonce := uint64(0); ctx.Err() == nil; nonce++ {
			stx, err := protocol.SignTx(alice, g.GetChainId(), &lightkeeperv1.TxBody{Nonce: nonce,
				Msg: &lightkeeperv1.TxBody_Transfer{Transfer: &lightkeeperv1.TransferMsg{To: bobID, Amount: 1}}})
			if err != nil {
				return
			}
			res, err := n.submit(ctx, protocol.SignedTransaction(stx))
			if err != nil || res.Err != nil {
				return
			}
			committed.Add(1)
		}
	}()
	ss, ls := stakingServer{n}, ledgerServer{n}
	for _, name := range []string{"GetAccount", "GetChainInfo"} {
		b.Run(name, func(b *testing.B) {
			from, t0 := committed.Load(), time.Now()
			for b.Loop() {
				var err error
				if name == "GetAccount" {
					_, err = ss.GetAccount(ctx, connect.NewRequest(&lightkeeperv1.GetAccountRequest{AccountId: bobID}))
				} else {
					_, err = ls.GetChainInfo(ctx, connect.NewRequest(&lightkeeperv1.GetChainInfoRequest{}))
				}
				if err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(committed.Load()-from)/time.Since(t0).Seconds(), "blocks/s")
		})
	}
	cancel()
	<-loaded
	<-runErr
	n.Close()
}
