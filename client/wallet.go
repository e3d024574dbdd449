package client

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/lightkeeper-net/lightkeeper/protocol"
	"os"

	"connectrpc.com/connect"

	lightkeeperv1 "github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1"
	"github.com/lightkeeper-net/lightkeeper/shielded"
	"github.com/lightkeeper-net/lightkeeper/shielded/circuit"
)

// A wallet's side of the shielded pool (docs/withdrawals.md): deposits
// that draw a note, and withdrawals proved against the pool's tree.

// NoteFile is what a note file holds.
type NoteFile struct {
	ChainID string `json:"chain_id"`
	// Note.MarshalBinary, hex.
	Note   string `json:"note"`
	Amount uint64 `json:"amount"`
	Index  uint64 `json:"index"`
	Leaf   string `json:"leaf"`
	Height uint64 `json:"height"`
}

// Deposit is a wallet's deposit: it draws a fresh note for amount,
// pays amount from key's account into the pool with the note's
// precommitment, checks that the leaf the coordinator appended is the
// note's commitment, and returns what a note file holds.
func (c Client) Deposit(ctx context.Context, key ed25519.PrivateKey, amount, fee uint64) (NoteFile, error) {
	note, err := shielded.NewNote(rand.Reader, amount)
	if err != nil {
		return NoteFile{}, err
	}
	info, err := c.ChainInfo(ctx)
	if err != nil {
		return NoteFile{}, err
	}
	pre := note.Precommitment().Bytes()
	res, err := c.SignAndSubmit(ctx, key, &lightkeeperv1.TxBody{Fee: fee,
		Msg: &lightkeeperv1.TxBody_Deposit{Deposit: &lightkeeperv1.DepositMsg{Precommitment: pre[:], Amount: amount}}}, -1)
	if err != nil {
		return NoteFile{}, err
	}
	leaf := res.GetPoolLeaf()
	if want := note.Commitment().Bytes(); leaf == nil || !bytes.Equal(leaf.GetLeaf(), want[:]) {
		return NoteFile{}, fmt.Errorf("the coordinator reported leaf %x, want %x: note not saved", leaf.GetLeaf(), want)
	}
	nb, _ := note.MarshalBinary()
	return NoteFile{ChainID: info.GetChainId(), Note: hex.EncodeToString(nb), Amount: amount,
		Index: leaf.GetIndex(), Leaf: hex.EncodeToString(leaf.GetLeaf()), Height: res.GetHeight()}, nil
}

// ReadNoteFile reads and decodes a note file.
func ReadNoteFile(path string) (NoteFile, shielded.Note, error) {
	var nf NoteFile
	var note shielded.Note
	b, err := os.ReadFile(path)
	if err != nil {
		return nf, note, err
	}
	if err := json.Unmarshal(b, &nf); err != nil {
		return nf, note, fmt.Errorf("%s: %v", path, err)
	}
	if note, err = nf.Decode(); err != nil {
		return nf, note, fmt.Errorf("%s: %v", path, err)
	}
	return nf, note, nil
}

// Decode decodes the note a note file holds.
func (nf NoteFile) Decode() (shielded.Note, error) {
	var note shielded.Note
	raw, err := hex.DecodeString(nf.Note)
	if err != nil {
		return note, fmt.Errorf("note: %v", err)
	}
	if err := note.UnmarshalBinary(raw); err != nil {
		return note, fmt.Errorf("note: %v", err)
	}
	return note, nil
}

// ProveWithdrawal is a wallet's withdrawal of the note at leaf index to
// recipient (an account id): it rebuilds the pool's tree from the
// coordinator's leaves, checks that the note is that leaf under one of the
// pool's known roots, and proves it (Groth16, with prover's key). The
// request it returns is ready for SubmitWithdrawal.
func (c Client) ProveWithdrawal(ctx context.Context, prover *circuit.Prover, note shielded.Note, index uint64, recipient string) (*lightkeeperv1.WithdrawalRequest, error) {
	wt, err := shielded.NewWalletTree(circuit.Depth)
	if err != nil {
		return nil, err
	}
	var roots [][]byte
	for from := uint64(0); ; {
		page, err := c.Ledger.GetPool(ctx, connect.NewRequest(&lightkeeperv1.GetPoolRequest{FromIndex: from}))
		if err != nil {
			return nil, Describe(err)
		}
		if page.Msg.GetVerifyingKeyId() == "" {
			return nil, errors.New("this chain has no shielded pool")
		}
		roots = page.Msg.GetRoots()
		for _, l := range page.Msg.GetLeaves() {
			s, err := shielded.ParseScalar(l.GetLeaf())
			if err != nil || l.GetIndex() != wt.Size() {
				return nil, fmt.Errorf("pool leaf %d: bad record", l.GetIndex())
			}
			if _, _, err := wt.Append(s); err != nil {
				return nil, err
			}
		}
		if len(page.Msg.GetLeaves()) == 0 || wt.Size() >= page.Msg.GetSize() {
			break
		}
		from = wt.Size()
	}
	if index >= wt.Size() {
		return nil, fmt.Errorf("leaf %d is not in the pool (%d leaves)", index, wt.Size())
	}
	path, err := wt.Path(index)
	if err != nil {
		return nil, err
	}
	if err := path.Verify(wt.Root(), note.Commitment()); err != nil {
		return nil, fmt.Errorf("the note is not the pool's leaf %d: %v", index, err)
	}
	root := wt.Root().Bytes()
	known := false
	for _, r := range roots {
		known = known || bytes.Equal(r, root[:])
	}
	if !known {
		return nil, errors.New("the rebuilt tree's root is not one of the pool's known roots; retry")
	}
	addr, err := hex.DecodeString(recipient)
	if err != nil || !protocol.ValidID(recipient) {
		return nil, fmt.Errorf("recipient %q: want an account id (64 lowercase hex digits)", recipient)
	}
	proof, _, err := prover.Prove(circuit.Witness{Note: note, Path: path, Root: wt.Root(), Recipient: shielded.RecipientFromAddress(addr)})
	if err != nil {
		return nil, fmt.Errorf("prove: %w", err)
	}
	nul := note.Nullifier(index).Bytes()
	return &lightkeeperv1.WithdrawalRequest{Root: root[:], Nullifier: nul[:], Amount: note.Amount, Recipient: recipient, Proof: proof}, nil
}

// SubmitWithdrawal submits a WITHDRAWAL round and, with wait, follows it
// until it is decided. Errors wrap the coordinator's Connect errors (a
// refusal, such as a spent nullifier, is one): pass them to describe.
func (c Client) SubmitWithdrawal(ctx context.Context, w *lightkeeperv1.WithdrawalRequest, wait bool) (*lightkeeperv1.Round, error) {
	req := &lightkeeperv1.RoundRequest{Payload: &lightkeeperv1.RoundRequest_Withdrawal{Withdrawal: w}, ClientNonce: RandomNonce()}
	res, err := c.Rounds.SubmitRound(ctx, connect.NewRequest(&lightkeeperv1.SubmitRoundRequest{Request: req}))
	if err != nil {
		return nil, err
	}
	round := res.Msg.GetRound()
	if wait {
		if round, err = c.WaitResult(ctx, round.GetId(), 0); err != nil {
			return nil, fmt.Errorf("round %s accepted, but waiting failed: %w", res.Msg.GetRound().GetId(), err)
		}
	}
	return round, nil
}

// WithdrawalLine is a paid withdrawal of LedgerService.WatchWithdrawals on
// one line, as 'lightkeeper bridge watch' prints it, ending with the
// cursor that resumes after it.
func WithdrawalLine(m *lightkeeperv1.WatchWithdrawalsResponse) string {
	w := m.GetWithdrawal()
	id := w.GetRoundId()
	if len(id) > 12 {
		id = id[:12]
	}
	return fmt.Sprintf("%s  height %d  round %s  %d to %s  nullifier %x  next %s", m.GetCursor(), w.GetHeight(),
		id, w.GetAmount(), w.GetRecipient(), w.GetNullifier()[:min(8, len(w.GetNullifier()))], m.GetNextCursor())
}
