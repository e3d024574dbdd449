package protocol

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"time"

	"google.golang.org/protobuf/types/known/durationpb"

	lightkeeperv1 "github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1"
)

// Sealed random challenges (commit-reveal, docs/design.md §8): on a chain
// with params.challenges a challenger signs a commitment on every round it
// submits, to the answer for a challenge and to nothing for a client
// round, and opens it with a RevealChallengeTx once the round has closed.

const (
	// CommitDomain separates challenge commitments from every other hash.
	CommitDomain = "lightkeeper/challenge/commit/v1\x00"
	// SealDomain separates seal signatures from votes, sessions and
	// transactions.
	SealDomain = "lightkeeper/challenge/seal/v1\x00"
	// SaltLen is the length of a commitment's salt.
	SaltLen = 32
	// CommitmentLen is the length of a commitment (SHA-256).
	CommitmentLen = sha256.Size
)

// Bounds of params.challenges.
const (
	// MaxChallengers bounds the challenger keys of a chain.
	MaxChallengers = 256
	// MaxRevealWindow bounds params.challenges.reveal_window.
	MaxRevealWindow = time.Hour
	// MaxRevealsPerHour bounds params.challenges.max_reveals_per_hour.
	MaxRevealsPerHour = 3600
	// MillisPerHour is the length of a reveal-quota hour.
	MillisPerHour = 3_600_000
)

// ChallengeCommitment returns SHA-256(CommitDomain || deterministic
// protobuf of answer || salt), or false when the answer cannot be
// marshalled or the salt is not SaltLen bytes.
func ChallengeCommitment(answer *lightkeeperv1.ChallengeAnswer, salt []byte) ([CommitmentLen]byte, bool) {
	if len(salt) != SaltLen || answer == nil {
		return [CommitmentLen]byte{}, false
	}
	b, err := detMarshal.Marshal(answer)
	if err != nil {
		return [CommitmentLen]byte{}, false
	}
	h := sha256.New()
	h.Write([]byte(CommitDomain))
	h.Write(b)
	h.Write(salt)
	return [CommitmentLen]byte(h.Sum(nil)), true
}

// OpensCommitment reports whether answer and salt open commitment.
func OpensCommitment(commitment []byte, answer *lightkeeperv1.ChallengeAnswer, salt []byte) bool {
	c, ok := ChallengeCommitment(answer, salt)
	return ok && bytes.Equal(c[:], commitment)
}

// SealSignBytes is what a challenger signs to seal a round: SealDomain ||
// u16be(len(chainID)) || chainID || SHA-256(deterministic protobuf of req)
// || commitment(32) || candidates (one byte, 0 or 1). It returns nil when
// the fields cannot be encoded unambiguously.
func SealSignBytes(chainID string, req *lightkeeperv1.RoundRequest, commitment []byte, candidates bool) []byte {
	if len(chainID) > MaxSignedChainIDLen || len(commitment) != CommitmentLen || req == nil {
		return nil
	}
	rb, err := detMarshal.Marshal(req)
	if err != nil {
		return nil
	}
	rh := sha256.Sum256(rb)
	b := make([]byte, 0, len(SealDomain)+2+len(chainID)+2*sha256.Size+1)
	b = append(b, SealDomain...)
	b = binary.BigEndian.AppendUint16(b, uint16(len(chainID)))
	b = append(b, chainID...)
	b = append(b, rh[:]...)
	b = append(b, commitment...)
	if candidates {
		return append(b, 1)
	}
	return append(b, 0)
}

// SignSeal seals req with key: the ChallengeSeal for commitment, or nil
// for a bad key or request.
func SignSeal(key ed25519.PrivateKey, chainID string, req *lightkeeperv1.RoundRequest, commitment []byte, candidates bool) *lightkeeperv1.ChallengeSeal {
	if len(key) != ed25519.PrivateKeySize {
		return nil
	}
	msg := SealSignBytes(chainID, req, commitment, candidates)
	if msg == nil {
		return nil
	}
	return &lightkeeperv1.ChallengeSeal{
		Challenger: bytes.Clone(key.Public().(ed25519.PublicKey)),
		Commitment: bytes.Clone(commitment),
		Signature:  ed25519.Sign(key, msg),
		Candidates: candidates,
	}
}

// VerifySeal checks a seal's form and signature (not whether its
// challenger is listed: CheckSeal does both).
func VerifySeal(chainID string, req *lightkeeperv1.RoundRequest, s *lightkeeperv1.ChallengeSeal) bool {
	if len(s.GetChallenger()) != ed25519.PublicKeySize || len(s.GetSignature()) != ed25519.SignatureSize {
		return false
	}
	msg := SealSignBytes(chainID, req, s.GetCommitment(), s.GetCandidates())
	return msg != nil && ed25519.Verify(ed25519.PublicKey(s.Challenger), msg, s.Signature)
}

// IsChallenger reports whether key is listed in rules.
func IsChallenger(rules *lightkeeperv1.ChallengeRules, key []byte) bool {
	for _, c := range rules.GetChallengers() {
		if bytes.Equal(c, key) {
			return true
		}
	}
	return false
}

// CheckSeal is the stateless rule of a SubmitRoundTx on a chain with
// params.challenges (rules not nil): a seal, by a listed challenger, with
// a 32-byte commitment and a valid signature; and no answer in the clear.
// On a chain without them (rules nil) it refuses any seal. The errors wrap
// ErrInvalidRequest or ErrBadSignature and name the field.
func CheckSeal(chainID string, rules *lightkeeperv1.ChallengeRules, tx *lightkeeperv1.SubmitRoundTx) error {
	s := tx.GetSeal()
	if rules == nil {
		if s != nil {
			return fmt.Errorf("%w: submit_round.seal: this chain's genesis has no params.challenges", ErrInvalidRequest)
		}
		return nil
	}
	switch {
	case tx.GetChallenge() != nil:
		return fmt.Errorf("%w: submit_round.challenge: a chain with params.challenges takes sealed challenges only (the answer must not be readable before the round closes)", ErrInvalidRequest)
	case s == nil:
		return fmt.Errorf("%w: submit_round.seal: missing (params.challenges: every round is sealed by a challenger)", ErrInvalidRequest)
	case len(s.Commitment) != CommitmentLen:
		return fmt.Errorf("%w: submit_round.seal.commitment: %d bytes, want %d", ErrInvalidRequest, len(s.Commitment), CommitmentLen)
	case !IsChallenger(rules, s.Challenger):
		return fmt.Errorf("%w: submit_round.seal.challenger: %x is not in params.challenges.challengers", ErrInvalidRequest, s.Challenger)
	case !VerifySeal(chainID, tx.GetRequest(), s):
		return fmt.Errorf("%w: submit_round.seal.signature: not challenger %x's seal of this request on chain %q", ErrBadSignature, s.Challenger, chainID)
	}
	return nil
}

// DefaultChallengeRules are the challenge rules lightkeeper testnet init
// writes for the given challenger keys: reveals accepted for 2 minutes
// after the close (a replica reveals on the first block after it, so
// this leaves room for many block intervals and a restart), and 12
// reveals per challenger per hour: one challenge every 5 minutes from
// each replica (48 an hour from 4), and the bound on what one Byzantine
// challenger can do (docs/design.md §8.1). A replica's scheduler opens
// no more than that in an hour.
func DefaultChallengeRules(challengers [][]byte) *lightkeeperv1.ChallengeRules {
	return &lightkeeperv1.ChallengeRules{
		Challengers:       challengers,
		RevealWindow:      durationpb.New(2 * time.Minute),
		MaxRevealsPerHour: 12,
	}
}

// validateChallenges checks params.challenges when present.
func validateChallenges(c *lightkeeperv1.ChallengeRules) error {
	if c == nil {
		return nil
	}
	bad := func(field, format string, args ...any) error {
		return &ParamError{Field: "params.challenges." + field, Reason: fmt.Sprintf(format, args...)}
	}
	if n := len(c.Challengers); n < 1 || n > MaxChallengers {
		return bad("challengers", "want 1..%d keys (got %d)", MaxChallengers, n)
	}
	seen := make(map[string]bool, len(c.Challengers))
	for i, k := range c.Challengers {
		if len(k) != ed25519.PublicKeySize {
			return bad(fmt.Sprintf("challengers[%d]", i), "%d bytes, want a %d-byte ed25519 public key", len(k), ed25519.PublicKeySize)
		}
		if seen[string(k)] {
			return bad(fmt.Sprintf("challengers[%d]", i), "%x is listed twice", k)
		}
		seen[string(k)] = true
	}
	if c.RevealWindow == nil {
		return bad("reveal_window", "missing")
	}
	if err := c.RevealWindow.CheckValid(); err != nil {
		return bad("reveal_window", "%v", err)
	}
	if d := c.RevealWindow.AsDuration(); d < time.Millisecond || d > MaxRevealWindow {
		return bad("reveal_window", "must be in 1ms..%s (got %s)", MaxRevealWindow, d)
	}
	if n := c.MaxRevealsPerHour; n < 1 || n > MaxRevealsPerHour {
		return bad("max_reveals_per_hour", "must be in 1..%d (got %d)", MaxRevealsPerHour, n)
	}
	return nil
}
