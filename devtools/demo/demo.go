package demo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/lightkeeper-net/lightkeeper/coordinator/config"
	"github.com/lightkeeper-net/lightkeeper/devtools/byzantine"
	"github.com/lightkeeper-net/lightkeeper/devtools/devnet"
	"github.com/lightkeeper-net/lightkeeper/devtools/workload"
	"github.com/lightkeeper-net/lightkeeper/internal/progress"
	"github.com/lightkeeper-net/lightkeeper/keeper"
	lightkeeperv1 "github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1"
	"github.com/lightkeeper-net/lightkeeper/protocol"
)

// Options are the demo's choices ('lightkeeper demo' flags).
type Options struct {
	// Valid proofs per scheme × curve.
	Valid int
	// Keepers in the devnet, of which len(Byzantine) run these strategies.
	Keepers   int
	Byzantine []byzantine.Strategy
	Logger    *slog.Logger
	// Epoch: end with an epoch turning over (election, rewards, a
	// Byzantine keeper slashed out of the active set).
	Epoch bool
	// Compute: also run COMPUTE rounds over the example programs.
	Compute bool
	// Pool: also run the shielded pool (deposits, WITHDRAWAL rounds).
	Pool bool
	// PoolKeys, if set, is a directory holding (or to hold) the pool's
	// key pair, reused across runs.
	PoolKeys string
	// Progress is where progress bars go when it is a terminal (stderr);
	// the results go to out.
	Progress io.Writer
	// End, if set, is called at the end of a run that went as expected,
	// with the devnet still up: the place for a last line (a URL to open)
	// and for waiting until the user is done.
	End func(ctx context.Context, d *devnet.Devnet, out io.Writer) error
}

// Run runs the demo, writing its results to out. It fails if any round
// did not end as expected.
func Run(ctx context.Context, o Options, out io.Writer) error {
	n, byz, log := &o.Keepers, o.Byzantine, o.Logger
	valid := &o.Valid
	computeSection, poolSection, epochSection, poolKeys := &o.Compute, &o.Pool, &o.Epoch, &o.PoolKeys
	names := make([]string, len(byz))
	for i, b := range byz {
		names[i] = string(b)
	}
	byzList := strings.Join(names, ",")
	prog := o.Progress

	fmt.Fprintf(out, "Lightkeeper demo: %d keepers (%d Byzantine: %s), real gnark proofs on 2 schemes × 2 curves, WebAssembly compute jobs, shielded-pool withdrawals\n\n",
		*n, len(byz), byzList)
	start := time.Now()
	// The pool's keys are made while the workload is proved and the
	// programs are built: the devnet's genesis needs the verifying key.
	var poolSetupc <-chan poolSetup
	if *poolSection {
		poolSetupc = startPoolSetup(*poolKeys)
	}
	fmt.Fprint(out, "proving:")
	items, err := workload.Build(workload.Options{Valid: *valid, Invalid: true, JSONInputs: true},
		func(s string) { fmt.Fprintf(out, " %s", s) })
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "  (%d requests in %v)\n", len(items), time.Since(start).Round(time.Millisecond))
	var mods map[string][]byte
	if *computeSection {
		mods = buildExamples(ctx, out)
	}

	// The demo's keepers run compute jobs as every native keeper does, on
	// wazero's compiler, tiered (a program not compiled yet runs on the
	// interpreter). runCompute compiles the programs before the jobs: on
	// the interpreter the jobs run 24–84× slower, and on a busy 2-core
	// machine the longest (spin's 20 M units) then outlasted its round
	// and held its keepers' queues while the other jobs' rounds ran out.
	kc := keeper.NewConfig().WithLogger(log).WithEngine(keeper.NativeEngine{
		Limits: keeper.NewNativeEngine().Limits, ComputeKind: demoComputeKind})
	// Rounds that cannot be decided (a compute committee whose two
	// Byzantine members disagree with each other) end sooner than at the
	// default 30 s; every other round is decided in milliseconds.
	cfg := config.Default()
	params := protocol.DefaultParams()
	params.VerificationTimeout = durationpb.New(15 * time.Second)
	// Random challenges every few seconds, so that some close (and are
	// revealed and judged) while the demo runs.
	cfg.Challenges.Interval = 2
	opts := devnet.Options{Keepers: *n, Byzantine: byz, Logger: log, Keeper: &kc, Config: &cfg, Params: params}
	var pool poolSetup
	if poolSetupc != nil {
		if pool = <-poolSetupc; pool.err != nil {
			return fmt.Errorf("pool keys: %w", pool.err)
		}
		pool.print(out)
		opts.Genesis = devnet.PoolGenesis(pool.vk, demoGenesisAmount)
	}
	d, err := devnet.Start(ctx, opts)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.WaitOnline(ctx, *n, 30*time.Second); err != nil {
		return err
	}
	fmt.Fprintf(out, "devnet:  coordinator %s on Pebble in %s, %d keepers online, verification_timeout %s", d.URL, d.Dir, *n, params.VerificationTimeout.AsDuration())
	if pool.prover != nil {
		fmt.Fprintf(out, ", shielded pool in genesis (keeper keys hold %d each)", demoGenesisAmount)
	}
	fmt.Fprintf(out, "\nexplorer: %s/explorer/ (open it in a browser while the demo runs)\n\n", d.URL)

	// The compute jobs run alongside the proof rounds, on the same
	// keepers, while the Byzantine ones are still bonded enough to be drawn
	// (their incorrect proof votes slash them out of committees soon).
	var cres []computeResult
	var computeDone sync.WaitGroup
	if mods != nil {
		computeDone.Add(1)
		go func() {
			defer computeDone.Done()
			cres = runCompute(ctx, d.URL, mods, params.GetCompute(), demoComputeKind, nil)
		}()
	}
	results := runWorkload(ctx, d.URL, items, out, prog)
	computeDone.Wait()
	fmt.Fprintln(out)
	ok := printOutcomes(out, items, results)
	if mods != nil {
		fmt.Fprintf(out, "\n== COMPUTE rounds, run alongside: committees of 3, decided by 2 matching results (trap, exit code, fuel used, output) ==\n\n")
		role := keeperRoles(d, byz)
		ok = printComputeOutcomes(out, cres, role, roundVotes(d, role)) && ok
		fmt.Fprintln(out)
	}
	npool := 0
	if pool.prover != nil {
		var poolOK bool
		npool, poolOK, err = demoPool(ctx, d, pool.prover, out)
		if err != nil {
			return fmt.Errorf("pool section: %w", err)
		}
		ok = poolOK && ok
	}
	printLatency(out, results)
	printKeepers(out, d, byz)
	if err := demoCertificate(ctx, d.URL, results, out); err != nil {
		return err
	}
	if err := demoComputeCertificate(ctx, d.URL, cres, out); err != nil {
		return err
	}
	if ok {
		fmt.Fprintf(out, "\nall %d requests ended as expected in %v\n", len(items)+len(cres)+npool, time.Since(start).Round(time.Millisecond))
	} else {
		fmt.Fprintln(out, "\nsome rounds did not end as expected (see above); the epoch section runs anyway")
	}
	// The epoch section runs on a devnet of its own, so a round above that
	// went wrong does not stop it; the demo still fails at the end.
	// Without an End, the first devnet stops first, leaving the machine
	// to the second; with one, it keeps serving for End.
	if *epochSection {
		if o.End == nil {
			d.Close()
		}
		if err := demoEpoch(ctx, items, log, out, prog); err != nil {
			return fmt.Errorf("epoch section: %w", err)
		}
	}
	if !ok {
		return errors.New("some rounds did not end as expected")
	}
	// The end of a demo that went as expected, the first devnet still up.
	if o.End != nil {
		return o.End(ctx, d, out)
	}
	return nil
}

type demoResult struct {
	round   *lightkeeperv1.Round
	err     error
	elapsed time.Duration
}

// runWorkload submits every item (a few at a time) and waits for each
// decision, with a progress bar on prog if it is a terminal, then one line
// on out.
func runWorkload(ctx context.Context, url string, items []workload.Item, out, prog io.Writer) []demoResult {
	sub := workload.NewSubmitter(http.DefaultClient, url)
	results := make([]demoResult, len(items))
	var mu sync.Mutex
	start := time.Now()
	bar := progress.NewBar(prog, "rounds: ", len(items))
	sem := make(chan struct{}, 8)
	var wg sync.WaitGroup
	for i, it := range items {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			t0 := time.Now()
			r, err := sub.Submit(ctx, it, fmt.Sprintf("demo-%d", i))
			if err == nil {
				r, err = sub.WaitDecided(ctx, r.GetId())
			}
			mu.Lock()
			results[i] = demoResult{round: r, err: err, elapsed: time.Since(t0)}
			mu.Unlock()
			bar.Add(1)
		}()
	}
	wg.Wait()
	bar.Close()
	fmt.Fprintf(out, "rounds:  %d submitted and followed to their decision in %v\n", len(items), time.Since(start).Round(time.Millisecond))
	return results
}

func printOutcomes(out io.Writer, items []workload.Item, results []demoResult) bool {
	type row struct{ want, got string }
	counts := map[string]int{}
	all := true
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "request\texpected\toutcome\tvotes (approve/reject/abstain)\t")
	for i, it := range items {
		res := results[i]
		got, votes := "", ""
		var ce *connect.Error
		switch {
		case res.err != nil && errors.As(res.err, &ce):
			got = "REFUSED"
			votes = ce.Code().String()
		case res.err != nil:
			got = "ERROR"
			votes = res.err.Error()
		default:
			got = outcomeName(res.round)
			votes = fmt.Sprintf("%d/%d/%d", res.round.GetApprovals(), res.round.GetRejections(), res.round.GetAbstentions())
		}
		counts[got]++
		mark := "ok"
		if got != it.Want.String() {
			mark, all = "WRONG", false
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", it.Name, it.Want, got, votes, mark)
	}
	tw.Flush()
	fmt.Fprintf(out, "\nby outcome: APPROVED %d, REJECTED %d, TIMEOUT %d, REFUSED %d\n",
		counts["APPROVED"], counts["REJECTED"], counts["TIMEOUT"], counts["REFUSED"])
	return all
}

func printLatency(out io.Writer, results []demoResult) {
	var chain, client []time.Duration
	for _, r := range results {
		if r.err != nil {
			continue
		}
		chain = append(chain, r.round.GetDecidedAt().AsTime().Sub(r.round.GetSubmittedAt().AsTime()))
		client = append(client, r.elapsed)
	}
	if len(chain) == 0 {
		return
	}
	fmt.Fprintf(out, "decision latency: block time p50 %v p99 %v; client submit→decided p50 %v p99 %v\n\n",
		Percentile(chain, 50), Percentile(chain, 99), Percentile(client, 50), Percentile(client, 99))
}

func printKeepers(out io.Writer, d *devnet.Devnet, byz []byzantine.Strategy) {
	role := keeperRoles(d, byz)
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "keeper\tstrategy\treputation\tcorrect\tincorrect\tabstained\tmissed\tequivocations\tchallenges passed\tfailed\t")
	var revealed uint64
	for _, k := range d.Node.Keepers() {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t\n", short(k.GetId()), role[k.GetId()], k.GetReputation(),
			k.GetVotesCorrect(), k.GetVotesIncorrect(), k.GetVotesAbstained(), k.GetRoundsMissed(), k.GetEquivocations(),
			k.GetChallengesPassed(), k.GetChallengeFailures())
		revealed += k.GetChallengesPassed() + k.GetChallengeFailures()
	}
	tw.Flush()
	fmt.Fprintf(out, "random challenges (docs/challenges.md) were mixed in all along; %d answers to challenges whose rounds have closed were judged so far\n", revealed)
}

// verifiedCertificate fetches a round's certificate and checks it offline.
func verifiedCertificate(ctx context.Context, url, roundID string) (*lightkeeperv1.Certificate, error) {
	c := newClient(url)
	res, err := c.Rounds.GetCertificate(ctx, connect.NewRequest(&lightkeeperv1.GetCertificateRequest{RoundId: roundID}))
	if err != nil {
		return nil, describe(err)
	}
	info, err := c.ChainInfo(ctx)
	if err != nil {
		return nil, err
	}
	params := info.GetParams()
	cert := res.Msg.GetCertificate()
	if err := protocol.VerifyCertificate(cert, params); err != nil {
		return nil, fmt.Errorf("certificate of round %s: %w", roundID, err)
	}
	return cert, nil
}

// demoCertificate fetches one certificate and checks it offline, as
// 'lightkeeper verify-cert' does.
func demoCertificate(ctx context.Context, url string, results []demoResult, out io.Writer) error {
	for _, r := range results {
		if r.err != nil || r.round.GetOutcome() != lightkeeperv1.Outcome_OUTCOME_APPROVED {
			continue
		}
		cert, err := verifiedCertificate(ctx, url, r.round.GetId())
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "\ncertificate of round %s verified offline: %d signatures from a committee recomputed from seed %x…\n",
			short(cert.GetRoundId()), len(cert.GetVotes()), cert.GetSeed()[:6])
		return nil
	}
	return errors.New("no approved round to show a certificate for")
}

// demoEpoch runs a second devnet whose epochs last a few seconds: proofs
// are verified during an epoch, the epoch ends (rewards from issuance,
// shared by verified work and uptime, compounded into bonds), and the next
// election leaves out a reject-all keeper, whose incorrect votes slashed
// its bond under min_self_bond, and an equivocating one, tombstoned.
func demoEpoch(ctx context.Context, items []workload.Item, log *slog.Logger, out, prog io.Writer) error {
	const epochSeconds = 6
	params := protocol.DefaultParams()
	params.Staking.EpochLength = durationpb.New(epochSeconds * time.Second)
	params.Staking.MinSelfBond = 500_000                         // genesis bonds are 1,000,000
	params.Slashing.SlashIncorrectBps = 2_000                    // 20 % per vote against the outcome
	params.VerificationTimeout = durationpb.New(5 * time.Second) // rounds close (and count) quickly
	byz := []byzantine.Strategy{byzantine.RejectAll, byzantine.Equivocate}
	fmt.Fprintf(out, "\n== an epoch turning over (epoch_length %ds, min_self_bond %d, slash_incorrect %d bps) ==\n",
		epochSeconds, params.Staking.MinSelfBond, params.Slashing.SlashIncorrectBps)
	d, err := devnet.Start(ctx, devnet.Options{Keepers: 10, Byzantine: byz, Params: params, Logger: log})
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.WaitOnline(ctx, 10, 30*time.Second); err != nil {
		return err
	}
	role := map[string]string{}
	for i, k := range d.Keepers {
		role[k.ID()] = string(byzantine.Honest)
		if b := i - (len(d.Keepers) - len(byz)); b >= 0 {
			role[k.ID()] = string(byz[b])
		}
	}
	sc := newClient(d.URL).Staking
	epoch := func() (*lightkeeperv1.GetEpochResponse, error) {
		res, err := sc.GetEpoch(ctx, connect.NewRequest(&lightkeeperv1.GetEpochRequest{}))
		if err != nil {
			return nil, describe(err)
		}
		return res.Msg, nil
	}
	first, err := epoch()
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "epoch %d active set (%d keepers): %s\n", first.GetCurrentEpoch(), len(first.GetActiveSet()), roles(first.GetActiveSet(), role))

	var work []workload.Item
	for _, it := range items {
		if it.Want != workload.Refused && len(work) < 12 {
			work = append(work, it)
		}
	}
	results := runWorkload(ctx, d.URL, work, out, prog)
	for i, r := range results {
		if r.err != nil {
			return fmt.Errorf("%s: %w", work[i].Name, describe(r.err))
		}
	}
	last, err := epoch()
	if err != nil {
		return err
	}
	// Wait for the epoch the work ended in to end (and its rounds to close).
	fmt.Fprintf(out, "waiting for epoch %d to end…\n", last.GetCurrentEpoch())
	var now *lightkeeperv1.GetEpochResponse
	for deadline := time.Now().Add(3 * epochSeconds * time.Second); ; {
		if now, err = epoch(); err != nil {
			return err
		}
		if now.GetCurrentEpoch() > last.GetCurrentEpoch() && now.GetRecord().GetEpoch() >= last.GetCurrentEpoch() {
			break
		}
		if time.Now().After(deadline) {
			return errors.New("the epoch did not turn over")
		}
		time.Sleep(200 * time.Millisecond)
	}
	// Sum the statements of the epochs the work ran in.
	type line struct{ work, reward, commission uint64 }
	lines := map[string]*line{}
	var minted, paid, fund uint64
	for e := first.GetCurrentEpoch(); e <= last.GetCurrentEpoch(); e++ {
		n := e
		res, err := sc.GetEpoch(ctx, connect.NewRequest(&lightkeeperv1.GetEpochRequest{Epoch: &n}))
		if err != nil {
			continue // an epoch without a block has no statement of its own
		}
		r := res.Msg.GetRecord()
		minted, paid, fund = minted+r.GetMinted()+r.GetFees(), paid+r.GetPaid(), fund+r.GetToCommunityFund()
		for _, kr := range r.GetRewards() {
			l := lines[kr.GetKeeperId()]
			if l == nil {
				l = &line{}
				lines[kr.GetKeeperId()] = l
			}
			l.work += kr.GetWorkUnits()
			l.reward += kr.GetShare() - kr.GetWithheld()
			l.commission += kr.GetCommission()
		}
	}
	fmt.Fprintf(out, "epochs %d..%d paid out: fees + minted %d = rewards %d + community fund %d (withheld, dust, idle epochs)\n",
		first.GetCurrentEpoch(), last.GetCurrentEpoch(), minted, paid, fund)
	active := map[string]bool{}
	for _, id := range now.GetActiveSet() {
		active[id] = true
	}
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "keeper\tstrategy\tbond\tslashed\twork units\tuptime\treward\tjailed\tnext epoch\t")
	for _, k := range d.Node.Keepers() {
		l := lines[k.GetId()]
		if l == nil {
			l = &line{}
		}
		jail := "-"
		switch {
		case k.GetTombstoned():
			jail = "tombstoned"
		case k.GetJailed():
			jail = "jailed"
		}
		next := "elected"
		if !active[k.GetId()] {
			next = "OUT"
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%s\t%d\t%s\t%s\t\n", short(k.GetId()), role[k.GetId()], k.GetStake(), k.GetSlashedTotal(),
			l.work, ppm(k.GetUptimePpm()), l.reward, jail, next)
	}
	tw.Flush()
	fund2, err := sc.GetCommunityFund(ctx, connect.NewRequest(&lightkeeperv1.GetCommunityFundRequest{}))
	if err != nil {
		return describe(err)
	}
	fmt.Fprintf(out, "epoch %d active set (%d keepers): %s\ncommunity fund %d (slashed %d), total supply %d\n", now.GetCurrentEpoch(),
		len(now.GetActiveSet()), roles(now.GetActiveSet(), role), fund2.Msg.GetCommunityFund(), fund2.Msg.GetTotalSlashed(), fund2.Msg.GetTotalSupply())
	for _, id := range first.GetActiveSet() {
		if (role[id] == string(byzantine.RejectAll) || role[id] == string(byzantine.Equivocate)) && active[id] {
			return fmt.Errorf("Byzantine keeper %s (%s) is still in the active set", short(id), role[id])
		}
	}
	return nil
}

func roles(ids []string, role map[string]string) string {
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = short(id)
		if r := role[id]; r != string(byzantine.Honest) {
			s[i] += "(" + r + ")"
		}
	}
	return strings.Join(s, " ")
}
