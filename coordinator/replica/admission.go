package replica

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"

	abci "github.com/cometbft/cometbft/abci/types"
	"google.golang.org/protobuf/proto"

	"github.com/lightkeeper-net/lightkeeper/coordinator/state"
	lightkeeperv1 "github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1"
	"github.com/lightkeeper-net/lightkeeper/protocol"
)

// MaxBlockTxs bounds the transactions of one block: the single-node
// coordinator's default network.max_txs_per_block, here a rule of the
// chain because ProcessProposal enforces it.
const MaxBlockTxs = 2000

// txEnvelopeBytes is room for a transaction's own fields around the
// largest payload it may carry.
const txEnvelopeBytes = 64 << 10

// txLimits is what a transaction's bytes must satisfy. It depends on the
// chain parameters only, so every replica checks the same.
type txLimits struct {
	maxTxBytes int
	chainID    string
	// sessions: the chain keeps keeper sessions (params.sessions), so a
	// registration does not mark a keeper online by itself.
	sessions bool
	// challenges: the chain's sealed-challenge rules (params.challenges),
	// nil when it has none.
	challenges *lightkeeperv1.ChallengeRules
}

// limitsOf sizes a transaction for the largest payload the chain
// accepts: a signed body, a verifying key or a program module.
func limitsOf(chainID string, p *lightkeeperv1.ConsensusParams) txLimits {
	largest := max(protocol.MaxTxBodyBytes,
		protocol.SizeLimitsOf(p).Normalized().MaxVerifyingKeyBytes,
		protocol.ComputeLimitsOf(p.GetCompute()).MaxModuleBytes)
	return txLimits{maxTxBytes: largest + txEnvelopeBytes, chainID: chainID, sessions: p.GetSessions() != nil, challenges: p.GetChallenges()}
}

// Errors of admission; codeOf maps them to ABCI codes.
var (
	errMalformed    = errors.New("malformed transaction")
	errNotAllowed   = errors.New("transaction not allowed on a replicated chain")
	errBadSignature = errors.New("bad signature")
	errRefused      = errors.New("refused by the committed state")
)

func codeOf(err error) uint32 {
	switch {
	case errors.Is(err, errMalformed):
		return CodeMalformed
	case errors.Is(err, errNotAllowed):
		return CodeNotAllowed
	case errors.Is(err, errBadSignature):
		return CodeBadSignature
	case errors.Is(err, errRefused):
		return CodeRefused
	}
	return CodeFailed
}

var canonical = proto.MarshalOptions{Deterministic: true}

// decode turns a block's or the mempool's bytes into a transaction, or
// says why they can never be one. It looks at nothing but the bytes and
// the chain parameters, so CheckTx, PrepareProposal and ProcessProposal
// reach the same verdict on every replica:
//
//   - at most maxTxBytes, one Transaction in its canonical (deterministic)
//     encoding, so one transaction has one hash in the mempool and in
//     blocks;
//   - not a set_keeper_online (an unsigned system transaction: on a
//     replicated chain nobody may speak for a keeper's session; the
//     keeper's own keeper_session does, and its registration opens one) and not a submit_round carrying a
//     challenge answer (which a mempool would show to everyone before
//     the round closes);
//   - on a chain with params.challenges, a submit_round's seal: present,
//     by a listed challenger, validly signed (protocol.CheckSeal, the
//     machine's own rule); elsewhere no seal and no reveal_challenge;
//   - a register_keeper's proof of possession verifies, because the
//     block marks the keeper online after it (app.go, sessionOpened);
//   - a keeper_session's signature verifies: a session the keeper did not
//     sign never takes block space (the machine checks it again).
func (l txLimits) decode(b []byte) (*lightkeeperv1.Transaction, error) {
	if len(b) > l.maxTxBytes {
		return nil, fmt.Errorf("%w: %d bytes, the limit is %d", errMalformed, len(b), l.maxTxBytes)
	}
	tx := new(lightkeeperv1.Transaction)
	if err := proto.Unmarshal(b, tx); err != nil {
		return nil, fmt.Errorf("%w: not a lightkeeper.v1.Transaction: %v", errMalformed, err)
	}
	if tx.Kind == nil {
		return nil, fmt.Errorf("%w: no transaction kind set", errMalformed)
	}
	if len(tx.ProtoReflect().GetUnknown()) > 0 {
		return nil, fmt.Errorf("%w: unknown fields", errMalformed)
	}
	if c, err := canonical.Marshal(tx); err != nil || !bytes.Equal(c, b) {
		return nil, fmt.Errorf("%w: not in the canonical (deterministic protobuf) encoding", errMalformed)
	}
	switch k := tx.Kind.(type) {
	case *lightkeeperv1.Transaction_SetKeeperOnline:
		return nil, fmt.Errorf("%w: set_keeper_online is a coordinator's unsigned system transaction; a keeper's registration marks it online", errNotAllowed)
	case *lightkeeperv1.Transaction_SubmitRound:
		if k.SubmitRound.GetChallenge() != nil {
			return nil, fmt.Errorf("%w: submit_round.challenge: a challenge's answer must not travel through the mempool (seal a commitment to it and reveal it after the close)", errNotAllowed)
		}
		if err := protocol.CheckSeal(l.chainID, l.challenges, k.SubmitRound); err != nil {
			if errors.Is(err, protocol.ErrBadSignature) {
				return nil, fmt.Errorf("%w: %v", errBadSignature, err)
			}
			return nil, fmt.Errorf("%w: %v", errNotAllowed, err)
		}
	case *lightkeeperv1.Transaction_RevealChallenge:
		rc := k.RevealChallenge
		if l.challenges == nil {
			return nil, fmt.Errorf("%w: reveal_challenge: this chain's genesis has no params.challenges", errNotAllowed)
		}
		if err := protocol.CheckID("reveal_challenge.round_id", rc.GetRoundId()); err != nil {
			return nil, fmt.Errorf("%w: %v", errMalformed, err)
		}
		if rc.GetAnswer() == nil || len(rc.GetSalt()) != protocol.SaltLen {
			return nil, fmt.Errorf("%w: reveal_challenge: want an answer and a %d-byte salt", errMalformed, protocol.SaltLen)
		}
	case *lightkeeperv1.Transaction_RegisterKeeper:
		r := k.RegisterKeeper
		id, ok := protocol.ParseID(r.GetKeeperId())
		if !ok {
			return nil, fmt.Errorf("%w: %v", errMalformed, protocol.CheckID("register_keeper.keeper_id", r.GetKeeperId()))
		}
		if !protocol.VerifyRegistration(l.chainID, ed25519.PublicKey(id[:]), r.GetSignature()) {
			return nil, fmt.Errorf("%w: register_keeper.signature: not a valid proof of possession of key %s on chain %q", errBadSignature, r.GetKeeperId(), l.chainID)
		}
	case *lightkeeperv1.Transaction_KeeperSession:
		ks := k.KeeperSession
		id, ok := protocol.ParseID(ks.GetKeeperId())
		if !ok {
			return nil, fmt.Errorf("%w: %v", errMalformed, protocol.CheckID("keeper_session.keeper_id", ks.GetKeeperId()))
		}
		if !protocol.VerifySession(l.chainID, ed25519.PublicKey(id[:]), ks.GetUnixMilli(), ks.GetSignature()) {
			return nil, fmt.Errorf("%w: keeper_session.signature: not keeper %s's session signature at %d on chain %q", errBadSignature, ks.GetKeeperId(), ks.GetUnixMilli(), l.chainID)
		}
	}
	return tx, nil
}

// CheckTx admits a transaction to the mempool: decode's rules, then the
// cheap checks the committed state allows (CheckTx may refuse early; the
// machine still checks everything in FinalizeBlock, so nothing here can
// make two replicas apply a block differently):
//
//   - cast_vote: the machine's own precheck (form, open round, committee,
//     duplicate) and the vote's signature;
//   - signed: the signature, and a nonce the account has not used yet;
//   - register_verifying_key, register_program: the machine's own parse
//     of the key or module under the chain's limits;
//   - keeper_session: a chain that keeps sessions, a registered keeper,
//     and a signed time after its last accepted session.
func (a *App) CheckTx(_ context.Context, req *abci.RequestCheckTx) (*abci.ResponseCheckTx, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.node == nil {
		return &abci.ResponseCheckTx{Code: CodeRefused, Log: "no chain yet"}, nil
	}
	if a.onCheckTx != nil {
		a.node.CheckMachine(func(m *state.Machine) { a.onCheckTx(req.Tx, m) })
	}
	tx, err := a.limits.decode(req.Tx)
	if err == nil {
		// Not under the service's read lock: between FinalizeBlock and
		// Commit the write lock is held, and this call holds the ABCI
		// connection Commit needs (service.Node.CheckMachine).
		a.node.CheckMachine(func(m *state.Machine) { err = a.admit(m, tx) })
	}
	if err != nil {
		return &abci.ResponseCheckTx{Code: codeOf(err), Log: err.Error()}, nil
	}
	return &abci.ResponseCheckTx{Code: CodeOK}, nil
}

func (a *App) admit(m *state.Machine, tx *lightkeeperv1.Transaction) error {
	switch k := tx.Kind.(type) {
	case *lightkeeperv1.Transaction_CastVote:
		v := k.CastVote.GetVote()
		if res, final := m.PrecheckVote(v); final {
			if res.Err == nil { // DUPLICATE: already counted
				return fmt.Errorf("%w: vote of keeper %s on round %s: %s", errRefused, v.GetKeeperId(), v.GetRoundId(), res.VoteStatus)
			}
			return fmt.Errorf("%w: %s: %v", errRefused, res.VoteStatus, res.Err)
		}
		// PrecheckVote parsed both ids and the result hash.
		rid, _ := protocol.ParseID(v.RoundId)
		kid, _ := protocol.ParseID(v.KeeperId)
		if !protocol.VerifyVote(a.limits.chainID, rid, ed25519.PublicKey(kid[:]), protocol.VoteKind(v.Kind), [32]byte(v.ResultHash), v.Signature) {
			return fmt.Errorf("%w: vote.signature: not keeper %s's signature of this vote on chain %q", errBadSignature, v.KeeperId, a.limits.chainID)
		}
	case *lightkeeperv1.Transaction_Signed:
		body, signer, err := protocol.VerifyTx(a.limits.chainID, k.Signed)
		if err != nil {
			if errors.Is(err, protocol.ErrBadSignature) {
				return fmt.Errorf("%w: %v", errBadSignature, err)
			}
			return fmt.Errorf("%w: %v", errMalformed, err)
		}
		if acct, ok := m.Account(signer); ok && body.GetNonce() < acct.GetNonce() {
			return fmt.Errorf("%w: nonce %d of account %s is used (next is %d)", errRefused, body.GetNonce(), signer, acct.GetNonce())
		}
	case *lightkeeperv1.Transaction_RegisterVerifyingKey:
		r := k.RegisterVerifyingKey
		if _, err := state.CheckVerifyingKey(r.GetScheme(), r.GetCurve(), r.GetKey(), protocol.SizeLimitsOf(m.Params())); err != nil {
			return fmt.Errorf("%w: %v", errRefused, err)
		}
	case *lightkeeperv1.Transaction_RegisterProgram:
		if err := state.CheckProgram(k.RegisterProgram.GetModule(), m.Params().GetCompute()); err != nil {
			return fmt.Errorf("%w: %v", errRefused, err)
		}
	case *lightkeeperv1.Transaction_RevealChallenge:
		// The cheap part of the machine's rule: a closed sealed round in
		// its window, not revealed, whose commitment this opens. The
		// window and quota are checked at the block's time.
		rc := k.RevealChallenge
		r, _, ok := m.PendingReveal(rc.RoundId)
		switch {
		case !ok:
			return fmt.Errorf("%w: reveal_challenge: round %s is not a closed sealed round in its reveal window", errRefused, rc.RoundId)
		case r.Challenge != nil:
			return fmt.Errorf("%w: reveal_challenge: round %s is revealed already", errRefused, rc.RoundId)
		case !protocol.OpensCommitment(r.GetSeal().GetCommitment(), rc.Answer, rc.Salt):
			return fmt.Errorf("%w: reveal_challenge: the answer and salt do not open round %s's seal", errRefused, rc.RoundId)
		}
	case *lightkeeperv1.Transaction_KeeperSession:
		ks := k.KeeperSession
		if m.Params().GetSessions() == nil {
			return fmt.Errorf("%w: keeper_session: this chain's genesis has no params.sessions", errRefused)
		}
		kp, ok := m.Keeper(ks.KeeperId)
		if !ok || !kp.Registered {
			return fmt.Errorf("%w: keeper_session.keeper_id: %s is not a registered keeper", errRefused, ks.KeeperId)
		}
		if ks.UnixMilli <= kp.SessionUnixMilli {
			return fmt.Errorf("%w: keeper_session.unix_milli %d is not after the last accepted session (%d)", errRefused, ks.UnixMilli, kp.SessionUnixMilli)
		}
	}
	return nil
}
