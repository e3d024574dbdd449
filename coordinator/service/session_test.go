package service_test

import (
	"context"
	"net/http"
	"testing"

	"connectrpc.com/connect"

	lightkeeperv1 "github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1"
	"github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1/lightkeeperv1connect"
	"github.com/lightkeeper-net/lightkeeper/protocol"
)

// RenewSession puts the keeper's own signature on a chain that keeps
// sessions, refuses renewals that come too soon, and tells a chain
// without session rules apart.
func TestRenewSession(t *testing.T) {
	cfg := testConfig()
	cfg.Params.Sessions = protocol.DefaultSessionParams()
	d := startDevnet(t, cfg, 10, 0)
	kc := lightkeeperv1connect.NewKeeperServiceClient(http.DefaultClient, d.URL)
	chainID := d.Genesis.GetChainId()
	renew := func(auth *lightkeeperv1.SessionAuth) (*lightkeeperv1.Keeper, error) {
		res, err := kc.RenewSession(context.Background(), connect.NewRequest(&lightkeeperv1.RenewSessionRequest{Auth: auth}))
		if err != nil {
			return nil, err
		}
		return res.Msg.GetKeeper(), nil
	}
	auth := sessionAuth(d.Keys[0], chainID)
	k, err := renew(auth)
	if err != nil {
		t.Fatal(err)
	}
	if !k.GetOnline() || k.GetSessionUnixMilli() != auth.GetTime().AsTime().UnixMilli() || k.GetSessionExpiresAt() == nil {
		t.Fatalf("after RenewSession: online %t session %d expires %v", k.GetOnline(), k.GetSessionUnixMilli(), k.GetSessionExpiresAt())
	}
	if _, err := renew(sessionAuth(d.Keys[0], chainID)); connect.CodeOf(err) != connect.CodeResourceExhausted {
		t.Errorf("renewal right after the last: %v, want ResourceExhausted", err)
	}
	stolen := sessionAuth(d.Keys[2], chainID) // signed by keeper 2
	stolen.KeeperId = sessionAuth(d.Keys[1], chainID).GetKeeperId()
	if _, err := renew(stolen); connect.CodeOf(err) != connect.CodePermissionDenied {
		t.Errorf("another keeper's signature: %v, want PermissionDenied", err)
	}

	plain := startDevnet(t, testConfig(), 1, 0)
	pc := lightkeeperv1connect.NewKeeperServiceClient(http.DefaultClient, plain.URL)
	_, err = pc.RenewSession(context.Background(), connect.NewRequest(&lightkeeperv1.RenewSessionRequest{Auth: sessionAuth(plain.Keys[0], plain.Genesis.GetChainId())}))
	if connect.CodeOf(err) != connect.CodeFailedPrecondition {
		t.Errorf("chain without session rules: %v, want FailedPrecondition", err)
	}
}
