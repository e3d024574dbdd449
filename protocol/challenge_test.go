package protocol

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/durationpb"

	lightkeeperv1 "github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1"
)

func testChallenger(b byte) ed25519.PrivateKey {
	return ed25519.NewKeyFromSeed(bytes.Repeat([]byte{b}, 32))
}

func TestSealAndCommitment(t *testing.T) {
	key := testChallenger(1)
	req := &lightkeeperv1.RoundRequest{ClientNonce: "n"}
	answer := &lightkeeperv1.ChallengeAnswer{Kind: lightkeeperv1.VoteKind_VOTE_KIND_REJECT, ResultHash: make([]byte, 32)}
	salt := bytes.Repeat([]byte{7}, SaltLen)
	c, ok := ChallengeCommitment(answer, salt)
	if !ok {
		t.Fatal("no commitment")
	}
	if !OpensCommitment(c[:], answer, salt) {
		t.Fatal("the answer and salt do not open their own commitment")
	}
	other := &lightkeeperv1.ChallengeAnswer{Kind: lightkeeperv1.VoteKind_VOTE_KIND_APPROVE, ResultHash: make([]byte, 32)}
	if OpensCommitment(c[:], other, salt) || OpensCommitment(c[:], answer, make([]byte, SaltLen)) || OpensCommitment(c[:], answer, salt[:31]) {
		t.Fatal("another answer or salt opens the commitment")
	}
	rules := DefaultChallengeRules([][]byte{key.Public().(ed25519.PublicKey)})
	tx := &lightkeeperv1.SubmitRoundTx{Request: req, Seal: SignSeal(key, "chain", req, c[:], false)}
	if err := CheckSeal("chain", rules, tx); err != nil {
		t.Fatalf("valid seal refused: %v", err)
	}
	for _, bad := range []struct {
		name  string
		chain string
		rules *lightkeeperv1.ChallengeRules
		tx    *lightkeeperv1.SubmitRoundTx
		want  error
	}{
		{"other chain", "chain-2", rules, tx, ErrBadSignature},
		{"other request", "chain", rules, &lightkeeperv1.SubmitRoundTx{Request: &lightkeeperv1.RoundRequest{ClientNonce: "m"}, Seal: tx.Seal}, ErrBadSignature},
		{"candidates flipped", "chain", rules, &lightkeeperv1.SubmitRoundTx{Request: req, Seal: &lightkeeperv1.ChallengeSeal{
			Challenger: tx.Seal.Challenger, Commitment: tx.Seal.Commitment, Signature: tx.Seal.Signature, Candidates: true}}, ErrBadSignature},
		{"unlisted", "chain", rules, &lightkeeperv1.SubmitRoundTx{Request: req, Seal: SignSeal(testChallenger(2), "chain", req, c[:], false)}, ErrInvalidRequest},
		{"no seal", "chain", rules, &lightkeeperv1.SubmitRoundTx{Request: req}, ErrInvalidRequest},
		{"answer in the clear", "chain", rules, &lightkeeperv1.SubmitRoundTx{Request: req, Seal: tx.Seal, Challenge: answer}, ErrInvalidRequest},
		{"seal without rules", "chain", nil, tx, ErrInvalidRequest},
	} {
		if err := CheckSeal(bad.chain, bad.rules, bad.tx); !errors.Is(err, bad.want) {
			t.Errorf("%s: %v, want %v", bad.name, err, bad.want)
		}
	}
	if err := CheckSeal("chain", nil, &lightkeeperv1.SubmitRoundTx{Request: req}); err != nil {
		t.Errorf("unsealed round without rules: %v", err)
	}
}

func TestValidateChallenges(t *testing.T) {
	key := []byte(testChallenger(1).Public().(ed25519.PublicKey))
	ok := DefaultParams()
	ok.Challenges = DefaultChallengeRules([][]byte{key})
	if err := ValidateParams(ok); err != nil {
		t.Fatalf("default rules refused: %v", err)
	}
	for _, c := range []struct {
		field string
		edit  func(*lightkeeperv1.ChallengeRules)
	}{
		{"params.challenges.challengers", func(r *lightkeeperv1.ChallengeRules) { r.Challengers = nil }},
		{"params.challenges.challengers[0]", func(r *lightkeeperv1.ChallengeRules) { r.Challengers = [][]byte{key[:31]} }},
		{"params.challenges.challengers[1]", func(r *lightkeeperv1.ChallengeRules) { r.Challengers = [][]byte{key, key} }},
		{"params.challenges.reveal_window", func(r *lightkeeperv1.ChallengeRules) { r.RevealWindow = nil }},
		{"params.challenges.reveal_window", func(r *lightkeeperv1.ChallengeRules) { r.RevealWindow = durationpb.New(2 * time.Hour) }},
		{"params.challenges.max_reveals_per_hour", func(r *lightkeeperv1.ChallengeRules) { r.MaxRevealsPerHour = 0 }},
		{"params.challenges.max_reveals_per_hour", func(r *lightkeeperv1.ChallengeRules) { r.MaxRevealsPerHour = MaxRevealsPerHour + 1 }},
	} {
		p := DefaultParams()
		p.Challenges = DefaultChallengeRules([][]byte{key})
		c.edit(p.Challenges)
		var pe *ParamError
		if err := ValidateParams(p); !errors.As(err, &pe) || pe.Field != c.field {
			t.Errorf("%s: got %v", c.field, err)
		}
	}
}
