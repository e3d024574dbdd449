package main

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"runtime/trace"
	"strings"
	"text/tabwriter"
	"time"

	"connectrpc.com/connect"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/lightkeeper-net/lightkeeper/coordinator/config"
	"github.com/lightkeeper-net/lightkeeper/devtools/demo"
	"github.com/lightkeeper-net/lightkeeper/devtools/devnet"
	"github.com/lightkeeper-net/lightkeeper/devtools/loadgen"
	"github.com/lightkeeper-net/lightkeeper/devtools/proofgen"
	"github.com/lightkeeper-net/lightkeeper/devtools/replicanet"
	"github.com/lightkeeper-net/lightkeeper/internal/progress"
	"github.com/lightkeeper-net/lightkeeper/internal/setup"
	lightkeeperv1 "github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1"
	"github.com/lightkeeper-net/lightkeeper/protocol"
	"github.com/lightkeeper-net/lightkeeper/verifier"
)

func init() { register(newBenchCmd) }

const benchLong = `Without --coordinator, starts a devnet in this process (coordinator on
loopback, Pebble in --data or a temporary directory, submission rate limit
lifted) whose genesis has --keepers keepers, none of them run by the devnet.
With --coordinator, drives that coordinator instead, using the genesis keeper
keys in DIR/keys as written by 'lightkeeper init --dir DIR' (raise its
limits.submit_rate and limits.submit_burst, or submissions are throttled).
$` + CoordinatorEnv + ` does not apply here: no --coordinator means the
embedded devnet.

Either way it runs one synthetic keeper per key (the real keeper code with
the approve-all strategy: it signs APPROVE without verifying), submits the
same valid groth16/bn254 proof --rounds times under distinct client nonces
from --concurrency submitters, and follows every round to its decision.
On a terminal, a counter on stderr shows it running. Exits 1 if any round
is not decided APPROVED.`

func newBenchCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "bench [--keepers N] [--rounds N] [--concurrency N] [--duration D] | bench --coordinator URL --keys DIR",
		Short: "load a coordinator with synthetic approve-all keepers; print votes/s, rounds/s, latency (development)",
		Long:  benchLong,
		Args:  exactArgs(0, ""),
	}
	fs := c.Flags()
	var o benchOptions
	o.nKeepers = fs.Int("keepers", 10, "synthetic keepers (externally: default every key in --keys)")
	o.rounds = fs.Int("rounds", 500, "rounds to submit (with --duration and no --rounds: no limit)")
	o.concurrency = fs.Int("concurrency", 32, "concurrent submitters, each waiting for its round's decision before the next")
	o.duration = fs.Duration("duration", 0, "stop submitting after this long (0: submit --rounds rounds)")
	o.url = fs.String("coordinator", "", "URL of a running coordinator (default: start an embedded devnet)")
	o.keysDir = fs.String("keys", "", "init directory holding keys/keeper-NN.key (with --coordinator)")
	o.data = fs.String("data", "", "embedded devnet directory (temporary when empty)")
	o.voteBatch = fs.Int("vote-batch", 64, "a keeper sends its votes when it holds this many…")
	o.voteDelay = fs.Duration("vote-delay", 20*time.Millisecond, "…or this long after the first")
	o.logLevel = fs.String("log-level", "error", "coordinator and keeper log level")
	o.cpuProfile = fs.String("cpuprofile", "", "write a CPU profile of the measured run (whole process) to this file")
	o.replicas = fs.Int("replicas", 0, "after the embedded devnet, run the same load against this many replicas of a CometBFT chain (separate 'lightkeeper node' processes on loopback, keepers and submitters spread over them) and print both")
	o.traceFile = fs.String("trace", "", "write a runtime execution trace of the measured run to this file ('go tool trace')")
	o.timeoutCommit = fs.Duration("timeout-commit", benchTimeoutCommit, "with --replicas: CometBFT's pause after each block, the replicas' block interval under load ('lightkeeper testnet init' writes 1s)")
	c.RunE = func(cmd *cobra.Command, _ []string) error { return runBench(cmd.Context(), cmd.Flags(), o) }
	return c
}

type benchOptions struct {
	nKeepers, rounds, concurrency, voteBatch, replicas  *int
	duration, voteDelay, timeoutCommit                  *time.Duration
	url, keysDir, data, logLevel, cpuProfile, traceFile *string
}

func runBench(ctx context.Context, fs *pflag.FlagSet, o benchOptions) error {
	nKeepers, rounds, concurrency, voteBatch, replicas := o.nKeepers, o.rounds, o.concurrency, o.voteBatch, o.replicas
	duration, voteDelay, timeoutCommit := o.duration, o.voteDelay, o.timeoutCommit
	url, keysDir, data, logLevel, cpuProfile, traceFile := o.url, o.keysDir, o.data, o.logLevel, o.cpuProfile, o.traceFile
	set := map[string]bool{}
	fs.Visit(func(f *pflag.Flag) { set[f.Name] = true })
	if *duration > 0 && !set["rounds"] {
		*rounds = 0
	}
	switch {
	case *rounds < 0 || (*rounds == 0 && *duration <= 0):
		return usagef("--rounds %d: want at least 1 (or give --duration)", *rounds)
	case *duration < 0:
		return usagef("--duration %v: want a positive duration", *duration)
	case *concurrency < 1 || *concurrency > 4096:
		return usagef("--concurrency %d: want 1..4096", *concurrency)
	case *voteBatch < 1 || *voteBatch > 1024:
		return usagef("--vote-batch %d: want 1..1024", *voteBatch)
	case *voteDelay < 0:
		return usagef("--vote-delay %v: want ≥ 0", *voteDelay)
	case (*url == "") != (*keysDir == ""):
		return usagef("--coordinator and --keys go together")
	case *url != "" && set["data"]:
		return usagef("--data is for the embedded devnet, not with --coordinator")
	case *replicas < 0 || *replicas > 16 || (*replicas > 0 && *url != ""):
		return usagef("--replicas %d: want 1..16, without --coordinator", *replicas)
	case set["timeout-commit"] && *replicas == 0:
		return usagef("--timeout-commit is the replicas' block interval: give --replicas too")
	case *timeoutCommit <= 0:
		return usagef("--timeout-commit %v: want a positive duration", *timeoutCommit)
	}
	log, err := newLogger(*logLevel)
	if err != nil {
		return err
	}
	out := os.Stdout

	// One real proof, made before anything runs so proving is not timed.
	fix, err := proofgen.New(verifier.SchemeGroth16, verifier.CurveBN254)
	if err != nil {
		return err
	}
	p, err := fix.Prove(1001)
	if err != nil {
		return err
	}

	var keys []ed25519.PrivateKey
	target := *url
	var where, chainID string
	if *url == "" {
		threshold := protocol.DefaultParams().GetThreshold()
		if *nKeepers < int(threshold) || *nKeepers > 10000 {
			return usagef("--keepers %d: want %d..10000 (a round needs threshold = %d eligible keepers)",
				*nKeepers, threshold, threshold)
		}
		cfg := config.Default()
		cfg.Limits.SubmitRate = 1e6
		cfg.Limits.SubmitBurst = 1e6
		// Every keeper and submitter of the bench is at one loopback
		// address: the per-address stream limit is not what it measures.
		cfg.Limits.MaxStreamsPerAddress = 1 << 20
		cfg.Limits.MaxStreams = 1 << 20
		// The figures are the clients' rounds alone: challenges would add
		// rounds the generator paces, not load the bench controls.
		cfg.Challenges.Enabled = false
		d, err := devnet.Start(ctx, devnet.Options{
			Dir: *data, Keepers: 0, ExtraGenesisKeepers: *nKeepers, Config: &cfg, Logger: log,
		})
		if err != nil {
			return err
		}
		defer d.Close()
		if len(d.Keys) < *nKeepers {
			return fmt.Errorf("%s holds %d keeper keys, %d wanted", d.Dir, len(d.Keys), *nKeepers)
		}
		keys = d.Keys[:*nKeepers]
		target = d.URL
		chainID = d.Genesis.GetChainId()
		where = fmt.Sprintf("embedded devnet at %s, Pebble in %s, limits.submit_rate/burst raised to 1e6, other config defaults",
			d.URL, filepath.Join(d.Dir, "data"))
	} else {
		all, err := setup.ReadKeys(*keysDir)
		if err == nil && len(all) == 0 && filepath.Base(filepath.Clean(*keysDir)) == setup.KeysDir {
			all, err = setup.ReadKeys(filepath.Dir(filepath.Clean(*keysDir))) // given DIR/keys itself
		}
		if err != nil {
			return err
		}
		if len(all) == 0 {
			return usagef("--keys %s: no %s/keeper-NN.key files", *keysDir, setup.KeysDir)
		}
		n := len(all)
		if set["keepers"] {
			if *nKeepers < 1 || *nKeepers > len(all) {
				return usagef("--keepers %d: %s holds %d keys", *nKeepers, *keysDir, len(all))
			}
			n = *nKeepers
		}
		keys = all[:n]
		where = "coordinator " + *url + " (its own config)"
		info, err := newClient(*url).Ledger.GetChainInfo(ctx, connect.NewRequest(&lightkeeperv1.GetChainInfoRequest{}))
		if err != nil {
			return fmt.Errorf("coordinator %s: %w", *url, err)
		}
		chainID = info.Msg.GetChainId()
	}

	fmt.Fprintf(out, "Lightkeeper bench: %d synthetic keepers (approve-all: sign APPROVE without verifying), ", len(keys))
	if *rounds > 0 {
		fmt.Fprintf(out, "%d rounds", *rounds)
	} else {
		fmt.Fprint(out, "rounds without limit")
	}
	if *duration > 0 {
		fmt.Fprintf(out, " for at most %v", *duration)
	}
	fmt.Fprintf(out, ", concurrency %d\n", *concurrency)
	fmt.Fprintf(out, "target:  %s\n", where)
	fmt.Fprintf(out, "host:    GOMAXPROCS %d, NumCPU %d, %s %s/%s\n", runtime.GOMAXPROCS(0), runtime.NumCPU(),
		runtime.Version(), runtime.GOOS, runtime.GOARCH)
	fmt.Fprintf(out, "request: one groth16/bn254 proof (%d B, verifying key %d B), distinct client nonces; keepers flush votes at %d or after %v\n",
		len(p.Proof), len(fix.VerifyingKey), *voteBatch, *voteDelay)
	// The floor the vote path is read against: every accepted vote costs
	// the coordinator one such check (and, here, its keeper one signature).
	msgLen := loadgen.VoteMessageLen(chainID)
	raw := loadgen.VerifyRate(msgLen, time.Second)
	fmt.Fprintf(out, "raw:     ed25519 verify %.0f/s on %d goroutines (%d-byte messages, a vote's signed bytes), measured for 1 s before the load\n\n",
		raw, runtime.GOMAXPROCS(0), msgLen)

	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	if *traceFile != "" {
		f, err := os.Create(*traceFile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := trace.Start(f); err != nil {
			return err
		}
		defer trace.Stop()
	}
	lo := loadgen.Options{
		URL:  target,
		Keys: keys,
		Proof: loadgen.Proof{
			Scheme: verifier.SchemeGroth16, Curve: verifier.CurveBN254,
			VerifyingKey: fix.VerifyingKey, Proof: p.Proof, PublicInputs: p.PublicInputs,
		},
		Rounds:      *rounds,
		Duration:    *duration,
		Concurrency: *concurrency,
		VoteBatch:   *voteBatch,
		VoteDelay:   *voteDelay,
		Logger:      log,
	}
	rep, err := benchRun(ctx, lo, raw)
	if rep == nil || err != nil || *replicas == 0 {
		return err
	}

	bin, err := os.Executable()
	if err != nil {
		return err
	}
	n, err := replicanet.Start(ctx, replicanet.Options{
		Binary: bin, Replicas: *replicas, Keepers: len(keys), Idle: true, Logger: log,
		TimeoutCommit: *timeoutCommit,
		// As the embedded devnet's: the submission limiter, the per-address
		// stream limit and challenges are not what the bench measures.
		// ("enabled" is the [challenges] table's only key of that name.)
		APIConfig: map[string]string{"submit_rate": "1e6", "submit_burst": "1000000", "max_streams_per_address": "1048576", "max_streams": "1048576", "enabled": "false"},
	})
	if err != nil {
		return err
	}
	defer n.Close()
	fmt.Fprintf(out, "\ntarget:  %d replicas of a CometBFT chain, separate 'lightkeeper node' processes (%s), timeout_commit %v; keepers and submitters spread over them; data in %s\n",
		*replicas, strings.Join(n.URLs, " "), *timeoutCommit, n.Dir)
	lo.URL, lo.URLs, lo.Keys = "", n.URLs, n.Keys[:len(keys)]
	rrep, err := benchRun(ctx, lo, raw)
	if rrep == nil || err != nil {
		return err
	}
	ratio := func(a, b float64) float64 { return a / max(b, 1e-9) }
	ed, _ := rep.Decided()
	rd, _ := rrep.Decided()
	fmt.Fprintf(out, "\nreplicated vs embedded: decided rounds/s %.2f×\n",
		ratio(float64(rd)/rrep.Wall.Seconds(), float64(ed)/rep.Wall.Seconds()))
	return nil
}

// benchTimeoutCommit is the replicas' default block interval under load
// (--timeout-commit changes it): CometBFT waits this long after a block
// before the next round of consensus, so it bounds both latency (a
// decision takes about two blocks: the votes' and the round's) and
// batching (what arrives meanwhile shares one block).
const benchTimeoutCommit = 200 * time.Millisecond

// benchRun runs one load and prints its report; it fails unless every
// round was decided APPROVED.
func benchRun(ctx context.Context, o loadgen.Options, raw float64) (*loadgen.Report, error) {
	counter := progress.StartCounter(os.Stderr, "rounds running")
	rep, err := loadgen.Run(ctx, o)
	counter.Stop()
	if rep == nil {
		return nil, err
	}
	printBench(os.Stdout, rep, raw)
	if err != nil {
		return rep, err
	}
	if !rep.AllApproved() {
		return rep, errors.New("not every round was decided APPROVED")
	}
	return rep, nil
}

func printBench(out io.Writer, rep *loadgen.Report, rawVerify float64) {
	decided, by := rep.Decided()
	var block, client []time.Duration
	var firstErr error
	for _, r := range rep.Rounds {
		if r.Err != nil {
			if firstErr == nil {
				firstErr = r.Err
			}
			continue
		}
		block = append(block, r.Block)
		client = append(client, r.Client)
	}
	secs := rep.Wall.Seconds()
	perSec := func(n float64) string { return fmt.Sprintf("%.1f/s", n/secs) }

	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "rounds\t%d submitted, %d decided: APPROVED %d, REJECTED %d, TIMEOUT %d; %d failed\n",
		len(rep.Rounds), decided, by[lightkeeperv1.Outcome_OUTCOME_APPROVED], by[lightkeeperv1.Outcome_OUTCOME_REJECTED],
		by[lightkeeperv1.Outcome_OUTCOME_TIMEOUT], len(rep.Rounds)-decided)
	fmt.Fprintf(tw, "wall time\t%.3f s (first submission → last decision)\n", secs)
	fmt.Fprintf(tw, "decided rounds\t%s\n", perSec(float64(decided)))

	// Votes accepted by the coordinator in the window, from its own
	// counters when /metrics answers, else as the keepers saw them.
	const accepted = `lightkeeper_votes_total{status="VOTE_STATUS_ACCEPTED"}`
	votes := float64(rep.VotesAccepted)
	if rep.Before != nil && rep.After != nil {
		votes = loadgen.Delta(rep.Before, rep.After, accepted)
		fmt.Fprintf(tw, "votes accepted\t%s (%.0f votes, coordinator counter; %.1f per decided round)\n",
			perSec(votes), votes, votes/float64(max(decided, 1)))
	} else {
		fmt.Fprintf(tw, "votes accepted\t%s (%d votes as the keepers saw them; /metrics unavailable)\n",
			perSec(float64(rep.VotesAccepted)), rep.VotesAccepted)
	}
	if rawVerify > 0 {
		fmt.Fprintf(tw, "vs raw verify\t%.3f of the raw ed25519 rate (%s votes / %.0f/s), beside %s rounds",
			votes/secs/rawVerify, perSec(votes), rawVerify, perSec(float64(decided)))
		if len(block) > 0 {
			fmt.Fprintf(tw, ", latency p50 %v p99 %v", demo.Percentile(block, 50), demo.Percentile(block, 99))
		}
		fmt.Fprintln(tw)
	}
	if len(block) > 0 {
		fmt.Fprintf(tw, "latency, block time\tp50 %v  p99 %v  max %v  (round submitted_at → decided_at)\n",
			demo.Percentile(block, 50), demo.Percentile(block, 99), demo.Percentile(block, 100))
		fmt.Fprintf(tw, "latency, client\tp50 %v  p99 %v  max %v  (SubmitRound call → WatchRound reports the decision)\n",
			demo.Percentile(client, 50), demo.Percentile(client, 99), demo.Percentile(client, 100))
	}
	if b, a := rep.Before, rep.After; b != nil && a != nil {
		blocks := loadgen.Delta(b, a, "lightkeeper_block_height")
		txs := loadgen.Delta(b, a, "lightkeeper_block_transactions_sum")
		commits := loadgen.Delta(b, a, "lightkeeper_block_commit_seconds_count")
		commitSecs := loadgen.Delta(b, a, "lightkeeper_block_commit_seconds_sum")
		if blocks > 0 && commits > 0 {
			fmt.Fprintf(tw, "blocks\t%.0f (%s), %.1f transactions per block, apply+commit mean %.2f ms (%.0f%% of wall time)\n",
				blocks, perSec(blocks), txs/commits, 1000*commitSecs/commits, 100*commitSecs/secs)
		}
		if rl := loadgen.Delta(b, a, "lightkeeper_rate_limited_total"); rl > 0 {
			fmt.Fprintf(tw, "rate limited\t%.0f requests refused by the coordinator's limiter\n", rl)
		}
	}
	fmt.Fprintf(tw, "keeper votes\t%d signed, %d accepted, %d not accepted, %d lost (at the last decision)\n",
		rep.VotesSigned, rep.VotesAccepted, rep.VotesRefused, rep.VotesLost)
	if rep.Throttled > 0 {
		fmt.Fprintf(tw, "throttled\t%d submissions refused for load and retried (first: %s); throughput is bounded by that\n",
			rep.Throttled, rep.FirstThrottle)
	}
	tw.Flush()
	if firstErr != nil {
		fmt.Fprintf(out, "\nfirst failure: %v\n", describe(firstErr))
	}
}
