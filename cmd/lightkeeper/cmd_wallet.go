package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
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

	"github.com/lightkeeper-net/lightkeeper/coordinator/service"
	"github.com/lightkeeper-net/lightkeeper/internal/poolkeys"
	"github.com/lightkeeper-net/lightkeeper/internal/setup"
	lightkeeperv1 "github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1"
	"github.com/lightkeeper-net/lightkeeper/protocol"
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
	nf, err := depositNote(ctx, *url, key, amount, *fee)
	if err != nil {
		return err
	}
	path := *notePath
	if path == "" {
		path = fmt.Sprintf("note-%d.json", nf.Index)
	}
	b, _ := json.MarshalIndent(nf, "", "  ")
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("deposit made (leaf %d) but the note could not be written: %w; note: %s", nf.Index, err, nf.Note)
	}
	if _, err := f.Write(append(b, '\n')); err != nil {
		f.Close()
		return fmt.Errorf("deposit made (leaf %d) but writing the note failed: %w; note: %s", nf.Index, err, nf.Note)
	}
	if err := f.Close(); err != nil {
		return err
	}
	if *asJSON {
		return printJSON(map[string]any{"index": nf.Index, "amount": amount, "leaf": nf.Leaf, "height": nf.Height, "note_file": path})
	}
	fmt.Printf("deposited %d at leaf %d (height %d)\nnote      %s (keep it secret: it withdraws the deposit)\n", amount, nf.Index, nf.Height, path)
	return nil
}

// depositNote is a wallet's deposit: it draws a fresh note for amount,
// pays amount from key's account into the pool with the note's
// precommitment, checks that the leaf the coordinator appended is the
// note's commitment, and returns what a note file holds.
func depositNote(ctx context.Context, url string, key ed25519.PrivateKey, amount, fee uint64) (noteFile, error) {
	note, err := shielded.NewNote(rand.Reader, amount)
	if err != nil {
		return noteFile{}, err
	}
	c := newStakingClient(url)
	info, err := c.ledger.GetChainInfo(ctx, connect.NewRequest(&lightkeeperv1.GetChainInfoRequest{}))
	if err != nil {
		return noteFile{}, describe(err)
	}
	pre := note.Precommitment().Bytes()
	res, err := c.signAndSubmit(ctx, key, &lightkeeperv1.TxBody{Fee: fee,
		Msg: &lightkeeperv1.TxBody_Deposit{Deposit: &lightkeeperv1.DepositMsg{Precommitment: pre[:], Amount: amount}}}, -1)
	if err != nil {
		return noteFile{}, err
	}
	leaf := res.GetPoolLeaf()
	if want := note.Commitment().Bytes(); leaf == nil || !bytes.Equal(leaf.GetLeaf(), want[:]) {
		return noteFile{}, fmt.Errorf("the coordinator reported leaf %x, want %x: note not saved", leaf.GetLeaf(), want)
	}
	nb, _ := note.MarshalBinary()
	return noteFile{ChainID: info.Msg.GetChainId(), Note: hex.EncodeToString(nb), Amount: amount,
		Index: leaf.GetIndex(), Leaf: hex.EncodeToString(leaf.GetLeaf()), Height: res.GetHeight()}, nil
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
	if note, err = nf.note(); err != nil {
		return nf, note, fmt.Errorf("%s: %v", path, err)
	}
	return nf, note, nil
}

// note decodes the note a note file holds.
func (nf noteFile) note() (shielded.Note, error) {
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
	if !protocol.ValidID(*recipient) {
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
	prover, err := circuit.NewProver(pk)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	c := newClients(*url)
	w, err := proveWithdrawal(ctx, c, prover, note, nf.Index, *recipient)
	if err != nil {
		return err
	}
	round, err := submitWithdrawal(ctx, c, w, *wait)
	if err != nil {
		return describe(err)
	}
	nul := w.GetNullifier()
	paid := round.GetOutcome() == lightkeeperv1.Outcome_OUTCOME_APPROVED
	if *asJSON {
		return printJSON(map[string]any{"round_id": round.GetId(), "outcome": outcomeName(round), "amount": note.Amount,
			"recipient": *recipient, "nullifier": hex.EncodeToString(nul), "paid": paid, "decided_height": round.GetDecidedHeight()})
	}
	fmt.Printf("round     %s\noutcome   %s\namount    %d to %s\nnullifier %x\n", round.GetId(), outcomeName(round), note.Amount, *recipient, nul)
	if round.GetOutcome() == lightkeeperv1.Outcome_OUTCOME_REJECTED && round.GetApprovals() >= round.GetThreshold() {
		fmt.Println("not paid: the note was spent (or its root expired) before the decision")
	}
	return nil
}

// proveWithdrawal is a wallet's withdrawal of the note at leaf index to
// recipient (an account id): it rebuilds the pool's tree from the
// coordinator's leaves, checks that the note is that leaf under one of the
// pool's known roots, and proves it (Groth16, with prover's key). The
// request it returns is ready for submitWithdrawal.
func proveWithdrawal(ctx context.Context, c clients, prover *circuit.Prover, note shielded.Note, index uint64, recipient string) (*lightkeeperv1.WithdrawalRequest, error) {
	wt, err := shielded.NewWalletTree(circuit.Depth)
	if err != nil {
		return nil, err
	}
	var roots [][]byte
	for from := uint64(0); ; {
		page, err := c.ledger.GetPool(ctx, connect.NewRequest(&lightkeeperv1.GetPoolRequest{FromIndex: from}))
		if err != nil {
			return nil, describe(err)
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

// submitWithdrawal submits a WITHDRAWAL round and, with wait, follows it
// until it is decided. Errors wrap the coordinator's Connect errors (a
// refusal, such as a spent nullifier, is one): pass them to describe.
func submitWithdrawal(ctx context.Context, c clients, w *lightkeeperv1.WithdrawalRequest, wait bool) (*lightkeeperv1.Round, error) {
	req := &lightkeeperv1.RoundRequest{Payload: &lightkeeperv1.RoundRequest_Withdrawal{Withdrawal: w}, ClientNonce: randomNonce()}
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

// poolGenesis enables the shielded pool in a new chain's genesis with the
// pool's verifying key and gives every keeper key a balance to deposit
// from ('devnet --pool-vk', the demo).
func poolGenesis(vk []byte, balance uint64) func(*lightkeeperv1.Genesis, []ed25519.PrivateKey) {
	return func(g *lightkeeperv1.Genesis, keys []ed25519.PrivateKey) {
		g.WithdrawalVerifyingKey = vk
		for _, k := range keys {
			g.Balances = append(g.Balances, &lightkeeperv1.GenesisBalance{AccountId: setup.KeyID(k), Amount: balance})
		}
	}
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
		fmt.Println(bridgeLine(m))
	}
	if err := st.Err(); err != nil && ctx.Err() == nil {
		return describe(err)
	}
	return nil
}

// bridgeLine is how 'bridge watch' prints a paid withdrawal.
func bridgeLine(m *lightkeeperv1.WatchWithdrawalsResponse) string {
	w := m.GetWithdrawal()
	return fmt.Sprintf("%s  height %d  round %s  %d to %s  nullifier %x  next %s", m.GetCursor(), w.GetHeight(),
		short(w.GetRoundId()), w.GetAmount(), w.GetRecipient(), w.GetNullifier()[:min(8, len(w.GetNullifier()))], m.GetNextCursor())
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
	pkPath, vkPath := filepath.Join(*out, poolkeys.ProvingKeyFile), filepath.Join(*out, poolkeys.VerifyingKeyFile)
	start := time.Now()
	pk, vk, made, err := poolkeys.LoadOrMake(*out, *fast)
	if err != nil {
		return err
	}
	if !made {
		fmt.Printf("%s and %s exist: kept\n", pkPath, vkPath)
		return nil
	}
	sum := sha256.Sum256(vk)
	fmt.Printf("wrote %s (%d bytes) and %s (id %x) in %s\n", pkPath, len(pk), vkPath, sum, time.Since(start).Round(time.Millisecond))
	return nil
}
