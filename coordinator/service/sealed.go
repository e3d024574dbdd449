package service

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"sync"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/lightkeeper-net/lightkeeper/coordinator/state"
	"github.com/lightkeeper-net/lightkeeper/internal/atomicfile"
	lightkeeperv1 "github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1"
	"github.com/lightkeeper-net/lightkeeper/protocol"
)

// Sealed challenges on a replicated chain (params.challenges; the state
// machine's reveal.go, docs/design.md §8). A replica seals every round it
// puts in the mempool with its challenger key: a client's round with a
// commitment to nothing (32 random bytes no answer opens), a challenge
// with a commitment to its answer. The answer and salt never leave the
// replica before the round closes: they are kept in a node-local file of
// the data directory (not in the ledger, so not in the app hash), and
// after a block closes the round the replica submits the
// RevealChallengeTx that opens the seal.

// sealedFile is the node-local record of the challenges this replica
// sealed and has not revealed yet.
const sealedFile = "sealed-challenges.json"

// errNoChallengerKey refuses a submission a replica cannot seal.
var errNoChallengerKey = errors.New("this chain seals every round (params.challenges) and this replica has no challenger key listed there (config/challenger_key.json, written by lightkeeper testnet init): submit through another replica")

// sealer keeps this replica's unrevealed challenges and reveals them.
type sealer struct {
	n    *Node
	key  ed25519.PrivateKey
	path string

	mu       sync.Mutex
	open     map[string]*sealedEntry // by round id
	inFlight map[string]bool
}

// sealedEntry is one challenge until its reveal is accepted or its window
// has passed.
type sealedEntry struct {
	Answer   json.RawMessage `json:"answer"` // protojson ChallengeAnswer
	Salt     string          `json:"salt"`   // hex, 32 bytes
	Attempts int             `json:"attempts"`
}

// listedKey returns key if the chain seals rounds and lists it; nil
// otherwise.
func listedKey(rules *lightkeeperv1.ChallengeRules, key ed25519.PrivateKey) ed25519.PrivateKey {
	if rules == nil || len(key) != ed25519.PrivateKeySize || !protocol.IsChallenger(rules, key.Public().(ed25519.PublicKey)) {
		return nil
	}
	return key
}

func newSealer(n *Node, key ed25519.PrivateKey) (*sealer, error) {
	s := &sealer{n: n, key: key, path: filepath.Join(n.dataDir, sealedFile), open: map[string]*sealedEntry{}, inFlight: map[string]bool{}}
	b, err := os.ReadFile(s.path)
	if errors.Is(err, os.ErrNotExist) {
		return s, nil
	}
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(b, &s.open); err != nil {
		return nil, fmt.Errorf("%s: %w", s.path, err)
	}
	return s, nil
}

// save writes the entries (temporary file, sync, rename): a challenge
// is on disk before its seal is in the mempool, so a restart still
// reveals it.
func (s *sealer) save() error {
	b, err := json.Marshal(s.open)
	if err != nil {
		return err
	}
	return atomicfile.Write(s.path, 0o600, func(w io.Writer) error { _, err := w.Write(b); return err })
}

// isOwn reports whether id is a challenge this replica sealed.
func (s *sealer) isOwn(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.open[id]
	return ok
}

// sealClient seals a client's round with a commitment to nothing.
func (s *sealer) sealClient(tx *lightkeeperv1.Transaction) *lightkeeperv1.Transaction {
	tx = proto.Clone(tx).(*lightkeeperv1.Transaction)
	sr := tx.GetSubmitRound()
	nothing := make([]byte, protocol.CommitmentLen)
	rand.Read(nothing)
	sr.Seal = protocol.SignSeal(s.key, s.n.chainID, sr.GetRequest(), nothing, false)
	return tx
}

// OpenSealedChallenge opens a random challenge on a replicated chain:
// req sealed with a commitment to answer, recorded in the data directory
// first, then submitted and answered once its block is committed. The
// replica reveals it after the block that closes it. It fails with
// FailedPrecondition on a node that cannot seal (not replicated, no
// params.challenges, or no listed challenger key).
func (n *Node) OpenSealedChallenge(ctx context.Context, req *lightkeeperv1.RoundRequest, answer *lightkeeperv1.ChallengeAnswer) (state.TxResult, error) {
	s := n.sealer
	if s == nil {
		return state.TxResult{}, connect.NewError(connect.CodeFailedPrecondition, errNoChallengerKey)
	}
	salt := make([]byte, protocol.SaltLen)
	rand.Read(salt)
	c, ok := protocol.ChallengeCommitment(answer, salt)
	if !ok {
		return state.TxResult{}, invalidArgument("challenge answer: cannot be encoded")
	}
	ab, err := protojson.Marshal(answer)
	if err != nil {
		return state.TxResult{}, err
	}
	id := protocol.RoundID(n.chainID, req)
	s.mu.Lock()
	s.open[id] = &sealedEntry{Answer: ab, Salt: hex.EncodeToString(salt)}
	err = s.save()
	s.mu.Unlock()
	if err != nil {
		return state.TxResult{}, fmt.Errorf("record sealed challenge: %w", err)
	}
	tx := &lightkeeperv1.Transaction{Kind: &lightkeeperv1.Transaction_SubmitRound{SubmitRound: &lightkeeperv1.SubmitRoundTx{
		Request: req, Seal: protocol.SignSeal(s.key, n.chainID, req, c[:], answer.GetCandidates()),
	}}}
	res, err := n.submit(ctx, tx)
	if err == nil && res.Err != nil && !errors.Is(res.Err, state.ErrRoundExists) {
		s.forget(id)
	}
	return res, err
}

func (s *sealer) forget(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.open, id)
	if err := s.save(); err != nil {
		s.n.log.Error("sealed challenges: cannot save", "err", err)
	}
}

// observe runs after every committed block: each recorded challenge whose
// round has closed and awaits its reveal is revealed (one submission at a
// time; a refused one is tried again after the next block, twice at
// most); one whose window has passed, or that the machine no longer
// awaits, is forgotten.
func (s *sealer) observe() {
	type due struct {
		id     string
		answer *lightkeeperv1.ChallengeAnswer
		salt   []byte
	}
	var reveal []due
	var drop, done []string
	s.mu.Lock()
	ids := make([]string, 0, len(s.open))
	for id := range s.open {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	s.n.readMachine(func(m *state.Machine) {
		for _, id := range ids {
			if s.inFlight[id] {
				continue
			}
			e := s.open[id]
			if _, open := m.OpenRound(id); open {
				continue
			}
			r, _, pending := m.PendingReveal(id)
			if pending && r.GetChallenge() != nil {
				done = append(done, id) // revealed by an earlier attempt
				continue
			}
			if !pending || e.Attempts >= 2 {
				if m.KnownRound(id) || e.Attempts >= 2 {
					drop = append(drop, id)
				}
				continue
			}
			a := new(lightkeeperv1.ChallengeAnswer)
			salt, err := hex.DecodeString(e.Salt)
			if err != nil || protojson.Unmarshal(e.Answer, a) != nil {
				drop = append(drop, id)
				continue
			}
			reveal = append(reveal, due{id, a, salt})
		}
	})
	for _, d := range reveal {
		s.inFlight[d.id] = true
		s.open[d.id].Attempts++
	}
	for _, id := range drop {
		s.n.log.Warn("sealed challenge not revealed: its window passed or its reveal was refused twice; it stays a client round", "round", id)
		delete(s.open, id)
	}
	for _, id := range done {
		delete(s.open, id)
	}
	if len(reveal)+len(drop)+len(done) > 0 {
		if err := s.save(); err != nil {
			s.n.log.Error("sealed challenges: cannot save", "err", err)
		}
	}
	s.mu.Unlock()
	for _, d := range reveal {
		go s.reveal(d.id, d.answer, d.salt)
	}
}

// reveal submits one RevealChallengeTx and waits for its block.
func (s *sealer) reveal(id string, answer *lightkeeperv1.ChallengeAnswer, salt []byte) {
	ctx, cancel := context.WithTimeout(context.Background(), replicatedWait)
	defer cancel()
	res, err := s.n.submit(ctx, &lightkeeperv1.Transaction{Kind: &lightkeeperv1.Transaction_RevealChallenge{RevealChallenge: &lightkeeperv1.RevealChallengeTx{
		RoundId: id, Answer: answer, Salt: bytes.Clone(salt),
	}}})
	if err == nil {
		err = res.Err
	}
	s.mu.Lock()
	delete(s.inFlight, id)
	s.mu.Unlock()
	switch {
	case err == nil:
		s.n.log.Debug("sealed challenge revealed", "round", id)
		s.forget(id)
	case errors.Is(err, state.ErrChallengeMismatch), errors.Is(err, state.ErrAlreadyRevealed),
		errors.Is(err, state.ErrRevealWindow), errors.Is(err, state.ErrInvalidRequest):
		s.n.log.Warn("sealed challenge reveal refused", "round", id, "err", err)
		s.forget(id)
	default:
		// Transient (mempool full, rate limited this hour, no block in
		// time): observe tries once more after the next block.
		s.n.log.Info("sealed challenge reveal not committed; retrying after the next block", "round", id, "err", err)
	}
}
