package state

import (
	"crypto/ed25519"
	"encoding/binary"
	"fmt"
	"strconv"
	"time"

	lightkeeperv1 "github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1"
	"github.com/lightkeeper-net/lightkeeper/protocol"
	"google.golang.org/protobuf/types/known/durationpb"
)

// The golden commands of sealed challenges (reveal.go):
//
//	genesis ... challengers=N [reveal_window=2m] [reveals=12]
//	        params.challenges with challenger keys c0..cN-1
//	submit name=R [seal=client|approve|reject] [challenger=I] [candidates]
//	       [noseal] [badsig] [unlisted] [clear=approve]
//	        on a chain with challengers every submission is sealed (a
//	        client round by default); noseal leaves it out, badsig breaks
//	        the signature, unlisted signs with a key not in the genesis,
//	        clear= also puts an answer in the clear (refused there)
//	reveal R [answer=approve|reject] [salt=wrong] [candidates=true|false]
//	        queue the RevealChallengeTx of the answer R was sealed with

// challengerKey is the test key of challenger i (unlisted: 99).
func challengerKey(i int) ed25519.PrivateKey {
	var seed [32]byte
	binary.BigEndian.PutUint32(seed[:4], uint32(i))
	seed[31] = 0x43
	return ed25519.NewKeyFromSeed(seed[:])
}

// sealedRound is what a challenger keeps to reveal a round it sealed.
type sealedRound struct {
	answer *lightkeeperv1.ChallengeAnswer // nil: a client round
	salt   []byte
}

var testSealed = map[*golden]map[string]sealedRound{}

func (g *golden) sealGenesis(a map[string]string, p *lightkeeperv1.ConsensusParams) {
	v, ok := a["challengers"]
	if !ok {
		return
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		g.fail("challengers=%s: %v", v, err)
	}
	var keys [][]byte
	for i := range n {
		keys = append(keys, challengerKey(i).Public().(ed25519.PublicKey))
	}
	rules := protocol.DefaultChallengeRules(keys)
	if w, ok := a["reveal_window"]; ok {
		d, err := time.ParseDuration(w)
		if err != nil {
			g.fail("reveal_window: %v", err)
		}
		rules.RevealWindow = durationpb.New(d)
	}
	if r, ok := a["reveals"]; ok {
		x, err := strconv.Atoi(r)
		if err != nil {
			g.fail("reveals: %v", err)
		}
		rules.MaxRevealsPerHour = uint32(x)
	}
	p.Challenges = rules
}

// seal seals a submission as the challenge script asks.
func (g *golden) seal(tx *lightkeeperv1.Transaction, req *lightkeeperv1.RoundRequest, a map[string]string, name string) {
	sr := tx.GetSubmitRound()
	if c := a["clear"]; c != "" {
		sr.Challenge = &lightkeeperv1.ChallengeAnswer{Kind: voteKinds[c], ResultHash: make([]byte, 32)}
	}
	_, noseal := a["noseal"]
	if g.m.Params().GetChallenges() == nil && a["seal"] == "" || noseal {
		return
	}
	_, cand := a["candidates"]
	var rec sealedRound
	salt := make([]byte, protocol.SaltLen)
	copy(salt, "salt of "+name)
	rec.salt = salt
	var commitment []byte
	switch s := def(a["seal"], "client"); s {
	case "client":
		// A commitment to nothing: a value no answer opens.
		c := make([]byte, protocol.CommitmentLen)
		copy(c, "nothing "+name)
		commitment = c
	case "approve", "reject":
		rec.answer = &lightkeeperv1.ChallengeAnswer{Kind: voteKinds[s], ResultHash: make([]byte, 32), Candidates: cand}
		c, ok := protocol.ChallengeCommitment(rec.answer, salt)
		if !ok {
			g.fail("commitment of %s", name)
		}
		commitment = c[:]
	default:
		g.fail("seal=%s", s)
	}
	ci, _ := strconv.Atoi(def(a["challenger"], "0"))
	if _, ok := a["unlisted"]; ok {
		ci = 99
	}
	sr.Seal = protocol.SignSeal(challengerKey(ci), testChain, req, commitment, cand)
	if _, ok := a["badsig"]; ok {
		sr.Seal.Signature[0] ^= 1
	}
	if testSealed[g] == nil {
		testSealed[g] = map[string]sealedRound{}
	}
	testSealed[g][name] = rec
}

var voteKinds = map[string]lightkeeperv1.VoteKind{"approve": approve, "reject": reject, "abstain": abstain}

func (g *golden) runReveal(f []string, a map[string]string) (string, bool) {
	if f[0] != "reveal" {
		return "", false
	}
	name := f[1]
	id := g.rounds[name]
	if id == "" {
		return g.fail("unknown round %s", name), true
	}
	rec := testSealed[g][name]
	answer := rec.answer
	if answer == nil {
		answer = &lightkeeperv1.ChallengeAnswer{Kind: approve, ResultHash: make([]byte, 32)}
	}
	answer = &lightkeeperv1.ChallengeAnswer{Kind: answer.Kind, ResultHash: answer.ResultHash, Candidates: answer.Candidates}
	if k, ok := a["answer"]; ok {
		answer.Kind = voteKinds[k]
	}
	if c, ok := a["candidates"]; ok {
		answer.Candidates = c == "true"
	}
	salt := rec.salt
	if a["salt"] == "wrong" {
		salt = make([]byte, protocol.SaltLen)
	}
	tx := &lightkeeperv1.Transaction{Kind: &lightkeeperv1.Transaction_RevealChallenge{RevealChallenge: &lightkeeperv1.RevealChallengeTx{
		RoundId: id, Answer: answer, Salt: salt}}}
	label := fmt.Sprintf("reveal %s %s", name, kindName(answer.Kind))
	if a["salt"] == "wrong" {
		label += " salt=wrong"
	}
	if c, ok := a["candidates"]; ok {
		label += " candidates=" + c
	}
	g.enqueue(tx, label)
	return "", true
}
