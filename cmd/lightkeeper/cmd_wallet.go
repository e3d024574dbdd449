package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"connectrpc.com/connect"
	"github.com/consensys/gnark/backend/groth16"

	"github.com/lightkeeper-net/lightkeeper/coordinator/service"
	"github.com/lightkeeper-net/lightkeeper/coordinator/state"
	"github.com/lightkeeper-net/lightkeeper/internal/setup"
	lightkeeperv1 "github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1"
	"github.com/lightkeeper-net/lightkeeper/shielded"
	"github.com/lightkeeper-net/lightkeeper/shielded/circuit"
)

func init() {
	register("wallet", "the shielded pool: 'wallet deposit' a note, 'wallet withdraw' it to an address", cmdWallet)
	register("bridge", "'bridge watch': stream the pool's paid withdrawals, resumable by cursor", cmdBridge)
}

const walletUsage = `wallet setup --out DIR [--fast]
       wallet deposit --amount N --key FILE [--note FILE] [--coordinator URL] [--fee N] [--json]
       wallet withdraw --note FILE --recipient ADDR --proving-key FILE [--coordinator URL] [--wait] [--json]

deposit draws a fresh note (secret, nullifier key, amount), pays amount from
the key's account into the shielded pool with the note's precommitment, and
writes the note with its leaf index to --note (default note-<index>.json,
mode 0600). Whoever holds a note file can withdraw it: keep it like a key.

withdraw rebuilds the pool's tree from the coordinator's leaves, proves
(Groth16) that the note is in it, and submits a WITHDRAWAL round paying the
note's amount to ADDR (an account id, 64 hex digits). The proving key is
the pool's (shielded/circuit.Setup; --proving-key or
$LIGHTKEEPER_PROVING_KEY).

setup writes the pool's key pair, DIR/pool.pk and DIR/pool.vk, unless they
exist (it takes about a minute; the files are the cache). --fast uses
gnark's plain groth16.Setup: seconds, but its toxic waste came from one
process: for devnets and tests only. Start a devnet with the pool:
lightkeeper devnet --pool-vk DIR/pool.vk (keeper keys get a balance).`

// noteFile is what a note file holds.
type noteFile struct {
	ChainID string `json:"chain_id"`
	// Note.MarshalBinary, hex.
	Note   string `json:"note"`
	Amount uint64 `json:"amount"`
	Index  uint64 `json:"index"`
	Leaf   string `json:"leaf"`
	Height uint64 `json:"height"`
}

func cmdWallet(ctx context.Context, args []string) error {
	if len(args) == 0 {
		return usagef("usage: lightkeeper %s", walletUsage)
	}
	switch args[0] {
	case "deposit":
		return cmdWalletDeposit(ctx, args[1:])
	case "withdraw":
		return cmdWalletWithdraw(ctx, args[1:])
	case "setup":
		return cmdWalletSetup(ctx, args[1:])
	}
	return usagef("usage: lightkeeper %s", walletUsage)
}

func cmdWalletDeposit(ctx context.Context, args []string) error {
	fs := newFlags("wallet deposit", walletUsage)
	url := fs.String("coordinator", "http://127.0.0.1:8080", "coordinator URL")
	keyPath := fs.String("key", "", "the depositor's key file (required)")
	amountS := fs.String("amount", "", "amount to deposit (required)")
	notePath := fs.String("note", "", "where to write the note (default note-<index>.json)")
	fee := fs.Uint64("fee", 0, "transaction fee")
	asJSON := fs.Bool("json", false, "print one JSON object")
	if _, err := parseFlags(fs, args); err != nil {
		return err
	}
	if *keyPath == "" || *amountS == "" {
		return usagef("--key and --amount are required")
	}
	amount, err := parseAmount("--amount", *amountS)
	if err != nil {
		return err
	}
	if amount == 0 {
		return usagef("--amount must be positive")
	}
	key, err := setup.ReadKey(*keyPath)
	if err != nil {
		return err
	}
	if *notePath != "" {
		if _, err := os.Stat(*notePath); err == nil {
			return fmt.Errorf("%s exists: not overwriting a note", *notePath)
		}
	}
	note, err := shielded.NewNote(rand.Reader, amount)
	if err != nil {
		return err
	}
	c := newStakingClient(*url)
	info, err := c.ledger.GetChainInfo(ctx, connect.NewRequest(&lightkeeperv1.GetChainInfoRequest{}))
	if err != nil {
		return describe(err)
	}
	pre := note.Precommitment().Bytes()
	res, err := c.signAndSubmit(ctx, key, &lightkeeperv1.TxBody{Fee: *fee,
		Msg: &lightkeeperv1.TxBody_Deposit{Deposit: &lightkeeperv1.DepositMsg{Precommitment: pre[:], Amount: amount}}}, -1)
	if err != nil {
		return err
	}
	leaf := res.GetPoolLeaf()
	if want := note.Commitment().Bytes(); leaf == nil || !bytes.Equal(leaf.GetLeaf(), want[:]) {
		return fmt.Errorf("the coordinator reported leaf %x, want %x: note not saved", leaf.GetLeaf(), want)
	}
	nb, _ := note.MarshalBinary()
	nf := noteFile{ChainID: info.Msg.GetChainId(), Note: hex.EncodeToString(nb), Amount: amount,
		Index: leaf.GetIndex(), Leaf: hex.EncodeToString(leaf.GetLeaf()), Height: res.GetHeight()}
	path := *notePath
	if path == "" {
		path = fmt.Sprintf("note-%d.json", leaf.GetIndex())
	}
	b, _ := json.MarshalIndent(nf, "", "  ")
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("deposit made (leaf %d) but the note could not be written: %w; note: %s", leaf.GetIndex(), err, nf.Note)
	}
	if _, err := f.Write(append(b, '\n')); err != nil {
		f.Close()
		return fmt.Errorf("deposit made (leaf %d) but writing the note failed: %w; note: %s", leaf.GetIndex(), err, nf.Note)
	}
	if err := f.Close(); err != nil {
		return err
	}
	if *asJSON {
		return printJSON(map[string]any{"index": leaf.GetIndex(), "amount": amount, "leaf": nf.Leaf, "height": res.GetHeight(), "note_file": path})
	}
	fmt.Printf("deposited %d at leaf %d (height %d)\nnote      %s (keep it secret: it withdraws the deposit)\n", amount, leaf.GetIndex(), res.GetHeight(), path)
	return nil
}

func readNoteFile(path string) (noteFile, shielded.Note, error) {
	var nf noteFile
	var note shielded.Note
	b, err := os.ReadFile(path)
	if err != nil {
		return nf, note, err
	}
	if err := json.Unmarshal(b, &nf); err != nil {
		return nf, note, fmt.Errorf("%s: %v", path, err)
	}
	raw, err := hex.DecodeString(nf.Note)
	if err != nil {
		return nf, note, fmt.Errorf("%s: note: %v", path, err)
	}
	if err := note.UnmarshalBinary(raw); err != nil {
		return nf, note, fmt.Errorf("%s: note: %v", path, err)
	}
	return nf, note, nil
}

func cmdWalletWithdraw(ctx context.Context, args []string) error {
	fs := newFlags("wallet withdraw", walletUsage)
	url := fs.String("coordinator", "http://127.0.0.1:8080", "coordinator URL")
	notePath := fs.String("note", "", "the note file (required)")
	recipient := fs.String("recipient", "", "the account paid (64 hex digits, required)")
	pkPath := fs.String("proving-key", os.Getenv("LIGHTKEEPER_PROVING_KEY"), "the pool's proving key file")
	wait := fs.Bool("wait", false, "wait for the outcome")
	asJSON := fs.Bool("json", false, "print one JSON object")
	timeout := fs.Duration("timeout", 2*time.Minute, "give up waiting after this long")
	if _, err := parseFlags(fs, args); err != nil {
		return err
	}
	if *notePath == "" || *recipient == "" {
		return usagef("--note and --recipient are required")
	}
	if !state.ValidID(*recipient) {
		return usagef("--recipient %q: want an account id (64 lowercase hex digits)", *recipient)
	}
	if *pkPath == "" {
		return usagef("--proving-key (or $LIGHTKEEPER_PROVING_KEY) is required")
	}
	nf, note, err := readNoteFile(*notePath)
	if err != nil {
		return err
	}
	pk, err := os.ReadFile(*pkPath)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	c := newClients(*url)
	// Rebuild the tree from the pool's leaves.
	wt, err := shielded.NewWalletTree(circuit.Depth)
	if err != nil {
		return err
	}
	var roots [][]byte
	for from := uint64(0); ; {
		page, err := c.ledger.GetPool(ctx, connect.NewRequest(&lightkeeperv1.GetPoolRequest{FromIndex: from}))
		if err != nil {
			return describe(err)
		}
		if page.Msg.GetVerifyingKeyId() == "" {
			return errors.New("this chain has no shielded pool")
		}
		roots = page.Msg.GetRoots()
		for _, l := range page.Msg.GetLeaves() {
			s, err := shielded.ParseScalar(l.GetLeaf())
			if err != nil || l.GetIndex() != wt.Size() {
				return fmt.Errorf("pool leaf %d: bad record", l.GetIndex())
			}
			if _, _, err := wt.Append(s); err != nil {
				return err
			}
		}
		if len(page.Msg.GetLeaves()) == 0 || wt.Size() >= page.Msg.GetSize() {
			break
		}
		from = wt.Size()
	}
	if nf.Index >= wt.Size() {
		return fmt.Errorf("leaf %d is not in the pool (%d leaves)", nf.Index, wt.Size())
	}
	path, err := wt.Path(nf.Index)
	if err != nil {
		return err
	}
	if err := path.Verify(wt.Root(), note.Commitment()); err != nil {
		return fmt.Errorf("the note is not the pool's leaf %d: %v", nf.Index, err)
	}
	root := wt.Root().Bytes()
	known := false
	for _, r := range roots {
		known = known || bytes.Equal(r, root[:])
	}
	if !known {
		return errors.New("the rebuilt tree's root is not one of the pool's known roots; retry")
	}
	addr, _ := hex.DecodeString(*recipient)
	proof, _, err := circuit.Prove(pk, circuit.Witness{Note: note, Path: path, Root: wt.Root(), Recipient: shielded.RecipientFromAddress(addr)})
	if err != nil {
		return fmt.Errorf("prove: %w", err)
	}
	nul := note.Nullifier(nf.Index).Bytes()
	req := &lightkeeperv1.RoundRequest{Payload: &lightkeeperv1.RoundRequest_Withdrawal{Withdrawal: &lightkeeperv1.WithdrawalRequest{
		Root: root[:], Nullifier: nul[:], Amount: note.Amount, Recipient: *recipient, Proof: proof,
	}}, ClientNonce: randomNonce()}
	res, err := c.Rounds.SubmitRound(ctx, connect.NewRequest(&lightkeeperv1.SubmitRoundRequest{Request: req}))
	if err != nil {
		return describe(err)
	}
	round := res.Msg.GetRound()
	if *wait {
		if round, err = c.WaitResult(ctx, round.GetId(), 0); err != nil {
			return fmt.Errorf("round %s accepted, but waiting failed: %w", res.Msg.GetRound().GetId(), describe(err))
		}
	}
	paid := round.GetOutcome() == lightkeeperv1.Outcome_OUTCOME_APPROVED
	if *asJSON {
		return printJSON(map[string]any{"round_id": round.GetId(), "outcome": outcomeName(round), "amount": note.Amount,
			"recipient": *recipient, "nullifier": hex.EncodeToString(nul[:]), "paid": paid, "decided_height": round.GetDecidedHeight()})
	}
	fmt.Printf("round     %s\noutcome   %s\namount    %d to %s\nnullifier %x\n", round.GetId(), outcomeName(round), note.Amount, *recipient, nul)
	if round.GetOutcome() == lightkeeperv1.Outcome_OUTCOME_REJECTED && round.GetApprovals() >= round.GetThreshold() {
		fmt.Println("not paid: the note was spent (or its root expired) before the decision")
	}
	return nil
}

const bridgeUsage = `bridge watch [--from CURSOR] [--coordinator URL] [--json]

Streams the withdrawals the shielded pool paid, in ledger order, each with
its certificate's outcome and height, then waits for new ones. Every line
ends with the cursor to resume after it (--from); nothing is skipped or
repeated across reconnects.`

func cmdBridge(ctx context.Context, args []string) error {
	if len(args) == 0 || args[0] != "watch" {
		return usagef("usage: lightkeeper %s", bridgeUsage)
	}
	fs := newFlags("bridge watch", bridgeUsage)
	url := fs.String("coordinator", "http://127.0.0.1:8080", "coordinator URL")
	from := fs.String("from", "", "resume at this cursor (HEIGHT:INDEX; default: the first withdrawal)")
	asJSON := fs.Bool("json", false, "one JSON object a line")
	if _, err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	if _, _, err := service.ParseCursor(*from); err != nil {
		return usagef("--from: %v", err)
	}
	c := newClients(*url)
	st, err := c.ledger.WatchWithdrawals(ctx, connect.NewRequest(&lightkeeperv1.WatchWithdrawalsRequest{FromCursor: *from}))
	if err != nil {
		return describe(err)
	}
	defer st.Close()
	enc := json.NewEncoder(os.Stdout)
	for st.Receive() {
		m := st.Msg()
		w := m.GetWithdrawal()
		if *asJSON {
			if err := enc.Encode(map[string]any{"cursor": m.GetCursor(), "next_cursor": m.GetNextCursor(), "round_id": w.GetRoundId(),
				"recipient": w.GetRecipient(), "amount": w.GetAmount(), "nullifier": hex.EncodeToString(w.GetNullifier()),
				"height": w.GetHeight(), "outcome": strings.TrimPrefix(m.GetCertificate().GetOutcome().String(), "OUTCOME_"),
				"certificate_votes": len(m.GetCertificate().GetVotes())}); err != nil {
				return err
			}
			continue
		}
		fmt.Printf("%s  height %d  round %s  %d to %s  nullifier %x  next %s\n", m.GetCursor(), w.GetHeight(),
			short(w.GetRoundId()), w.GetAmount(), w.GetRecipient(), w.GetNullifier()[:8], m.GetNextCursor())
	}
	if err := st.Err(); err != nil && ctx.Err() == nil {
		return describe(err)
	}
	return nil
}

func cmdWalletSetup(ctx context.Context, args []string) error {
	fs := newFlags("wallet setup", walletUsage)
	out := fs.String("out", "", "directory for pool.pk and pool.vk (required)")
	fast := fs.Bool("fast", false, "gnark's groth16.Setup (seconds; devnets and tests only)")
	if _, err := parseFlags(fs, args); err != nil {
		return err
	}
	if *out == "" {
		return usagef("--out is required")
	}
	pkPath, vkPath := filepath.Join(*out, "pool.pk"), filepath.Join(*out, "pool.vk")
	_, e1 := os.Stat(pkPath)
	_, e2 := os.Stat(vkPath)
	if e1 == nil && e2 == nil {
		fmt.Printf("%s and %s exist: kept\n", pkPath, vkPath)
		return nil
	}
	var pk, vk []byte
	var err error
	start := time.Now()
	if *fast {
		pk, vk, err = fastPoolSetup()
	} else {
		pk, vk, err = circuit.Setup(rand.Reader)
	}
	if err != nil {
		return err
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(pkPath, pk, 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(vkPath, vk, 0o644); err != nil {
		return err
	}
	sum := sha256.Sum256(vk)
	fmt.Printf("wrote %s (%d bytes) and %s (id %x) in %s\n", pkPath, len(pk), vkPath, sum, time.Since(start).Round(time.Millisecond))
	return nil
}

func fastPoolSetup() (pk, vk []byte, err error) {
	ccs, err := circuit.Compile()
	if err != nil {
		return nil, nil, err
	}
	p, v, err := groth16.Setup(ccs)
	if err != nil {
		return nil, nil, err
	}
	var a, b bytes.Buffer
	if _, err := p.WriteTo(&a); err != nil {
		return nil, nil, err
	}
	if _, err := v.WriteTo(&b); err != nil {
		return nil, nil, err
	}
	return a.Bytes(), b.Bytes(), nil
}
