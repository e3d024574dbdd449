package state

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/binary"

	lightkeeperv1 "github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1"
	"github.com/lightkeeper-net/lightkeeper/protocol"
)

// Signature checks are most of what a block of votes costs, and ApplyBlock
// runs under the node's write lock, one transaction after the other. So the
// service verifies the signatures of a transaction when it receives it
// (VerifyTxSignatures, on the handler's goroutine, many at once) and hands
// the block the digests of the checks that passed (BlockInput.Verified).
//
// The set is an input that cannot change a verdict: the machine skips its
// own ed25519 check only for a (public key, signed message, signature)
// triple whose digest is in the set, and a digest only enters the set from
// a triple that verified (VerifiedSig has no exported way to build one). A
// digest covers the exact bytes the machine would check, so a vote that
// differs from the pre-checked one in any signed field or in its signature
// misses the set and is checked in full. A replay from disk passes no set
// and reaches the same results, only more slowly.

// VerifiedSig is the digest of one signature triple that verified.
type VerifiedSig struct{ digest [32]byte }

// VerifiedSigs is a set of VerifiedSig. The zero value is empty and usable.
type VerifiedSigs struct{ set map[[32]byte]struct{} }

// Add puts verified signatures into the set.
func (s *VerifiedSigs) Add(sigs ...VerifiedSig) {
	if s.set == nil {
		s.set = make(map[[32]byte]struct{}, len(sigs))
	}
	for _, v := range sigs {
		s.set[v.digest] = struct{}{}
	}
}

// Len is the number of signatures in the set.
func (s VerifiedSigs) Len() int { return len(s.set) }

// sigDigest binds the three parts with their lengths, so no two triples
// share a digest by moving bytes from one part to the next.
func sigDigest(pub ed25519.PublicKey, msg, sig []byte) [32]byte {
	h := sha256.New()
	var n [4]byte
	h.Write([]byte("lightkeeper/state/verified-sig/v1\x00"))
	for _, part := range [][]byte{pub, msg, sig} {
		binary.BigEndian.PutUint32(n[:], uint32(len(part)))
		h.Write(n[:])
		h.Write(part)
	}
	var d [32]byte
	h.Sum(d[:0])
	return d
}

// verifySig is ed25519.Verify with the shape checks of protocol.VerifyVote
// and VerifyRegistration (a nil message is one that could not be encoded),
// answered from the block's pre-checked set when the triple is in it.
func (a *applier) verifySig(pub ed25519.PublicKey, msg, sig []byte) bool {
	if msg == nil || len(pub) != ed25519.PublicKeySize || len(sig) != ed25519.SignatureSize {
		return false
	}
	if _, ok := a.verified.set[sigDigest(pub, msg, sig)]; ok {
		return true
	}
	return ed25519.Verify(pub, msg, sig)
}

// verifyVote is protocol.VerifyVote through verifySig.
func (a *applier) verifyVote(rid [32]byte, kid [32]byte, kind protocol.VoteKind, v *lightkeeperv1.Vote) bool {
	pub := ed25519.PublicKey(kid[:])
	return a.verifySig(pub, protocol.VoteSignBytes(a.m.chainID, rid, pub, kind, [32]byte(v.ResultHash)), v.Signature)
}

// VerifyTxSignatures checks the signatures the machine would check for tx
// on chainID (a vote's, a keeper registration's or session's) and returns the digests of
// those that verified, for BlockInput.Verified. A signature that does not
// verify is left out, not reported: the machine checks it again and gives
// the verdict. It never panics on malformed input.
func VerifyTxSignatures(chainID string, tx *lightkeeperv1.Transaction) []VerifiedSig {
	var pub ed25519.PublicKey
	var msg, sig []byte
	switch k := tx.GetKind().(type) {
	case *lightkeeperv1.Transaction_CastVote:
		v := k.CastVote.GetVote()
		rid, ok1 := protocol.ParseID(v.GetRoundId())
		kid, ok2 := protocol.ParseID(v.GetKeeperId())
		if !ok1 || !ok2 || len(v.GetResultHash()) != 32 {
			return nil
		}
		pub, sig = kid[:], v.GetSignature()
		msg = protocol.VoteSignBytes(chainID, rid, pub, protocol.VoteKind(v.GetKind()), [32]byte(v.GetResultHash()))
	case *lightkeeperv1.Transaction_RegisterKeeper:
		kid, ok := protocol.ParseID(k.RegisterKeeper.GetKeeperId())
		if !ok {
			return nil
		}
		pub, sig = kid[:], k.RegisterKeeper.GetSignature()
		msg = protocol.RegisterSignBytes(chainID, pub)
	case *lightkeeperv1.Transaction_KeeperSession:
		kid, ok := protocol.ParseID(k.KeeperSession.GetKeeperId())
		if !ok {
			return nil
		}
		pub, sig = kid[:], k.KeeperSession.GetSignature()
		msg = protocol.SessionSignBytes(chainID, pub, k.KeeperSession.GetUnixMilli())
	default:
		return nil
	}
	if msg == nil || len(sig) != ed25519.SignatureSize || !ed25519.Verify(pub, msg, sig) {
		return nil
	}
	return []VerifiedSig{{sigDigest(pub, msg, sig)}}
}
