package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"github.com/lightkeeper-net/lightkeeper/protocol"
	"os"
	"path/filepath"
	"strings"
	"time"

	"connectrpc.com/connect"
	"github.com/spf13/cobra"

	"github.com/lightkeeper-net/lightkeeper/client"
	"github.com/lightkeeper-net/lightkeeper/coordinator/service"
	"github.com/lightkeeper-net/lightkeeper/internal/poolkeys"
	"github.com/lightkeeper-net/lightkeeper/internal/progress"
	"github.com/lightkeeper-net/lightkeeper/internal/setup"
	lightkeeperv1 "github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1"
	"github.com/lightkeeper-net/lightkeeper/shielded/circuit"
)

func init() {
	register(newWalletCmd)
	register(newBridgeCmd)
}

func newWalletCmd() *cobra.Command {
	setupCmd := &cobra.Command{
		Use:   "setup --out DIR [--fast]",
		Short: "write the pool's key pair, DIR/pool.pk and DIR/pool.vk, unless they exist",
		Long: `setup writes the pool's key pair, DIR/pool.pk and DIR/pool.vk, unless they
exist (it takes about a minute; the files are the cache; on a terminal a
counter shows it working). --fast uses gnark's plain groth16.Setup:
seconds, but its toxic waste came from one process: for devnets and tests
only. Start a devnet with the pool:
lightkeeper devnet --pool-vk DIR/pool.vk (keeper keys get a balance).`,
		Args: exactArgs(0, ""),
	}
	out := setupCmd.Flags().String("out", "", "directory for pool.pk and pool.vk (required)")
	fast := setupCmd.Flags().Bool("fast", false, "gnark's groth16.Setup (seconds; devnets and tests only)")
	setupCmd.RunE = func(cmd *cobra.Command, _ []string) error { return walletSetup(*out, *fast) }

	deposit := &cobra.Command{
		Use:   "deposit --amount N --key FILE [--note FILE]",
		Short: "pay tokens into the shielded pool and save the note that withdraws them",
		Long: `deposit draws a fresh note (secret, nullifier key, amount), pays amount from
the key's account into the shielded pool with the note's precommitment, and
writes the note with its leaf index to --note (default note-<index>.json,
mode 0600). Whoever holds a note file can withdraw it: keep it like a key.`,
		Args: exactArgs(0, ""),
	}
	dfs := deposit.Flags()
	durl := coordinatorFlag(dfs, "")
	keyPath := keyFlag(dfs, "the depositor's key file (required)")
	amountS := dfs.String("amount", "", "amount to deposit (required)")
	notePath := dfs.String("note", "", "where to write the note (default note-<index>.json)")
	fee := dfs.Uint64("fee", 0, "transaction fee")
	dJSON := jsonFlag(dfs, "")
	deposit.RunE = func(cmd *cobra.Command, _ []string) error {
		return walletDeposit(cmd.Context(), *durl, *keyPath, *amountS, *notePath, *fee, *dJSON)
	}

	withdraw := &cobra.Command{
		Use:   "withdraw --note FILE --recipient ADDR --proving-key FILE",
		Short: "prove a note is in the pool and have it paid to an address",
		Long: `withdraw rebuilds the pool's tree from the coordinator's leaves, proves
(Groth16) that the note is in it, and submits a WITHDRAWAL round paying the
note's amount to ADDR (an account id, 64 hex digits). The proving key is
the pool's (shielded/circuit.Setup; --proving-key or
$LIGHTKEEPER_PROVING_KEY).`,
		Args: exactArgs(0, ""),
	}
	wfs := withdraw.Flags()
	wurl := coordinatorFlag(wfs, "")
	wNote := wfs.String("note", "", "the note file (required)")
	recipient := wfs.String("recipient", "", "the account paid (64 hex digits, required)")
	pkPath := wfs.String("proving-key", "", "the pool's proving key file (default $LIGHTKEEPER_PROVING_KEY)")
	_ = wfs.SetAnnotation("proving-key", envAnnotation, []string{"LIGHTKEEPER_PROVING_KEY"})
	wait := wfs.Bool("wait", false, "wait for the outcome")
	wJSON := jsonFlag(wfs, "")
	timeout := wfs.Duration("timeout", 2*time.Minute, "give up waiting after this long")
	withdraw.RunE = func(cmd *cobra.Command, _ []string) error {
		return walletWithdraw(cmd.Context(), *wurl, *wNote, *recipient, *pkPath, *wait, *wJSON, *timeout)
	}
	return group("wallet", "the shielded pool: 'wallet setup' its keys, 'wallet deposit' a note, 'wallet withdraw' it to an address", "", "command",
		setupCmd, deposit, withdraw)
}

func walletDeposit(ctx context.Context, url, keyPath, amountS, notePath string, fee uint64, asJSON bool) error {
	if keyPath == "" || amountS == "" {
		return usagef("--key and --amount are required")
	}
	amount, err := parseAmount("--amount", amountS)
	if err != nil {
		return err
	}
	if amount == 0 {
		return usagef("--amount must be positive")
	}
	key, err := setup.ReadKey(keyPath)
	if err != nil {
		return err
	}
	if notePath != "" {
		if _, err := os.Stat(notePath); err == nil {
			return fmt.Errorf("%s exists: not overwriting a note", notePath)
		}
	}
	nf, err := newClient(url).Deposit(ctx, key, amount, fee)
	if err != nil {
		return err
	}
	path := notePath
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
	if asJSON {
		return printJSON(map[string]any{"index": nf.Index, "amount": amount, "leaf": nf.Leaf, "height": nf.Height, "note_file": path})
	}
	fmt.Printf("deposited %d at leaf %d (height %d)\nnote      %s (keep it secret: it withdraws the deposit)\n", amount, nf.Index, nf.Height, path)
	return nil
}

func walletWithdraw(ctx context.Context, url, notePath, recipient, pkPath string, wait, asJSON bool, timeout time.Duration) error {
	if notePath == "" || recipient == "" {
		return usagef("--note and --recipient are required")
	}
	if !protocol.ValidID(recipient) {
		return usagef("--recipient %q: want an account id (64 lowercase hex digits)", recipient)
	}
	if pkPath == "" {
		return usagef("--proving-key (or $LIGHTKEEPER_PROVING_KEY) is required")
	}
	nf, note, err := client.ReadNoteFile(notePath)
	if err != nil {
		return err
	}
	pk, err := os.ReadFile(pkPath)
	if err != nil {
		return err
	}
	prover, err := circuit.NewProver(pk)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	c := newClient(url)
	counter := progress.StartCounter(os.Stderr, "proving the withdrawal")
	w, err := c.ProveWithdrawal(ctx, prover, note, nf.Index, recipient)
	counter.Stop()
	if err != nil {
		return err
	}
	round, err := c.SubmitWithdrawal(ctx, w, wait)
	if err != nil {
		return describe(err)
	}
	nul := w.GetNullifier()
	paid := round.GetOutcome() == lightkeeperv1.Outcome_OUTCOME_APPROVED
	if asJSON {
		return printJSON(map[string]any{"round_id": round.GetId(), "outcome": outcomeName(round), "amount": note.Amount,
			"recipient": recipient, "nullifier": hex.EncodeToString(nul), "paid": paid, "decided_height": round.GetDecidedHeight()})
	}
	fmt.Printf("round     %s\noutcome   %s\namount    %d to %s\nnullifier %x\n", round.GetId(), outcomeName(round), note.Amount, recipient, nul)
	if round.GetOutcome() == lightkeeperv1.Outcome_OUTCOME_REJECTED && round.GetApprovals() >= round.GetThreshold() {
		fmt.Println("not paid: the note was spent (or its root expired) before the decision")
	}
	return nil
}

func newBridgeCmd() *cobra.Command {
	watch := &cobra.Command{
		Use:   "watch [--from CURSOR]",
		Short: "stream the pool's paid withdrawals, resumable by cursor",
		Long: `Streams the withdrawals the shielded pool paid, in ledger order, each with
its certificate's outcome and height, then waits for new ones. Every line
ends with the cursor to resume after it (--from); nothing is skipped or
repeated across reconnects.`,
		Args: exactArgs(0, ""),
	}
	fs := watch.Flags()
	url := coordinatorFlag(fs, "")
	from := fs.String("from", "", "resume at this cursor (HEIGHT:INDEX; default: the first withdrawal)")
	asJSON := jsonFlag(fs, "one JSON object a line")
	watch.RunE = func(cmd *cobra.Command, _ []string) error { return bridgeWatch(cmd.Context(), *url, *from, *asJSON) }
	return group("bridge", "'bridge watch': stream the pool's paid withdrawals, resumable by cursor", "", "command", watch)
}

func bridgeWatch(ctx context.Context, url, from string, asJSON bool) error {
	if _, _, err := service.ParseCursor(from); err != nil {
		return usagef("--from: %v", err)
	}
	st, err := newClient(url).Ledger.WatchWithdrawals(ctx, connect.NewRequest(&lightkeeperv1.WatchWithdrawalsRequest{FromCursor: from}))
	if err != nil {
		return describe(err)
	}
	defer st.Close()
	enc := json.NewEncoder(os.Stdout)
	for st.Receive() {
		m := st.Msg()
		w := m.GetWithdrawal()
		if asJSON {
			if err := enc.Encode(map[string]any{"cursor": m.GetCursor(), "next_cursor": m.GetNextCursor(), "round_id": w.GetRoundId(),
				"recipient": w.GetRecipient(), "amount": w.GetAmount(), "nullifier": hex.EncodeToString(w.GetNullifier()),
				"height": w.GetHeight(), "outcome": strings.TrimPrefix(m.GetCertificate().GetOutcome().String(), "OUTCOME_"),
				"certificate_votes": len(m.GetCertificate().GetVotes())}); err != nil {
				return err
			}
			continue
		}
		fmt.Println(client.WithdrawalLine(m))
	}
	if err := st.Err(); err != nil && ctx.Err() == nil {
		return describe(err)
	}
	return nil
}

func walletSetup(out string, fast bool) error {
	if out == "" {
		return usagef("--out is required")
	}
	pkPath, vkPath := filepath.Join(out, poolkeys.ProvingKeyFile), filepath.Join(out, poolkeys.VerifyingKeyFile)
	start := time.Now()
	label := "making the pool's keys (about a minute)"
	if fast {
		label = "making the pool's keys (--fast: seconds)"
	}
	counter := progress.StartCounter(os.Stderr, label)
	pk, vk, made, err := poolkeys.LoadOrMake(out, fast)
	counter.Stop()
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
