package service

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/lightkeeper-net/lightkeeper/coordinator/state"
)

// metrics live in a registry of the node's own, so several nodes can run
// in one process (tests, devnet) without colliding.
type metrics struct {
	registry        *prometheus.Registry
	height          prometheus.Gauge
	blockTxs        prometheus.Histogram
	blockSeconds    prometheus.Histogram
	roundsOpened    prometheus.Counter
	roundsDecided   *prometheus.CounterVec
	decisionSeconds prometheus.Histogram
	votes           *prometheus.CounterVec
	evidence        prometheus.Counter
	challenges      *prometheus.CounterVec
	rateLimited     prometheus.Counter
	halted          prometheus.Gauge
}

func newMetrics() *metrics {
	r := prometheus.NewRegistry()
	m := &metrics{
		registry: r,
		height: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "lightkeeper_block_height", Help: "Height of the last committed block."}),
		blockTxs: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "lightkeeper_block_transactions", Help: "Transactions per block.",
			Buckets: prometheus.ExponentialBuckets(1, 4, 8)}),
		blockSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "lightkeeper_block_commit_seconds", Help: "Time to apply and durably commit a block.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14)}),
		roundsOpened: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "lightkeeper_rounds_opened_total", Help: "Rounds accepted and opened."}),
		roundsDecided: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "lightkeeper_rounds_decided_total", Help: "Rounds decided, by outcome."}, []string{"outcome"}),
		decisionSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "lightkeeper_round_decision_seconds", Help: "Block time from a round's submission to its decision.",
			Buckets: prometheus.ExponentialBuckets(0.005, 2, 14)}),
		votes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "lightkeeper_votes_total", Help: "Votes received, by status."}, []string{"status"}),
		challenges: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "lightkeeper_challenges_revealed_total", Help: "Random challenges whose rounds closed, by answer."}, []string{"answer"}),
		evidence: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "lightkeeper_equivocations_total", Help: "Equivocation evidence recorded."}),
		rateLimited: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "lightkeeper_rate_limited_total", Help: "Requests refused by the rate limiter."}),
		halted: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "lightkeeper_consensus_halted", Help: "1 once this replica's consensus has halted (it serves stale state and commits nothing), else 0."}),
	}
	r.MustRegister(m.height, m.blockTxs, m.blockSeconds, m.roundsOpened, m.roundsDecided,
		m.decisionSeconds, m.votes, m.evidence, m.rateLimited, m.challenges, m.halted,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// blockApplied counts a block's votes and rounds. It runs before the block
// is written: once it is in the store a reader may see a decision, and a
// scrape after that must already count it. A failed write stops the node.
func (m *metrics) blockApplied(res *state.Result) {
	m.blockTxs.Observe(float64(len(res.Block.GetTransactions())))
	for i, tx := range res.Block.GetTransactions() {
		if tx.GetCastVote() != nil {
			m.votes.WithLabelValues(res.TxResults[i].VoteStatus.String()).Inc()
		}
	}
	for _, ev := range res.Events {
		switch e := ev.(type) {
		case state.RoundOpened:
			m.roundsOpened.Inc()
		case state.RoundDecided:
			m.roundsDecided.WithLabelValues(e.Round.GetOutcome().String()).Inc()
			d := e.Round.GetDecidedAt().AsTime().Sub(e.Round.GetSubmittedAt().AsTime())
			m.decisionSeconds.Observe(d.Seconds())
		case state.EquivocationDetected:
			m.evidence.Inc()
		case state.ChallengeRevealed:
			// Counted at the reveal, never at the opening: a metric that
			// moved when a challenge opened would tell keepers which
			// round it is.
			m.challenges.WithLabelValues(e.Answer.GetKind().String()).Inc()
		}
	}
}

func (m *metrics) blockCommitted(res *state.Result, took time.Duration) {
	m.height.Set(float64(res.Block.GetHeader().GetHeight()))
	m.blockSeconds.Observe(took.Seconds())
}
