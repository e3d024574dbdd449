package replica

import (
	"context"
	"strings"
	"testing"
	"time"

	abci "github.com/cometbft/cometbft/abci/types"

	"github.com/lightkeeper-net/lightkeeper/coordinator/state"
	lightkeeperv1 "github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1"
	"github.com/lightkeeper-net/lightkeeper/protocol"
)

func sessionTx(chain string, i int, unixMilli int64) *lightkeeperv1.Transaction {
	return &lightkeeperv1.Transaction{Kind: &lightkeeperv1.Transaction_KeeperSession{KeeperSession: &lightkeeperv1.KeeperSessionTx{
		KeeperId:  keeperID(i),
		UnixMilli: unixMilli,
		Signature: protocol.SignSession(keeperKey(i), chain, unixMilli),
	}}}
}

func checkTx(t *testing.T, d *driver, tx []byte) *abci.ResponseCheckTx {
	t.Helper()
	res, err := d.app.CheckTx(context.Background(), &abci.RequestCheckTx{Tx: tx})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// A keeper's session travels as a transaction: admitted when signed and
// new, applied at BFT time, and ended by the first block past its ttl.
func TestKeeperSessionOnChain(t *testing.T) {
	g := testGenesis(genesisTime)
	g.Params.Sessions = protocol.DefaultSessionParams() // ttl 60 s
	d := newDriver(t, t.TempDir(), g)
	d.block(enc(t, registerTx(0)), enc(t, registerTx(1)))

	at := d.time.Add(500 * time.Millisecond).UnixMilli() // within the skew of the next block
	forged := sessionTx(testChain, 0, at)
	forged.GetKeeperSession().KeeperId = keeperID(1)
	for _, c := range []struct {
		name string
		tx   *lightkeeperv1.Transaction
		code uint32
		log  string
	}{
		{"forged", forged, CodeBadSignature, "keeper_session.signature"},
		{"unregistered", sessionTx(testChain, 5, at), CodeRefused, "not a registered keeper"},
		{"valid", sessionTx(testChain, 0, at), CodeOK, ""},
	} {
		if res := checkTx(t, d, enc(t, c.tx)); res.Code != c.code || !strings.Contains(res.Log, c.log) {
			t.Errorf("%s: code %d log %q, want code %d naming %q", c.name, res.Code, res.Log, c.code, c.log)
		}
	}
	d.block(enc(t, sessionTx(testChain, 0, at)))
	if res := checkTx(t, d, enc(t, sessionTx(testChain, 0, at))); res.Code != CodeRefused || !strings.Contains(res.Log, "not after the last accepted session") {
		t.Errorf("replayed session: code %d log %q", res.Code, res.Log)
	}
	k := keeperOf(d, 0)
	if !k.Online || k.SessionUnixMilli != at {
		t.Fatalf("after its session: online %t session %d", k.Online, k.SessionUnixMilli)
	}
	// 60 one-second blocks later the session has ended. Keeper 1 never
	// sent one: on a chain with session rules a registration alone does
	// not make a keeper online.
	for range 60 {
		d.block()
	}
	k0, k1 := keeperOf(d, 0), keeperOf(d, 1)
	if k0.Online || k0.SessionExpiresAt != nil || k1.Online {
		t.Fatalf("after the ttl: keeper 0 online %t (expires %v), keeper 1 online %t", k0.Online, k0.SessionExpiresAt, k1.Online)
	}
}

// A chain whose genesis has no session rules refuses sessions early.
func TestKeeperSessionWithoutRules(t *testing.T) {
	d := newDriver(t, t.TempDir(), testGenesis(genesisTime))
	d.block(enc(t, registerTx(0)))
	if res := checkTx(t, d, enc(t, sessionTx(testChain, 0, d.time.UnixMilli()))); res.Code != CodeRefused || !strings.Contains(res.Log, "params.sessions") {
		t.Errorf("code %d log %q", res.Code, res.Log)
	}
}

func keeperOf(d *driver, i int) *lightkeeperv1.Keeper {
	var k *lightkeeperv1.Keeper
	d.app.withMachine(func(m *state.Machine) { k, _ = m.Keeper(keeperID(i)) })
	return k
}
