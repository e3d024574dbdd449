package loadgen

import (
	"bufio"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"connectrpc.com/connect"

	"github.com/lightkeeper-net/lightkeeper/devtools/byzantine"
	"github.com/lightkeeper-net/lightkeeper/keeper"
	lightkeeperv1 "github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1"
	"github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1/lightkeeperv1connect"
	"github.com/lightkeeper-net/lightkeeper/verifier"
)

// Proof is the one request every round carries (with its own nonce).
type Proof struct {
	Scheme       verifier.Scheme
	Curve        verifier.Curve
	VerifyingKey []byte
	Proof        []byte
	PublicInputs []byte
}

// Options configure a run.
type Options struct {
	// URL of the coordinator.
	URL string
	// URLs, when set instead of URL, are replicas of one chain: keeper i
	// and submitter i use URLs[i mod len(URLs)], and the metrics are
	// read from URLs[0] (a replica counts every block's votes).
	URLs []string
	// Keys of the synthetic keepers: genesis keepers of that coordinator.
	Keys []ed25519.PrivateKey
	// Proof is submitted Rounds times.
	Proof Proof
	// Rounds to submit; 0 means no limit (then Duration must be set).
	Rounds int
	// Duration, when positive, stops submitting new rounds once it has
	// passed since the first submission; rounds already submitted are
	// still followed to their decision.
	Duration time.Duration
	// Concurrency is how many submitters run at once, each submitting a
	// round and waiting for its decision before the next.
	Concurrency int
	// VoteBatch and VoteDelay set when a keeper flushes its votes: at
	// VoteBatch votes or VoteDelay after the first. The keeper defaults
	// apply when VoteBatch is zero.
	VoteBatch int
	VoteDelay time.Duration
	// OnlineTimeout bounds the wait for every keeper to be online (30 s
	// when zero).
	OnlineTimeout time.Duration
	// Logger for the keepers; silent when nil.
	Logger *slog.Logger
}

// Round is what one submitter saw of one round.
type Round struct {
	ID      string
	Outcome lightkeeperv1.Outcome
	// Block is the block-time latency: decided_at − submitted_at of the
	// round, both block times.
	Block time.Duration
	// Client is from the start of the accepted SubmitRound call to the
	// moment the watch stream reported the decision.
	Client time.Duration
	Err    error
}

// Report is the result of a run.
type Report struct {
	Keepers     int
	Concurrency int
	// Rounds holds every round a submitter attempted, in no order.
	Rounds []Round
	// Wall is measured from the first submission to the last decision.
	Wall time.Duration
	// Throttled counts SubmitRound calls refused with ResourceExhausted
	// (rate limit, full transaction queue or too many open rounds) and
	// retried; FirstThrottle is the first such message.
	Throttled     int
	FirstThrottle string
	// Before and After are the coordinator's /metrics around the run
	// (After taken at the last decision); nil when not available.
	Before, After Metrics
	// Keeper-side vote counters summed over the synthetic keepers, taken
	// at the last decision.
	VotesSigned, VotesAccepted, VotesRefused, VotesLost int64
}

// Decided returns the rounds that reached a decision and how many ended
// with each outcome.
func (r *Report) Decided() (n int, byOutcome map[lightkeeperv1.Outcome]int) {
	byOutcome = map[lightkeeperv1.Outcome]int{}
	for _, x := range r.Rounds {
		if x.Err == nil {
			n++
			byOutcome[x.Outcome]++
		}
	}
	return n, byOutcome
}

// AllApproved reports whether every round attempted was decided APPROVED.
func (r *Report) AllApproved() bool {
	for _, x := range r.Rounds {
		if x.Err != nil || x.Outcome != lightkeeperv1.Outcome_OUTCOME_APPROVED {
			return false
		}
	}
	return len(r.Rounds) > 0
}

// Run starts the keepers, waits until they are online, submits the rounds
// and follows them to their decisions. The keepers stop when Run returns.
func Run(ctx context.Context, o Options) (*Report, error) {
	if len(o.Keys) == 0 {
		return nil, errors.New("loadgen: no keeper keys")
	}
	if o.Rounds <= 0 && o.Duration <= 0 {
		return nil, errors.New("loadgen: neither a number of rounds nor a duration")
	}
	if o.Concurrency < 1 {
		o.Concurrency = 1
	}
	if o.OnlineTimeout <= 0 {
		o.OnlineTimeout = 30 * time.Second
	}
	urls := o.URLs
	if len(urls) == 0 {
		urls = []string{o.URL}
	}
	for i, u := range urls {
		urls[i] = strings.TrimRight(u, "/")
	}
	url := urls[0]

	// Submitters share one pool large enough that no call waits for a
	// connection: a submit and a watch stream per submitter.
	h := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 2*o.Concurrency + 4}}
	roundClients := make([]lightkeeperv1connect.RoundServiceClient, len(urls))
	for i, u := range urls {
		roundClients[i] = lightkeeperv1connect.NewRoundServiceClient(h, u)
		if _, err := lightkeeperv1connect.NewLedgerServiceClient(h, u).GetChainInfo(ctx,
			connect.NewRequest(&lightkeeperv1.GetChainInfoRequest{})); err != nil {
			return nil, fmt.Errorf("coordinator %s: %w", u, err)
		}
	}
	vks := lightkeeperv1connect.NewVerifyingKeyServiceClient(h, url)
	ks := lightkeeperv1connect.NewKeeperServiceClient(h, url)

	// Keepers: the real keeper code, approving without checking. Each
	// gets its own connection pool (its stream must not queue its votes).
	kctx, stopKeepers := context.WithCancel(ctx)
	var kwg sync.WaitGroup
	defer func() { stopKeepers(); kwg.Wait() }()
	base := keeper.NewConfig().WithBehaviour(byzantine.ApproveAll)
	if o.Logger != nil {
		base = base.WithLogger(o.Logger)
	}
	if o.VoteBatch > 0 {
		base = base.WithBatch(o.VoteBatch, o.VoteDelay)
	}
	keepers := make([]*keeper.Keeper, len(o.Keys))
	ids := make(map[string]bool, len(o.Keys))
	for i, key := range o.Keys {
		kc := base.WithHTTPClient(&http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}})
		k := keeper.New(urls[i%len(urls)], key, kc)
		keepers[i] = k
		ids[k.ID()] = true
		kwg.Add(1)
		go func() { defer kwg.Done(); k.Run(kctx) }()
	}

	if err := waitOnline(ctx, ks, ids, o.OnlineTimeout); err != nil {
		return nil, err
	}
	vk, err := vks.RegisterVerifyingKey(ctx, connect.NewRequest(&lightkeeperv1.RegisterVerifyingKeyRequest{
		Scheme: lightkeeperv1.Scheme(o.Proof.Scheme), Curve: lightkeeperv1.Curve(o.Proof.Curve), Key: o.Proof.VerifyingKey,
	}))
	if err != nil {
		return nil, fmt.Errorf("register verifying key: %w", err)
	}
	req := &lightkeeperv1.ProofRequest{
		Scheme:         lightkeeperv1.Scheme(o.Proof.Scheme),
		Curve:          lightkeeperv1.Curve(o.Proof.Curve),
		VerifyingKeyId: vk.Msg.GetVerifyingKey().GetId(),
		Proof:          o.Proof.Proof,
		PublicInputs:   o.Proof.PublicInputs,
	}

	// A run id keeps nonces (so round ids) fresh across runs against the
	// same chain.
	var rid [6]byte
	rand.Read(rid[:])
	runID := hex.EncodeToString(rid[:])

	rep := &Report{Keepers: len(o.Keys), Concurrency: o.Concurrency}
	rep.Before, _ = ScrapeMetrics(ctx, h, url)

	var (
		mu   sync.Mutex
		next atomic.Int64
		wg   sync.WaitGroup
	)
	start := time.Now()
	for c := range o.Concurrency {
		rounds := roundClients[c%len(roundClients)]
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				i := next.Add(1) - 1
				if o.Rounds > 0 && i >= int64(o.Rounds) {
					return
				}
				if o.Duration > 0 && time.Since(start) >= o.Duration {
					return
				}
				r, throttled, firstMsg := oneRound(ctx, rounds, req, fmt.Sprintf("bench-%s-%d", runID, i))
				mu.Lock()
				rep.Rounds = append(rep.Rounds, r)
				rep.Throttled += throttled
				if rep.FirstThrottle == "" {
					rep.FirstThrottle = firstMsg
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	rep.Wall = time.Since(start)
	rep.After, _ = ScrapeMetrics(ctx, h, url)
	for _, k := range keepers {
		s := k.Stats()
		rep.VotesSigned += s.Approvals + s.Rejections + s.Abstains
		rep.VotesAccepted += s.Accepted
		rep.VotesRefused += s.Refused
		rep.VotesLost += s.Lost
	}
	if err := ctx.Err(); err != nil {
		return rep, err
	}
	return rep, nil
}

// oneRound submits one round, retrying while the coordinator refuses it
// for load, and follows it to its decision.
func oneRound(ctx context.Context, rounds lightkeeperv1connect.RoundServiceClient, p *lightkeeperv1.ProofRequest, nonce string) (r Round, throttled int, firstMsg string) {
	backoff := 5 * time.Millisecond
	var t0 time.Time
	var res *connect.Response[lightkeeperv1.SubmitRoundResponse]
	for {
		t0 = time.Now()
		var err error
		res, err = rounds.SubmitRound(ctx, connect.NewRequest(&lightkeeperv1.SubmitRoundRequest{
			Request: &lightkeeperv1.RoundRequest{
				Payload:     &lightkeeperv1.RoundRequest_Proof{Proof: p},
				ClientNonce: nonce,
			},
		}))
		if err == nil {
			break
		}
		if connect.CodeOf(err) != connect.CodeResourceExhausted || ctx.Err() != nil {
			r.Err = fmt.Errorf("submit: %w", err)
			return r, throttled, firstMsg
		}
		if throttled == 0 {
			firstMsg = err.Error()
		}
		throttled++
		select {
		case <-time.After(backoff):
		case <-ctx.Done():
			r.Err = ctx.Err()
			return r, throttled, firstMsg
		}
		backoff = min(2*backoff, 500*time.Millisecond)
	}
	r.ID = res.Msg.GetRound().GetId()
	if !res.Msg.GetCreated() {
		r.Err = fmt.Errorf("round %s already existed (nonce reused)", r.ID)
		return r, throttled, firstMsg
	}
	stream, err := rounds.WatchRound(ctx, connect.NewRequest(&lightkeeperv1.WatchRoundRequest{RoundId: r.ID}))
	if err != nil {
		r.Err = fmt.Errorf("watch: %w", err)
		return r, throttled, firstMsg
	}
	defer stream.Close()
	for stream.Receive() {
		round := stream.Msg().GetRound()
		if round.GetPhase() == lightkeeperv1.RoundPhase_ROUND_PHASE_VOTING {
			continue
		}
		r.Client = time.Since(t0)
		r.Outcome = round.GetOutcome()
		r.Block = round.GetDecidedAt().AsTime().Sub(round.GetSubmittedAt().AsTime())
		return r, throttled, firstMsg
	}
	if err := stream.Err(); err != nil {
		r.Err = fmt.Errorf("watch: %w", err)
	} else {
		r.Err = errors.New("watch ended before a decision")
	}
	return r, throttled, firstMsg
}

// waitOnline polls ListKeepers until every id is online.
func waitOnline(ctx context.Context, ks lightkeeperv1connect.KeeperServiceClient, ids map[string]bool, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		online := 0
		var err error
		// Page through every keeper (a page holds what fits in one
		// response; 10,000 keepers take several).
		for token, pages := "", 0; pages < 1000; pages++ {
			var res *connect.Response[lightkeeperv1.ListKeepersResponse]
			res, err = ks.ListKeepers(ctx, connect.NewRequest(&lightkeeperv1.ListKeepersRequest{PageToken: token}))
			if err != nil {
				break
			}
			for _, k := range res.Msg.GetKeepers() {
				if ids[k.GetId()] && k.GetOnline() {
					online++
				}
			}
			if token = res.Msg.GetNextPageToken(); token == "" {
				break
			}
		}
		if err == nil && online == len(ids) {
			return nil
		}
		if time.Now().After(deadline) {
			if err != nil {
				return fmt.Errorf("keepers not online after %v: %w", timeout, err)
			}
			return fmt.Errorf("%d of %d keepers online after %v (are the keys genesis keepers of this chain?)", online, len(ids), timeout)
		}
		select {
		case <-time.After(50 * time.Millisecond):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// Metrics are samples of the coordinator's Prometheus text exposition,
// keyed by name with labels as written (e.g.
// `lightkeeper_votes_total{status="VOTE_STATUS_ACCEPTED"}`).
type Metrics map[string]float64

// Delta returns after − before for one series; absent series count as 0.
func Delta(before, after Metrics, series string) float64 {
	return after[series] - before[series]
}

// ScrapeMetrics reads the coordinator's /metrics.
func ScrapeMetrics(ctx context.Context, h *http.Client, url string) (Metrics, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url+"/metrics", nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "text/plain")
	res, err := h.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET /metrics: %s", res.Status)
	}
	m := Metrics{}
	sc := bufio.NewScanner(res.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' || !strings.HasPrefix(line, "lightkeeper_") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if i < 0 {
			continue
		}
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			continue
		}
		m[line[:i]] = v
	}
	return m, sc.Err()
}
