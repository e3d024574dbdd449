package service

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"

	"connectrpc.com/connect"

	"github.com/lightkeeper-net/lightkeeper/pebbledb"
	lightkeeperv1 "github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1"
)

// MaxFindPageSize is the most rounds FindRounds returns at once (and its
// default): each is read from the store, so a request's cost is bounded.
const MaxFindPageSize = 100

// proofIndex maps the SHA-256 of a round's proof bytes to the rounds that
// carry them, oldest first. The store keeps no such index and other work
// changes its layout, so the service keeps it in memory: rebuilt from the
// stored rounds when the node opens, extended after each committed block
// (afterBlock), so it only ever names committed rounds. It costs about
// 160 bytes per proof round (the map and slices measured 99 bytes per
// entry at 200,000 entries, plus the 64-byte id).
type proofIndex struct {
	mu     sync.RWMutex
	rounds map[[sha256.Size]byte][]string
}

func newProofIndex() *proofIndex {
	return &proofIndex{rounds: make(map[[sha256.Size]byte][]string)}
}

// proofBytes is what FindRounds hashes: the proof of a PROOF or WITHDRAWAL
// round; COMPUTE rounds carry none.
func proofBytes(r *lightkeeperv1.Round) ([]byte, bool) {
	switch req := r.GetRequest(); {
	case req.GetProof() != nil:
		return req.GetProof().GetProof(), true
	case req.GetWithdrawal() != nil:
		return req.GetWithdrawal().GetProof(), true
	}
	return nil, false
}

func (x *proofIndex) add(r *lightkeeperv1.Round) {
	p, ok := proofBytes(r)
	if !ok {
		return
	}
	h := sha256.Sum256(p)
	x.mu.Lock()
	defer x.mu.Unlock()
	x.rounds[h] = append(x.rounds[h], r.GetId())
}

// newest returns up to limit round ids carrying the proof, newest first,
// and how many there are.
func (x *proofIndex) newest(h [sha256.Size]byte, limit int) ([]string, int) {
	x.mu.RLock()
	defer x.mu.RUnlock()
	ids := x.rounds[h]
	out := make([]string, 0, min(limit, len(ids)))
	for i := len(ids) - 1; i >= 0 && len(out) < limit; i-- {
		out = append(out, ids[i])
	}
	return out, len(ids)
}

// buildProofIndex reads every stored round once, oldest first, when the
// node opens (before it produces blocks).
func (n *Node) buildProofIndex() error {
	n.proofs = newProofIndex()
	var pages [][]*lightkeeperv1.Round
	token := ""
	for {
		rounds, next, err := n.store.ListRounds(token, 1000)
		if err != nil {
			return fmt.Errorf("proof index: %w", err)
		}
		pages = append(pages, rounds)
		if next == "" {
			break
		}
		token = next
	}
	for i := len(pages) - 1; i >= 0; i-- {
		for j := len(pages[i]) - 1; j >= 0; j-- {
			n.proofs.add(pages[i][j])
		}
	}
	return nil
}

func (s roundServer) FindRounds(ctx context.Context, req *connect.Request[lightkeeperv1.FindRoundsRequest]) (*connect.Response[lightkeeperv1.FindRoundsResponse], error) {
	size := int(req.Msg.GetPageSize())
	switch {
	case size == 0:
		size = MaxFindPageSize
	case size > MaxFindPageSize:
		return nil, invalidArgument("page_size: %d is over the limit of %d", size, MaxFindPageSize)
	}
	if err := checkID("proof_hash", req.Msg.GetProofHash()); err != nil {
		return nil, err
	}
	var h [sha256.Size]byte
	hex.Decode(h[:], []byte(req.Msg.GetProofHash())) // checked above
	ids, total := s.n.proofs.newest(h, size)
	out := &lightkeeperv1.FindRoundsResponse{Total: uint32(total)}
	for _, id := range ids {
		r, err := s.n.store.Round(id)
		if errors.Is(err, pebbledb.ErrNotFound) {
			return nil, connect.NewError(connect.CodeInternal, fmt.Errorf("proof index names round %s, which is not stored", id))
		}
		if err != nil {
			return nil, toConnect(err)
		}
		out.Rounds = append(out.Rounds, summarize(redact(r)))
	}
	return connect.NewResponse(out), nil
}
