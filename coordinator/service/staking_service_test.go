package service_test

import (
	"context"
	"crypto/ed25519"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/lightkeeper-net/lightkeeper/devtools/devnet"
	"github.com/lightkeeper-net/lightkeeper/devtools/workload"
	"github.com/lightkeeper-net/lightkeeper/internal/setup"
	lightkeeperv1 "github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1"
	"github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1/lightkeeperv1connect"
	"github.com/lightkeeper-net/lightkeeper/protocol"
)

type stakingAPI struct {
	t       *testing.T
	chainID string
	sc      lightkeeperv1connect.StakingServiceClient
}

func newStakingAPI(t *testing.T, d *devnet.Devnet) *stakingAPI {
	return &stakingAPI{t: t, chainID: d.Genesis.GetChainId(), sc: lightkeeperv1connect.NewStakingServiceClient(http.DefaultClient, d.URL)}
}

func (s *stakingAPI) account(id string) *lightkeeperv1.GetAccountResponse {
	s.t.Helper()
	res, err := s.sc.GetAccount(context.Background(), connect.NewRequest(&lightkeeperv1.GetAccountRequest{AccountId: id}))
	if err != nil {
		s.t.Fatal(err)
	}
	return res.Msg
}

// sign signs a body with the account's next nonce (unless nonce ≥ 0).
func (s *stakingAPI) sign(key ed25519.PrivateKey, fee uint64, nonce int64, msg func(b *lightkeeperv1.TxBody)) *lightkeeperv1.SignedTx {
	s.t.Helper()
	b := &lightkeeperv1.TxBody{Fee: fee, Nonce: s.account(setup.KeyID(key)).GetAccount().GetNonce()}
	if nonce >= 0 {
		b.Nonce = uint64(nonce)
	}
	msg(b)
	stx, err := protocol.SignTx(key, s.chainID, b)
	if err != nil {
		s.t.Fatal(err)
	}
	return stx
}

func (s *stakingAPI) submit(stx *lightkeeperv1.SignedTx) (*lightkeeperv1.SubmitTxResponse, error) {
	res, err := s.sc.SubmitTx(context.Background(), connect.NewRequest(&lightkeeperv1.SubmitTxRequest{Tx: stx}))
	if err != nil {
		return nil, err
	}
	return res.Msg, nil
}

// TestStakingServiceRefusals: signed transactions are checked with the
// right codes — no funds for the fee, a fee under min_tx_fee, a bad
// signature, a wrong nonce — and a data directory refuses to start under
// other staking parameters.
func TestStakingServiceRefusals(t *testing.T) {
	cfg := testConfig()
	cfg.Params.Staking.MinTxFee = 1
	dir := t.TempDir()
	ctx := context.Background()
	d, err := devnet.Start(ctx, devnet.Options{Dir: dir, Keepers: 0, ExtraGenesisKeepers: 10, Config: &cfg.Config, Params: cfg.Params})
	if err != nil {
		t.Fatal(err)
	}
	api := newStakingAPI(t, d)
	k0 := d.Keys[0]
	unbond := func(b *lightkeeperv1.TxBody) {
		b.Msg = &lightkeeperv1.TxBody_Unbond{Unbond: &lightkeeperv1.UnbondMsg{Amount: 100_000}}
	}
	// Keeper 0 has a bond but no liquid tokens to pay a fee with.
	if _, err := api.submit(api.sign(k0, 1, -1, unbond)); connect.CodeOf(err) != connect.CodeFailedPrecondition {
		t.Fatalf("fee without funds: %v", err)
	}
	if _, err := api.submit(api.sign(k0, 0, -1, unbond)); connect.CodeOf(err) != connect.CodeInvalidArgument {
		t.Fatalf("fee below min_tx_fee: %v", err)
	}
	bad := api.sign(k0, 1, -1, unbond)
	bad.Signature[0] ^= 1
	if _, err := api.submit(bad); connect.CodeOf(err) != connect.CodePermissionDenied {
		t.Fatalf("bad signature: %v", err)
	}
	if _, err := api.submit(api.sign(k0, 1, 7, unbond)); connect.CodeOf(err) != connect.CodeFailedPrecondition {
		t.Fatalf("bad nonce: %v", err)
	}
	if _, err := api.submit(&lightkeeperv1.SignedTx{}); connect.CodeOf(err) != connect.CodeInvalidArgument {
		t.Fatalf("empty transaction: %v", err)
	}
	if got := api.account(setup.KeyID(k0)).GetAccount(); got.GetNonce() != 0 || got.GetBalance() != 0 {
		t.Fatalf("refused transactions changed the account: %v", got)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	gpath := filepath.Join(dir, setup.GenesisFile)
	g, err := setup.ReadGenesis(gpath)
	if err != nil {
		t.Fatal(err)
	}
	g.Params.Staking.MinTxFee = 0
	if err := setup.WriteGenesis(gpath, g); err != nil {
		t.Fatal(err)
	}
	d, err = devnet.Start(ctx, devnet.Options{Dir: dir, Keepers: 0, ExtraGenesisKeepers: 10, Config: &cfg.Config})
	if err == nil {
		d.Close()
		t.Fatal("a data directory accepted other staking parameters")
	}
	if want := "params.staking.min_tx_fee: the chain has 1, genesis.json has 0"; !strings.Contains(err.Error(), want) {
		t.Fatalf("restart under other parameters: %v, want %q", err, want)
	}
}

// TestPaidSubmissions: on a chain with fees, keeper 0 unbonds (fee 0 is
// allowed there), waits for the payout, then pays for a round through the
// signed form of SubmitRound; the unsigned form is refused.
func TestPaidSubmissions(t *testing.T) {
	cfg := testConfig()
	cfg.Params.Staking.FeePerWorkUnit = 5
	cfg.Params.Staking.UnbondingPeriod = durationpb.New(time.Second)
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	d, err := devnet.Start(ctx, devnet.Options{Dir: dir, Keepers: 10, Config: &cfg.Config, Params: cfg.Params})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if err := d.WaitOnline(ctx, 10, 30*time.Second); err != nil {
		t.Fatal(err)
	}
	api := newStakingAPI(t, d)
	k0 := d.Keys[0]
	id0 := setup.KeyID(k0)
	r, err := api.submit(api.sign(k0, 0, -1, func(b *lightkeeperv1.TxBody) {
		b.Msg = &lightkeeperv1.TxBody_Unbond{Unbond: &lightkeeperv1.UnbondMsg{Amount: 100_000}}
	}))
	if err != nil || r.GetUnbondingId() != 1 {
		t.Fatalf("unbond: %v %v", r, err)
	}
	if got := api.account(id0); len(got.GetUnbonding()) != 1 || got.GetSelfBond() != setup.DefaultStake-100_000 {
		t.Fatalf("account after unbond: %v", got)
	}
	deadline := time.Now().Add(10 * time.Second)
	for api.account(id0).GetAccount().GetBalance() != 100_000 {
		if time.Now().After(deadline) {
			t.Fatalf("unbonding not paid out: %v", api.account(id0))
		}
		time.Sleep(100 * time.Millisecond)
	}

	it := validItem(t)
	sub := workload.NewSubmitter(http.DefaultClient, d.URL)
	// Registering the key is free; the unsigned submission is refused.
	if _, err := sub.Submit(ctx, it, "unsigned"); connect.CodeOf(err) != connect.CodeFailedPrecondition {
		t.Fatalf("unsigned submission with fees: %v", err)
	}
	var vkID string
	rc := lightkeeperv1connect.NewRoundServiceClient(http.DefaultClient, d.URL)
	vc := lightkeeperv1connect.NewVerifyingKeyServiceClient(http.DefaultClient, d.URL)
	vk, err := vc.RegisterVerifyingKey(ctx, connect.NewRequest(&lightkeeperv1.RegisterVerifyingKeyRequest{
		Scheme: lightkeeperv1.Scheme(it.Scheme), Curve: lightkeeperv1.Curve(it.Curve), Key: it.VK}))
	if err != nil {
		t.Fatal(err)
	}
	vkID = vk.Msg.GetVerifyingKey().GetId()
	req := &lightkeeperv1.RoundRequest{Payload: &lightkeeperv1.RoundRequest_Proof{Proof: &lightkeeperv1.ProofRequest{
		Scheme: lightkeeperv1.Scheme(it.Scheme), Curve: lightkeeperv1.Curve(it.Curve), VerifyingKeyId: vkID,
		Proof: it.Proof, PublicInputs: it.Public}}, ClientNonce: "paid"}
	stx := api.sign(k0, 2, -1, func(b *lightkeeperv1.TxBody) {
		b.Msg = &lightkeeperv1.TxBody_SubmitRound{SubmitRound: &lightkeeperv1.SubmitRoundMsg{Request: req}}
	})
	if _, err := rc.SubmitRound(ctx, connect.NewRequest(&lightkeeperv1.SubmitRoundRequest{Request: req, Signed: stx})); connect.CodeOf(err) != connect.CodeInvalidArgument {
		t.Fatalf("both forms: %v", err)
	}
	res, err := rc.SubmitRound(ctx, connect.NewRequest(&lightkeeperv1.SubmitRoundRequest{Signed: stx}))
	if err != nil || !res.Msg.GetCreated() {
		t.Fatalf("paid submission: %v %v", res, err)
	}
	acct := api.account(id0).GetAccount()
	// 100,000 − fee 2 − 5 per work unit × 1 (groth16).
	if acct.GetBalance() != 100_000-2-5 || acct.GetNonce() != 2 {
		t.Fatalf("account after paying: %v", acct)
	}
	if _, err := sub.WaitDecided(ctx, res.Msg.GetRound().GetId()); err != nil {
		t.Fatal(err)
	}
	cf, err := api.sc.GetCommunityFund(ctx, connect.NewRequest(&lightkeeperv1.GetCommunityFundRequest{}))
	if err != nil || cf.Msg.GetFeePot() != 7 || cf.Msg.GetTotalFees() != 7 {
		t.Fatalf("fund: %v %v", cf, err)
	}

	// The economy survives a restart.
	d.Close()
	d2, err := devnet.Start(ctx, devnet.Options{Dir: dir, Keepers: 0, ExtraGenesisKeepers: 10, Config: &cfg.Config})
	if err != nil {
		t.Fatal(err)
	}
	defer d2.Close()
	api = newStakingAPI(t, d2)
	if got := api.account(id0).GetAccount(); got.GetBalance() != acct.GetBalance() || got.GetNonce() != 2 {
		t.Fatalf("after restart: %v, want %v", got, acct)
	}
	if _, err := api.submit(api.sign(k0, 1, -1, func(b *lightkeeperv1.TxBody) {
		b.Msg = &lightkeeperv1.TxBody_Transfer{Transfer: &lightkeeperv1.TransferMsg{To: setup.KeyID(d2.Keys[1]), Amount: 10}}
	})); err != nil {
		t.Fatalf("transfer after restart: %v", err)
	}
}
