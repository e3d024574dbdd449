package keeper

import (
	"crypto/ed25519"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/durationpb"

	lightkeeperv1 "github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1"
)

// A keeper renews every third of the chain's session ttl — later than
// the coordinator's quarter-ttl limit — and not at all on a chain
// without session rules (the single-node default) or with renewal off.
func TestRenewEvery(t *testing.T) {
	key := ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize))
	withTTL := func(ttl time.Duration) *lightkeeperv1.GetChainInfoResponse {
		return &lightkeeperv1.GetChainInfoResponse{Params: &lightkeeperv1.ConsensusParams{
			Sessions: &lightkeeperv1.SessionParams{Ttl: durationpb.New(ttl)}}}
	}
	for _, tc := range []struct {
		name string
		cfg  Config
		info *lightkeeperv1.GetChainInfoResponse
		want time.Duration
	}{
		{"no session rules", NewConfig(), &lightkeeperv1.GetChainInfoResponse{Params: &lightkeeperv1.ConsensusParams{}}, 0},
		{"no chain info yet", NewConfig(), nil, 0},
		{"60 s ttl", NewConfig(), withTTL(time.Minute), 20 * time.Second},
		{"2 s ttl", NewConfig(), withTTL(2 * time.Second), 2 * time.Second / 3},
		{"renewal off", NewConfig().WithSessionRenewal(false), withTTL(time.Minute), 0},
	} {
		k := New("http://127.0.0.1:1", key, tc.cfg)
		if tc.info != nil {
			k.noteChain(tc.info)
		}
		got := k.renewEvery()
		if got != tc.want {
			t.Errorf("%s: renew every %v, want %v", tc.name, got, tc.want)
		}
		if ttl := tc.info.GetParams().GetSessions().GetTtl().AsDuration(); got != 0 && got <= ttl/4 {
			t.Errorf("%s: renew every %v, within the coordinator's limit of a quarter of %v", tc.name, got, ttl)
		}
	}
}
