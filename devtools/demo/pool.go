package demo

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"connectrpc.com/connect"

	"github.com/lightkeeper-net/lightkeeper/client"
	"github.com/lightkeeper-net/lightkeeper/devtools/devnet"
	"github.com/lightkeeper-net/lightkeeper/internal/poolkeys"
	"github.com/lightkeeper-net/lightkeeper/internal/setup"
	lightkeeperv1 "github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1"
	"github.com/lightkeeper-net/lightkeeper/protocol"
	"github.com/lightkeeper-net/lightkeeper/shielded"
	"github.com/lightkeeper-net/lightkeeper/shielded/circuit"
)

// The demo's shielded pool (docs/withdrawals.md): the devnet's genesis
// carries the withdrawal circuit's verifying key and gives the keeper keys
// a balance, as 'devnet --pool-vk' does; two keepers deposit, one note is
// withdrawn with a proof made in this process and decided by a committee,
// the same note is withdrawn again (refused: its nullifier is spent), a
// forged withdrawal is rejected by the committee, and a bridge's
// WatchWithdrawals stream shows the one payment. Deposits and withdrawals
// run the wallet's own code (client.Deposit, ProveWithdrawal,
// SubmitWithdrawal), the stream is printed as 'bridge watch' prints it.

// Amounts of the demo's two deposits, and the genesis balance of every
// keeper key (as 'devnet --pool-vk').
const (
	demoDeposit       = 500
	demoOtherDeposit  = 250
	demoGenesisAmount = 1_000_000
)

// poolSetup is the pool's key pair and a prover for it, made (or read) in
// the background while the demo proves its workload and builds the compute
// programs: the devnet's genesis needs the verifying key, and decoding the
// proving key (about a second of CPU) is better done here than while the
// compute rounds race their deadline.
type poolSetup struct {
	pk, vk []byte
	dir    string // --pool-keys, or empty
	made   bool   // false: read from dir
	took   time.Duration
	prover *circuit.Prover
	// proverTook is NewProver's time: decode the proving key, compile the
	// circuit.
	proverTook time.Duration
	err        error
}

// startPoolSetup makes the pool's key pair with poolkeys.Fast (gnark's
// groth16.Setup: seconds), or with a directory reuses the pair in it,
// writing one there first if it has none ('wallet setup --fast'); then it
// makes the wallet's prover.
func startPoolSetup(dir string) <-chan poolSetup {
	ch := make(chan poolSetup, 1)
	go func() {
		s := poolSetup{dir: dir, made: true}
		t0 := time.Now()
		if dir == "" {
			s.pk, s.vk, s.err = poolkeys.Fast()
		} else {
			s.pk, s.vk, s.made, s.err = poolkeys.LoadOrMake(dir, true)
		}
		s.took = time.Since(t0)
		if s.err == nil {
			t0 = time.Now()
			s.prover, s.err = circuit.NewProver(s.pk)
			s.proverTook = time.Since(t0)
		}
		ch <- s
	}()
	return ch
}

func (s poolSetup) print(out io.Writer) {
	id := sha256.Sum256(s.vk)
	switch {
	case !s.made:
		fmt.Fprintf(out, "pool keys: read from %s and %s (verifying key %x…)\n",
			filepath.Join(s.dir, poolkeys.ProvingKeyFile), filepath.Join(s.dir, poolkeys.VerifyingKeyFile), id[:6])
	default:
		fmt.Fprintf(out, "pool keys: DEMO SETUP of the withdrawal circuit in %v (gnark's groth16.Setup; verifying key %x… in genesis).\n",
			s.took.Round(time.Millisecond), id[:6])
		fmt.Fprintln(out, "           Its toxic waste came from this process: anyone holding it could forge withdrawals. A real pool")
		fmt.Fprintln(out, "           uses 'lightkeeper wallet setup' without --fast (about a minute) or a ceremony (docs/withdrawals.md).")
		if s.dir != "" {
			fmt.Fprintf(out, "           Written to %s: later runs with --pool-keys %s reuse it.\n", s.dir, s.dir)
		}
	}
	fmt.Fprintf(out, "prover:  proving key decoded, circuit compiled (%d constraints) in %v\n",
		s.prover.NbConstraints(), s.proverTook.Round(time.Millisecond))
}

// poolRow is one request of the pool section.
type poolRow struct {
	name, want, got, detail string
	wrong                   bool // the outcome is the expected one but something else is not
}

func (r poolRow) ok() bool { return r.got == r.want && !r.wrong }

// outcomeOf names how a request ended: a decided round's outcome, REFUSED
// with the coordinator's reason, or ERROR.
func outcomeOf(round *lightkeeperv1.Round, err error) (got, detail string) {
	// SubmitWithdrawal returns the coordinator's refusal as is, and wraps
	// an error while waiting for an accepted round.
	ce, refused := err.(*connect.Error)
	switch {
	case refused:
		return "REFUSED", fmt.Sprintf("%s: %s", ce.Code(), ce.Message())
	case err != nil:
		return "ERROR", err.Error()
	}
	return outcomeName(round), fmt.Sprintf("votes %d/%d/%d of %d", round.GetApprovals(), round.GetRejections(), round.GetAbstentions(), len(round.GetCommittee()))
}

// demoPool runs the pool section on a devnet started with devnet.PoolGenesis and
// prints it. It returns how many requests it made and whether each ended
// as expected; an error means the section could not run at all.
func demoPool(ctx context.Context, d *devnet.Devnet, prover *circuit.Prover, out io.Writer) (int, bool, error) {
	fmt.Fprintf(out, "== shielded pool: deposits, then WITHDRAWAL rounds: a Groth16/BN254 proof that a note is in the pool's Merkle tree, checked by a committee ==\n\n")
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	c := newClient(d.URL)
	balance := func(id string) uint64 {
		res, err := c.Staking.GetAccount(ctx, connect.NewRequest(&lightkeeperv1.GetAccountRequest{AccountId: id}))
		if err != nil {
			return 0
		}
		return res.Msg.GetAccount().GetBalance()
	}
	var rows []poolRow
	// Two keepers deposit from their genesis balance, each into a fresh
	// note; the demo keeps both notes, as a wallet keeps note files.
	var notes []client.NoteFile
	for i, amount := range []uint64{demoDeposit, demoOtherDeposit} {
		row := poolRow{name: fmt.Sprintf("deposit %d from keeper %s", amount, short(setup.KeyID(d.Keys[i]))), want: "ACCEPTED"}
		nf, err := c.Deposit(ctx, d.Keys[i], amount, 0)
		if err != nil {
			row.got, row.detail = "ERROR", err.Error()
			return len(rows) + 1, printPoolRows(out, append(rows, row)), nil
		}
		row.got, row.detail = "ACCEPTED", fmt.Sprintf("leaf %d at height %d (the coordinator computed the note's commitment)", nf.Index, nf.Height)
		rows = append(rows, row)
		notes = append(notes, nf)
	}

	// The first depositor withdraws its note to a fresh account.
	note, err := notes[0].Decode()
	if err != nil {
		return len(rows), false, err
	}
	alice, mallory := setup.KeyID(setup.NewKey()), setup.KeyID(setup.NewKey())
	withdraw := func(name, want, recipient string) (poolRow, *lightkeeperv1.WithdrawalRequest, *lightkeeperv1.Round) {
		row := poolRow{name: name, want: want}
		t0 := time.Now()
		w, err := c.ProveWithdrawal(ctx, prover, note, notes[0].Index, recipient)
		if err != nil {
			row.got, row.detail = "ERROR", err.Error()
			return row, nil, nil
		}
		proved := time.Since(t0)
		round, err := c.SubmitWithdrawal(ctx, w, true)
		row.got, row.detail = outcomeOf(round, err)
		row.detail += fmt.Sprintf(" (proved here in %v)", proved.Round(time.Millisecond))
		return row, w, round
	}
	row, paid, paidRound := withdraw(fmt.Sprintf("withdraw leaf %d (%d) to account %s", notes[0].Index, note.Amount, short(alice)), "APPROVED", alice)
	if row.got == "APPROVED" {
		b := balance(alice)
		row.detail += fmt.Sprintf("; %s's balance %d", short(alice), b)
		row.wrong = b != note.Amount
	}
	rows = append(rows, row)
	if paid == nil {
		return len(rows), printPoolRows(out, rows), nil
	}

	// The same note again: a fresh proof with the same nullifier.
	row, _, _ = withdraw(fmt.Sprintf("withdraw leaf %d again (a double spend)", notes[0].Index), "REFUSED", alice)
	row.wrong = row.got == "REFUSED" && !strings.Contains(row.detail, "nullifier already spent")
	rows = append(rows, row)

	// A forgery: the second deposit's amount claimed for mallory without its
	// note: a nullifier from a made-up key and the paid withdrawal's proof,
	// which does not prove these public inputs.
	fake, err := shielded.NewNote(rand.Reader, notes[1].Amount)
	if err != nil {
		return len(rows), false, err
	}
	fakeNul := fake.Nullifier(notes[1].Index).Bytes()
	forged := &lightkeeperv1.WithdrawalRequest{Root: paid.GetRoot(), Nullifier: fakeNul[:], Amount: notes[1].Amount, Recipient: mallory, Proof: paid.GetProof()}
	round, err := c.SubmitWithdrawal(ctx, forged, true)
	row = poolRow{name: fmt.Sprintf("forged: leaf %d's %d to %s, made-up nullifier, copied proof", notes[1].Index, notes[1].Amount, short(mallory)), want: "REJECTED"}
	row.got, row.detail = outcomeOf(round, err)
	if err == nil {
		b := balance(mallory)
		row.detail += fmt.Sprintf("; %s's balance %d", short(mallory), b)
		row.wrong = b != 0
	}
	rows = append(rows, row)
	ok := printPoolRows(out, rows)

	// What a bridge sees: WatchWithdrawals from the start holds the one
	// payment, with its certificate.
	fmt.Fprintln(out, "\nbridge watch (LedgerService.WatchWithdrawals from the first withdrawal):")
	if err := demoBridge(ctx, c, paidRound, out); err != nil {
		fmt.Fprintf(out, "  WRONG: %v\n", err)
		ok = false
	}
	if pool, err := c.Ledger.GetPool(ctx, connect.NewRequest(&lightkeeperv1.GetPoolRequest{Limit: 1})); err == nil {
		fmt.Fprintf(out, "pool:     %d leaves, balance %d (%d deposited − %d paid): the refused and the forged withdrawals paid nothing\n",
			pool.Msg.GetSize(), pool.Msg.GetBalance(), notes[0].Amount+notes[1].Amount, note.Amount)
		if pool.Msg.GetBalance() != notes[0].Amount+notes[1].Amount-note.Amount {
			ok = false
		}
	}
	fmt.Fprintln(out)
	return len(rows), ok, nil
}

// demoBridge reads the first paid withdrawal from the stream, prints it as
// 'bridge watch' does, and checks it is the approved round, with a
// certificate that verifies offline.
func demoBridge(ctx context.Context, c client.Client, paid *lightkeeperv1.Round, out io.Writer) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	st, err := c.Ledger.WatchWithdrawals(ctx, connect.NewRequest(&lightkeeperv1.WatchWithdrawalsRequest{}))
	if err != nil {
		return describe(err)
	}
	defer st.Close()
	if !st.Receive() {
		if err := st.Err(); err != nil {
			return describe(err)
		}
		return errors.New("the stream ended without a withdrawal")
	}
	m := st.Msg()
	fmt.Fprintf(out, "  %s\n", client.WithdrawalLine(m))
	if id := m.GetWithdrawal().GetRoundId(); id != paid.GetId() {
		return fmt.Errorf("the stream's first withdrawal is round %s, want %s", short(id), short(paid.GetId()))
	}
	cert := m.GetCertificate()
	info, err := c.ChainInfo(ctx)
	if err != nil {
		return err
	}
	if err := protocol.VerifyCertificate(cert, info.GetParams()); err != nil {
		return err
	}
	fmt.Fprintf(out, "  its certificate (%s) verified offline: %d signatures from the committee; resume after it with --from %s\n",
		strings.TrimPrefix(cert.GetOutcome().String(), "OUTCOME_"), len(cert.GetVotes()), m.GetNextCursor())
	return nil
}

func printPoolRows(out io.Writer, rows []poolRow) bool {
	all := true
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "request\texpected\toutcome\tdetail (votes: approve/reject/abstain of committee)\t")
	for _, r := range rows {
		mark := "ok"
		if !r.ok() {
			mark, all = "WRONG", false
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", r.name, r.want, r.got, r.detail, mark)
	}
	tw.Flush()
	return all
}
