package protocol

import (
	"crypto/ed25519"
	"encoding/binary"
	"fmt"
	"time"

	"google.golang.org/protobuf/types/known/durationpb"

	lightkeeperv1 "github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1"
)

// SessionDomain separates session signatures from votes and registrations,
// so no signature made for one purpose is valid for another.
const SessionDomain = "lightkeeper/session/v1\x00"

// SessionSignBytes is what a keeper signs to open a task session (Subscribe
// or PullTasks): SessionDomain || u16be(len(chainID)) || chainID ||
// keeperID(32) || i64be(unixMilli). The time bounds replays to the
// coordinator's allowed clock skew. It returns nil when the fields cannot be
// encoded unambiguously (see VoteSignBytes).
func SessionSignBytes(chainID string, keeperID ed25519.PublicKey, unixMilli int64) []byte {
	if len(chainID) > MaxSignedChainIDLen || len(keeperID) != ed25519.PublicKeySize {
		return nil
	}
	b := make([]byte, 0, len(SessionDomain)+2+len(chainID)+ed25519.PublicKeySize+8)
	b = append(b, SessionDomain...)
	b = binary.BigEndian.AppendUint16(b, uint16(len(chainID)))
	b = append(b, chainID...)
	b = append(b, keeperID...)
	return binary.BigEndian.AppendUint64(b, uint64(unixMilli))
}

// SignSession signs a session opening at unixMilli; nil for a bad key.
func SignSession(key ed25519.PrivateKey, chainID string, unixMilli int64) []byte {
	if len(key) != ed25519.PrivateKeySize {
		return nil
	}
	msg := SessionSignBytes(chainID, key.Public().(ed25519.PublicKey), unixMilli)
	if msg == nil {
		return nil
	}
	return ed25519.Sign(key, msg)
}

// VerifySession checks a session signature.
func VerifySession(chainID string, keeperID ed25519.PublicKey, unixMilli int64, sig []byte) bool {
	if len(keeperID) != ed25519.PublicKeySize || len(sig) != ed25519.SignatureSize {
		return false
	}
	msg := SessionSignBytes(chainID, keeperID, unixMilli)
	return msg != nil && ed25519.Verify(keeperID, msg, sig)
}

// Bounds of the chain's session rules (SessionParams).
const (
	// MaxSessionTTL bounds params.sessions.ttl: a keeper that vanished
	// stays on committees (and misses their rounds) for at most this long.
	MaxSessionTTL = time.Hour
	// MaxSessionSkew bounds params.sessions.skew.
	MaxSessionSkew = time.Hour
)

// DefaultSessionParams are the session rules a replicated chain's genesis
// gets (lightkeeper testnet init): online for 60 s after each accepted
// session, renewed by keepers well before that, and a signed time at most
// 30 s from the block time, the same order as a keeper's clock skew
// tolerated by a single coordinator. The single-node default genesis
// leaves them out: its online status comes from its own task streams.
func DefaultSessionParams() *lightkeeperv1.SessionParams {
	return &lightkeeperv1.SessionParams{
		Ttl:  durationpb.New(60 * time.Second),
		Skew: durationpb.New(30 * time.Second),
	}
}

// DefaultReplicatedParams are DefaultParams with DefaultSessionParams: the
// parameters of a replicated chain's genesis (lightkeeper testnet init),
// where a keeper's online status must be chain state.
func DefaultReplicatedParams() *lightkeeperv1.ConsensusParams {
	p := DefaultParams()
	p.Sessions = DefaultSessionParams()
	return p
}

// validateSessions checks params.sessions when present.
func validateSessions(s *lightkeeperv1.SessionParams) error {
	if s == nil {
		return nil
	}
	for _, d := range []struct {
		field string
		v     *durationpb.Duration
		max   time.Duration
	}{
		{"params.sessions.ttl", s.Ttl, MaxSessionTTL},
		{"params.sessions.skew", s.Skew, MaxSessionSkew},
	} {
		if d.v == nil {
			return &ParamError{Field: d.field, Reason: "missing"}
		}
		if err := d.v.CheckValid(); err != nil {
			return &ParamError{Field: d.field, Reason: err.Error()}
		}
		if v := d.v.AsDuration(); v < time.Millisecond || v > d.max {
			return &ParamError{Field: d.field, Reason: fmt.Sprintf("must be in 1ms..%s (got %s)", d.max, v)}
		}
	}
	return nil
}
