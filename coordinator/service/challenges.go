package service

import (
	"context"
	"crypto/rand"
	"fmt"
	mrand "math/rand/v2"
	"path/filepath"
	"sync"
	"time"

	"github.com/lightkeeper-net/lightkeeper/coordinator/challenge"
	"github.com/lightkeeper-net/lightkeeper/coordinator/config"
	"github.com/lightkeeper-net/lightkeeper/coordinator/state"
	lightkeeperv1 "github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1"
	"github.com/lightkeeper-net/lightkeeper/protocol"
	"github.com/lightkeeper-net/lightkeeper/verifier"
	"github.com/lightkeeper-net/lightkeeper/verifier/compute"
	"google.golang.org/protobuf/proto"
)

// Random challenges (docs/challenges.md). The scheduler decides when and
// what; coordinator/challenge makes the material; the state machine
// judges. Nothing here is visible to keepers before a challenge's round
// closes: the submission is an ordinary SubmitRoundTx (the machine strips
// the answer from the block), logs say nothing at Info level, and no
// metric moves when a challenge opens.

// challengeTick is how often the scheduler looks whether one is due.
const challengeTick = 200 * time.Millisecond

// recentJobs is how many client compute jobs compute challenges are drawn
// from (their program, input size and fuel).
const recentJobs = 16

type challenger struct {
	n   *Node
	cfg config.Challenges
	gen *challenge.Generator
	rng *mrand.Rand // scheduling choices only; material uses crypto/rand

	vkIDs map[keyKind]string // registered id of each built-in key

	mu     sync.Mutex
	credit float64 // challenges owed for the client rounds seen
	// Replicated: when this replica opened its challenges in the last
	// hour. The chain accepts max_reveals_per_hour reveals of each
	// challenger per hour; a challenge beyond them could not be revealed.
	opened  []time.Time
	jobs    []recentJob
	checked map[string]*compute.Program
}

type keyKind struct {
	scheme lightkeeperv1.Scheme
	curve  lightkeeperv1.Curve
}

type recentJob struct {
	programID string
	input     []byte // a sample: challenges keep its length and alphabet
	fuel      uint64
}

func newChallenger(n *Node, cfg config.Challenges) *challenger {
	var seed [32]byte
	rand.Read(seed[:])
	return &challenger{n: n, cfg: cfg, rng: mrand.New(mrand.NewChaCha8(seed)), checked: map[string]*compute.Program{}}
}

// observe is called after every block: client rounds earn challenges at
// the configured rate, client compute jobs become templates.
func (c *challenger) observe(res *state.Result) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, ev := range res.Events {
		e, ok := ev.(state.RoundOpened)
		if !ok || e.Round.GetChallenge() != nil || c.n.sealer != nil && c.n.sealer.isOwn(e.Round.GetId()) {
			continue
		}
		c.credit += c.cfg.Rate
		if cr := e.Round.GetRequest().GetCompute(); cr != nil {
			if len(c.jobs) == recentJobs {
				c.jobs = c.jobs[1:]
			}
			c.jobs = append(c.jobs, recentJob{programID: cr.GetProgramId(), input: cr.GetInput(), fuel: cr.GetFuel()})
		}
	}
}

// run sets the generator up (keys persist in the data directory), registers
// its verifying keys and then opens challenges until ctx ends.
func (c *challenger) run(ctx context.Context) {
	log := c.n.log
	start := time.Now()
	gen, err := challenge.New(challenge.Options{
		Dir:       filepath.Join(c.n.dataDir, "challenges"),
		CPUBudget: c.cfg.CPUBudget,
		// Compute challenges are seeded, like every compute run, with
		// their round's id.
		RoundID: func(req *lightkeeperv1.RoundRequest) string { return protocol.RoundID(c.n.chainID, req) },
	})
	if err != nil {
		log.Error("random challenges disabled: cannot set up their circuits", "err", err)
		return
	}
	defer gen.Close(context.Background())
	c.gen = gen
	c.vkIDs = map[keyKind]string{}
	for _, k := range gen.Keys() {
		vk, _, err := c.n.registerVerifyingKey(ctx, lightkeeperv1.Scheme(k.Scheme), lightkeeperv1.Curve(k.Curve), k.VerifyingKey)
		if err != nil {
			if ctx.Err() == nil {
				log.Error("random challenges disabled: cannot register a built-in key", "scheme", k.Scheme, "curve", k.Curve, "err", err)
			}
			return
		}
		c.vkIDs[keyKind{lightkeeperv1.Scheme(k.Scheme), lightkeeperv1.Curve(k.Curve)}] = vk.GetId()
	}
	log.Info("random challenges on", "rate", c.cfg.Rate, "interval", c.cfg.IntervalDuration(), "cpu_budget", c.cfg.CPUBudget,
		"setup", time.Since(start).Round(time.Millisecond))
	gen.Start(ctx)

	last := time.Now()
	wait := c.nextWait()
	t := time.NewTicker(challengeTick)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-c.n.stopped:
			return
		case <-t.C:
		}
		c.mu.Lock()
		due := c.credit >= 1 || time.Since(last) >= wait
		c.mu.Unlock()
		if !due || !c.underQuota() {
			continue
		}
		opened, err := c.open(ctx)
		if err != nil {
			log.Debug("challenge not opened", "err", err)
		}
		if !opened {
			continue // material not ready or nobody to ask: try next tick
		}
		c.mu.Lock()
		c.credit = max(c.credit-1, 0)
		if c.n.repl != nil {
			c.opened = append(c.opened, time.Now())
		}
		c.mu.Unlock()
		last, wait = time.Now(), c.nextWait()
	}
}

// underQuota reports whether a replica may open one more challenge:
// fewer than params.challenges.max_reveals_per_hour opened in the last
// hour (always true on a single node). The chain counts hours of block
// time, so this local count is a cautious stand-in, not the rule.
func (c *challenger) underQuota() bool {
	rules := c.n.challengeRules
	if c.n.repl == nil || rules == nil {
		return true
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	cut := time.Now().Add(-time.Hour)
	i := 0
	for i < len(c.opened) && c.opened[i].Before(cut) {
		i++
	}
	c.opened = c.opened[i:]
	return len(c.opened) < int(rules.GetMaxRevealsPerHour())
}

// nextWait draws the idle wait uniformly from [interval/2, 3·interval/2),
// so that challenges do not arrive on a visible beat.
func (c *challenger) nextWait() time.Duration {
	iv := c.cfg.IntervalDuration()
	return iv/2 + time.Duration(c.rng.Int64N(int64(iv)))
}

// open submits one challenge. It reports false with a nil error when no
// material is ready.
func (c *challenger) open(ctx context.Context) (bool, error) {
	var eligible, candidates bool
	c.n.readMachine(func(m *state.Machine) {
		candidates = m.HasCandidates()
		for _, k := range m.Keepers() {
			if k.GetActive() && k.GetOnline() {
				eligible = true
				break
			}
		}
	})
	if !eligible && !candidates {
		return false, nil
	}
	toCandidates := candidates && (!eligible || c.rng.IntN(2) == 0)

	var mat challenge.Material
	var ok bool
	if c.rng.Float64() < c.cfg.ComputeShare {
		var err error
		mat, ok, err = c.computeMaterial(ctx)
		if err != nil {
			return false, err
		}
	}
	if !ok {
		if mat, ok = c.gen.Take(); !ok {
			return false, nil
		}
		p := mat.Request.GetProof()
		id := c.vkIDs[keyKind{p.GetScheme(), p.GetCurve()}]
		if id == "" {
			return false, fmt.Errorf("no registered key for %s", mat.Label)
		}
		p.VerifyingKeyId = id
	}
	answer := &lightkeeperv1.ChallengeAnswer{ResultHash: mat.ResultHash, Candidates: toCandidates,
		Kind: lightkeeperv1.VoteKind_VOTE_KIND_REJECT}
	if mat.Approve {
		answer.Kind = lightkeeperv1.VoteKind_VOTE_KIND_APPROVE
	}
	if mat.Compute != nil {
		answer.Result = proto.Clone(mat.Compute).(*lightkeeperv1.ComputeResult)
		answer.Result.Output = nil
	}
	var res state.TxResult
	var err error
	if c.n.repl != nil {
		res, err = c.n.OpenSealedChallenge(ctx, mat.Request, answer)
	} else {
		res, err = c.n.submit(ctx, &lightkeeperv1.Transaction{Kind: &lightkeeperv1.Transaction_SubmitRound{
			SubmitRound: &lightkeeperv1.SubmitRoundTx{Request: mat.Request, Challenge: answer}}})
	}
	if err == nil {
		err = res.Err
	}
	if err != nil {
		return false, fmt.Errorf("%s: %w", mat.Label, err)
	}
	c.n.log.Debug("challenge opened", "round", res.RoundID, "label", mat.Label, "candidates", toCandidates)
	return true, nil
}

// computeMaterial makes a compute challenge from a recent client job: the
// same program and fuel, a fresh input like the client's. ok is false when there
// is no job to draw from.
func (c *challenger) computeMaterial(ctx context.Context) (challenge.Material, bool, error) {
	c.mu.Lock()
	if len(c.jobs) == 0 {
		c.mu.Unlock()
		return challenge.Material{}, false, nil
	}
	job := c.jobs[c.rng.IntN(len(c.jobs))]
	p := c.checked[job.programID]
	c.mu.Unlock()
	if p == nil {
		rec, err := c.n.store.Program(job.programID, true)
		if err != nil {
			return challenge.Material{}, false, err
		}
		if p, err = compute.Check(rec.GetModule(), compute.Limits(protocol.ComputeLimitsOf(c.n.computeParams))); err != nil {
			return challenge.Material{}, false, err
		}
		c.mu.Lock()
		if len(c.checked) >= recentJobs {
			clear(c.checked)
		}
		c.checked[job.programID] = p
		c.mu.Unlock()
	}
	// An input like the client's (length and byte alphabet): random bytes
	// would look nothing like a text program's jobs and all get the same
	// refusal.
	m, err := c.gen.ComputeWith(ctx, p, job.programID, challenge.LikeInput(job.input), job.fuel)
	if err != nil {
		return challenge.Material{}, false, err
	}
	return m, true, nil
}

// registerVerifyingKey registers a key unless it is registered already.
// The key is parsed here to refuse it early; the machine parses it again
// (a cache hit) and takes nothing on this function's word.
//
// A key already registered under another scheme or curve (or with an
// invalid one) is refused with InvalidArgument naming the contradiction.
func (n *Node) registerVerifyingKey(ctx context.Context, scheme lightkeeperv1.Scheme, curve lightkeeperv1.Curve, key []byte) (*lightkeeperv1.VerifyingKey, bool, error) {
	if !verifier.Scheme(scheme).Valid() {
		return nil, false, invalidArgument("scheme: %v is not a supported scheme", scheme)
	}
	if !verifier.Curve(curve).Valid() {
		return nil, false, invalidArgument("curve: %v is not a supported curve", curve)
	}
	if vk, err := n.store.VerifyingKey(protocol.VerifyingKeyID(key)); err == nil {
		if vk.GetScheme() != scheme {
			return nil, false, invalidArgument("scheme: %s, but key %s is registered as %s", verifier.Scheme(scheme), vk.GetId(), verifier.Scheme(vk.GetScheme()))
		}
		if vk.GetCurve() != curve {
			return nil, false, invalidArgument("curve: %s, but key %s is registered on %s", verifier.Curve(curve), vk.GetId(), verifier.Curve(vk.GetCurve()))
		}
		return vk, false, nil
	}
	// The machine parses the key itself; parsing it here refuses a bad key
	// early, with the verifier's reason, and fills the machine's cache.
	if _, err := state.CheckVerifyingKey(scheme, curve, key, n.sizeLimits); err != nil {
		return nil, false, invalidArgument("key: %v", err)
	}
	res, err := n.submit(ctx, &lightkeeperv1.Transaction{Kind: &lightkeeperv1.Transaction_RegisterVerifyingKey{
		RegisterVerifyingKey: &lightkeeperv1.RegisterVerifyingKeyTx{Scheme: scheme, Curve: curve, Key: key},
	}})
	if err == nil {
		err = res.Err
	}
	if err != nil {
		return nil, false, toConnect(err)
	}
	n.registeredBytes.Add(int64(len(key)))
	return res.VerifyingKey, true, nil
}
