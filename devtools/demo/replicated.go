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

	"github.com/lightkeeper-net/lightkeeper/devtools/byzantine"
	"github.com/lightkeeper-net/lightkeeper/devtools/replicanet"
	"github.com/lightkeeper-net/lightkeeper/devtools/workload"
	lightkeeperv1 "github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1"
	"github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1/lightkeeperv1connect"
	"github.com/lightkeeper-net/lightkeeper/protocol"
)

// ReplicatedOptions are the replicated demo's choices ('lightkeeper demo
// --replicas N').
type ReplicatedOptions struct {
	// Binary is the lightkeeper executable the replicas run.
	Binary    string
	Replicas  int
	Keepers   int
	Byzantine []byzantine.Strategy
	// Valid proofs per scheme × curve.
	Valid  int
	Logger *slog.Logger
}

// RunReplicated runs the replicated demo: replicas as separate `lightkeeper
// node` processes, keepers spread over them. Proofs go in through replica
// 0; replica 0 is killed with SIGKILL and more proofs are decided by the
// others; a round and its certificate are read from replica 2 and checked
// offline; replica 0 is restarted and rejoins at the others' app hash. It
// fails if anything did not end as expected.
func RunReplicated(ctx context.Context, o ReplicatedOptions, out io.Writer) error {
	if o.Replicas < 3 {
		return fmt.Errorf("the replicated demo needs at least 3 replicas (one is killed; 2 of 3 must stay), got %d", o.Replicas)
	}
	names := make([]string, len(o.Byzantine))
	for i, b := range o.Byzantine {
		names[i] = string(b)
	}
	fmt.Fprintf(out, "Lightkeeper replicated demo: %d replicas (CometBFT, separate processes), %d keepers (%d Byzantine: %s)\n\n",
		o.Replicas, o.Keepers, len(o.Byzantine), strings.Join(names, ","))
	start := time.Now()
	fmt.Fprint(out, "proving:")
	items, err := workload.Build(workload.Options{Valid: o.Valid, Invalid: true}, func(s string) { fmt.Fprintf(out, " %s", s) })
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "  (%d requests in %v)\n", len(items), time.Since(start).Round(time.Millisecond))

	n, err := replicanet.Start(ctx, replicanet.Options{
		Binary: o.Binary, Replicas: o.Replicas, Keepers: o.Keepers, Byzantine: o.Byzantine, Logger: o.Logger,
	})
	if err != nil {
		return err
	}
	defer n.Close()
	if err := n.WaitOnline(ctx, 0, o.Keepers, time.Minute); err != nil {
		return err
	}
	fmt.Fprintf(out, "replicas: %s (data and logs in %s)\n\n", strings.Join(n.URLs, " "), n.Dir)

	var failures []string
	fail := func(format string, args ...any) { failures = append(failures, fmt.Sprintf(format, args...)) }

	fmt.Fprintf(out, "1. every request through replica 0, all %d replicas up\n", o.Replicas)
	first := submitAll(ctx, n.URLs[0], items, "r0", out, fail)

	fmt.Fprintln(out, "\n2. replica 0 killed (SIGKILL); the valid proofs again, through replica 1")
	if err := n.KillReplica(0); err != nil {
		return err
	}
	var valid []workload.Item
	for _, it := range items {
		if it.Want == workload.Approved {
			valid = append(valid, it)
		}
	}
	submitAll(ctx, n.URLs[1], valid, "r1", out, fail)

	fmt.Fprintln(out, "\n3. a round of step 1 and its certificate, read from replica 2 while replica 0 is down")
	var picked *lightkeeperv1.Round
	for _, r := range first {
		if r != nil && r.GetOutcome() == lightkeeperv1.Outcome_OUTCOME_APPROVED {
			picked = r
			break
		}
	}
	if picked == nil {
		fail("no round of step 1 was approved")
	} else if err := showCertificate(ctx, n, 2, picked.GetId(), out); err != nil {
		fail("certificate from replica 2: %v", err)
	}

	fmt.Fprintln(out, "\n4. replica 0 restarted")
	if err := n.StartReplica(0); err != nil {
		return err
	}
	live, err := n.ChainInfo(ctx, 2)
	if err != nil {
		return err
	}
	if _, err := n.WaitHeight(ctx, 0, live.GetReplicaHeight(), 2*time.Minute); err != nil {
		return err
	}
	info, err := n.SameAppHash(ctx, time.Minute)
	if err != nil {
		fail("%v", err)
	} else {
		fmt.Fprintf(out, "   replica 0 caught up from its last committed block: all %d replicas at height %d, app hash %X\n", o.Replicas, info.GetReplicaHeight(), info.GetAppHash())
	}

	if len(failures) > 0 {
		fmt.Fprintf(out, "\n%d unexpected results:\n  %s\n", len(failures), strings.Join(failures, "\n  "))
		return errors.New("the replicated demo did not end as expected")
	}
	fmt.Fprintf(out, "\nevery request ended as expected, in %v\n", time.Since(start).Round(time.Millisecond))
	return nil
}

// submitAll submits every item through url at once, waits for the
// decisions and prints one line per item; it returns the rounds (nil for
// a refused item).
func submitAll(ctx context.Context, url string, items []workload.Item, tag string, out io.Writer, fail func(string, ...any)) []*lightkeeperv1.Round {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	sub := workload.NewSubmitter(http.DefaultClient, url)
	rounds := make([]*lightkeeperv1.Round, len(items))
	errs := make([]error, len(items))
	var wg sync.WaitGroup
	for i, it := range items {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, err := sub.Submit(ctx, it, fmt.Sprintf("demo-%s-%d-%d", tag, i, time.Now().UnixNano()))
			if err == nil {
				r, err = sub.WaitDecided(ctx, r.GetId())
			}
			rounds[i], errs[i] = r, err
		}()
	}
	wg.Wait()
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	for i, it := range items {
		got := ""
		switch {
		case it.Want == workload.Refused && connect.CodeOf(errs[i]) == connect.CodeInvalidArgument:
			got, rounds[i] = "refused", nil
		case errs[i] != nil:
			got = "error: " + errs[i].Error()
			fail("%s: %v", it.Name, errs[i])
		default:
			got = outcomeName(rounds[i]) + fmt.Sprintf(" (%d approve, %d reject) round %s", rounds[i].GetApprovals(), rounds[i].GetRejections(), short(rounds[i].GetId()))
			if !it.Matches(rounds[i]) {
				fail("%s: want %v, got %s", it.Name, it.Want, got)
			}
		}
		fmt.Fprintf(tw, "   %s\t%v\t%s\n", it.Name, it.Want, got)
	}
	tw.Flush()
	return rounds
}

// showCertificate reads a round's certificate from replica i and checks it
// offline against the chain's parameters.
func showCertificate(ctx context.Context, n *replicanet.Net, i int, roundID string, out io.Writer) error {
	info, err := n.ChainInfo(ctx, i)
	if err != nil {
		return err
	}
	rc := lightkeeperv1connect.NewRoundServiceClient(http.DefaultClient, n.URLs[i])
	res, err := rc.GetCertificate(ctx, connect.NewRequest(&lightkeeperv1.GetCertificateRequest{RoundId: roundID}))
	if err != nil {
		return err
	}
	cert := res.Msg.GetCertificate()
	if err := protocol.VerifyCertificate(cert, info.GetParams()); err != nil {
		return err
	}
	fmt.Fprintf(out, "   round %s: %s at height %d, %d votes; certificate verifies offline\n", short(roundID), cert.GetOutcome(), cert.GetHeight(), len(cert.GetVotes()))
	return nil
}
