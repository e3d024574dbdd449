package protocol

import (
	"crypto/ed25519"
	"encoding/binary"
	"fmt"
)

// VoteKind is a keeper's vote. The numbers match the protobuf enum.
type VoteKind int32

const (
	VoteApprove VoteKind = 1
	VoteReject  VoteKind = 2
	VoteAbstain VoteKind = 3
)

// String returns "approve", "reject" or "abstain".
func (v VoteKind) String() string {
	switch v {
	case VoteApprove:
		return "approve"
	case VoteReject:
		return "reject"
	case VoteAbstain:
		return "abstain"
	}
	return fmt.Sprintf("vote(%d)", int32(v))
}

// Valid reports whether v is one of the three votes.
func (v VoteKind) Valid() bool { return v >= VoteApprove && v <= VoteAbstain }

// Domain separators. The trailing NUL ends the tag so that no tag is a prefix
// of another tag followed by data.
const (
	VoteDomain     = "lightkeeper/vote/v1\x00"
	RegisterDomain = "lightkeeper/register/v1\x00"
)

// MaxSignedChainIDLen is the longest chain id that can be signed over (its length
// is encoded in two bytes).
const MaxSignedChainIDLen = 0xFFFF

// VoteSignBytes returns the bytes a keeper signs for a vote:
//
//	VoteDomain || u16be(len(chainID)) || chainID || roundID(32) || keeperID(32) || byte(vote) || resultHash(32)
//
// Length-prefixing the chain id avoids ambiguous concatenation: without it,
// chain "a" with a round id starting with byte 'b' would sign the same bytes
// as chain "ab" with a shifted round id.
//
// It returns nil if the fields cannot be encoded unambiguously: a chain id
// longer than MaxSignedChainIDLen, a keeper id that is not 32 bytes, or a vote
// other than VoteApprove, VoteReject or VoteAbstain.
func VoteSignBytes(chainID string, roundID [32]byte, keeperID ed25519.PublicKey, vote VoteKind, resultHash [32]byte) []byte {
	if len(chainID) > MaxSignedChainIDLen || len(keeperID) != ed25519.PublicKeySize || !vote.Valid() {
		return nil
	}
	b := make([]byte, 0, len(VoteDomain)+2+len(chainID)+32+32+1+32)
	b = append(b, VoteDomain...)
	b = binary.BigEndian.AppendUint16(b, uint16(len(chainID)))
	b = append(b, chainID...)
	b = append(b, roundID[:]...)
	b = append(b, keeperID...)
	b = append(b, byte(vote))
	b = append(b, resultHash[:]...)
	return b
}

// SignVote signs a vote with the keeper's key (the keeper id is the key's
// public half) and returns the 64-byte signature, or nil if the key is not a
// valid ed25519 private key or VoteSignBytes refuses the fields.
func SignVote(key ed25519.PrivateKey, chainID string, roundID [32]byte, vote VoteKind, resultHash [32]byte) []byte {
	if len(key) != ed25519.PrivateKeySize {
		return nil
	}
	msg := VoteSignBytes(chainID, roundID, key.Public().(ed25519.PublicKey), vote, resultHash)
	if msg == nil {
		return nil
	}
	return ed25519.Sign(key, msg)
}

// VerifyVote checks a vote signature by keeperID. It returns false (never
// panics) for malformed keys, signatures or fields.
func VerifyVote(chainID string, roundID [32]byte, keeperID ed25519.PublicKey, vote VoteKind, resultHash [32]byte, sig []byte) bool {
	if len(sig) != ed25519.SignatureSize {
		return false
	}
	msg := VoteSignBytes(chainID, roundID, keeperID, vote, resultHash)
	if msg == nil {
		return false
	}
	return ed25519.Verify(keeperID, msg, sig)
}

// RegisterSignBytes returns the bytes a keeper signs to prove possession of
// its key when registering:
//
//	RegisterDomain || u16be(len(chainID)) || chainID || keeperID(32)
//
// Length-prefixing the chain id avoids ambiguous concatenation. It returns
// nil for a chain id longer than MaxSignedChainIDLen or a keeper id that is not 32
// bytes.
func RegisterSignBytes(chainID string, keeperID ed25519.PublicKey) []byte {
	if len(chainID) > MaxSignedChainIDLen || len(keeperID) != ed25519.PublicKeySize {
		return nil
	}
	b := make([]byte, 0, len(RegisterDomain)+2+len(chainID)+32)
	b = append(b, RegisterDomain...)
	b = binary.BigEndian.AppendUint16(b, uint16(len(chainID)))
	b = append(b, chainID...)
	b = append(b, keeperID...)
	return b
}

// SignRegistration signs the registration of key's public half on chainID,
// or returns nil if the key or chain id is invalid.
func SignRegistration(key ed25519.PrivateKey, chainID string) []byte {
	if len(key) != ed25519.PrivateKeySize {
		return nil
	}
	msg := RegisterSignBytes(chainID, key.Public().(ed25519.PublicKey))
	if msg == nil {
		return nil
	}
	return ed25519.Sign(key, msg)
}

// VerifyRegistration checks a proof of possession. It returns false (never
// panics) for malformed keys or signatures.
func VerifyRegistration(chainID string, keeperID ed25519.PublicKey, sig []byte) bool {
	if len(sig) != ed25519.SignatureSize {
		return false
	}
	msg := RegisterSignBytes(chainID, keeperID)
	if msg == nil {
		return false
	}
	return ed25519.Verify(keeperID, msg, sig)
}
