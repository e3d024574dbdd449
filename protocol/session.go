package protocol

import (
	"crypto/ed25519"
	"encoding/binary"
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
