package challenge

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math"
	"math/big"
	"slices"
	"sync"
	"time"

	"github.com/lightkeeper-net/lightkeeper/coordinator/challenge/keys"
	lightkeeperv1 "github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1"
	"github.com/lightkeeper-net/lightkeeper/protocol"
	"github.com/lightkeeper-net/lightkeeper/verifier"
	"github.com/lightkeeper-net/lightkeeper/verifier/compute"
)

// Material is one challenge, ready to submit.
type Material struct {
	// Request is the round to open: a Proof or a Compute payload and a
	// ClientNonce of NonceBytes random bytes in hex. For proofs
	// VerifyingKeyId is "": the caller fills it in from the key it
	// registered for Keys()[KeyIndex]. Nothing else may change: a compute
	// answer holds only for the round id of this exact request.
	Request *lightkeeperv1.RoundRequest
	// Approve is the correct vote kind: true APPROVE, false REJECT.
	Approve bool
	// ResultHash is 32 bytes: all zero for proofs, compute.ResultHash of
	// the result for compute.
	ResultHash []byte
	// Compute is the result as keeper.ComputeVerdict builds it for the
	// leader (output included); nil for proofs.
	Compute *lightkeeperv1.ComputeResult
	// Label names the kind of challenge, e.g. "groth16/bn254/valid",
	// "plonk/bls12_381/wrong-input", "groth16/bn254/tampered-proof" or
	// "compute/<first 12 digits of the program id>"; for metrics and logs
	// only.
	Label string
	// KeyIndex is the index in Keys() of the verifying key a proof
	// challenge is for; -1 for compute.
	KeyIndex int
	// RoundID is, for compute, the round id the answer was computed for
	// (Options.RoundID of Request; the run's seed); "" for proofs.
	RoundID string
	// Cost is the wall time spent producing it, the self-check included.
	Cost time.Duration
}

// Key is a built-in circuit's verifying key, to register once.
type Key struct {
	Scheme       verifier.Scheme
	Curve        verifier.Curve
	VerifyingKey []byte // gnark binary (WriteTo)
	NumPublic    int
	// Name is the circuit's name (Circuit.Name), the prefix of its labels.
	Name string
	// Loaded reports that the keys came from Options.Dir; false means they
	// were just made (and saved there if Dir is set): a new key to
	// register.
	Loaded bool
	// Setup is the time it took to set the circuit up or load it.
	Setup time.Duration
}

// Circuit is a built-in circuit: package keys' circuit (knowledge of
// X with Y = X³+X+5 and Z from a chain of squarings, Y and Z public).
type Circuit struct {
	Scheme verifier.Scheme
	Curve  verifier.Curve
	// Constraints: 0 for the small circuit (5 R1CS / 6 PLONK
	// constraints); otherwise about this many (keys.Config), which
	// makes proving, not verifying, slower.
	Constraints int
	// Commit adds a BSB22 commitment (gnark's api.Commit), which changes
	// the shape of the proof and the key.
	Commit bool
}

// Name is "<scheme>/<curve>", then "/n<constraints>" and "/commit" when
// set: "groth16/bn254", "plonk/bls12_381/n1000/commit".
func (c Circuit) Name() string {
	s := c.Scheme.String() + "/" + c.Curve.String()
	if c.Constraints > 0 {
		s += fmt.Sprintf("/n%d", c.Constraints)
	}
	if c.Commit {
		s += "/commit"
	}
	return s
}

// DefaultCircuits are the four scheme × curve small circuits.
func DefaultCircuits() []Circuit {
	return []Circuit{
		{Scheme: verifier.SchemeGroth16, Curve: verifier.CurveBN254},
		{Scheme: verifier.SchemeGroth16, Curve: verifier.CurveBLS12_381},
		{Scheme: verifier.SchemePlonk, Curve: verifier.CurveBN254},
		{Scheme: verifier.SchemePlonk, Curve: verifier.CurveBLS12_381},
	}
}

// Options configure a Generator. Zero values mean the defaults.
type Options struct {
	// Dir is where the built-in circuits' keys persist across restarts
	// ("" = in memory only: new keys on every start).
	Dir string
	// CPUBudget is the fraction of one core the background generator may
	// use, in (0, 1]; default DefaultCPUBudget.
	CPUBudget float64
	// Ahead is how many ready materials are kept per label; default
	// DefaultAhead.
	Ahead int
	// Rand is the source of secrets, nonces, tampering and choices, and
	// must be uniformly random; default crypto/rand. (gnark draws its
	// proofs' blinding factors from crypto/rand regardless.)
	Rand io.Reader
	// Circuits are the built-in circuits; default DefaultCircuits().
	Circuits []Circuit
	// RoundID returns the id of the round a request opens (in the
	// coordinator: protocol.RoundID with its chain id). A compute run is
	// seeded with its round id (random_get), so a compute challenge of a
	// program that imports random_get — every Go program does — needs it.
	RoundID func(*lightkeeperv1.RoundRequest) string
	// Engine runs compute challenges; nil makes the Generator start its
	// own on first use (Close closes it).
	Engine *compute.Engine
}

// Defaults.
const (
	DefaultCPUBudget = 0.10
	DefaultAhead     = 4
	// NonceBytes is the number of random bytes of a challenge's
	// ClientNonce (in hex): as many as the CLI's (cmd/lightkeeper
	// randomNonce), since the ledger shows nonces.
	NonceBytes = 12
)

// variant is a kind of proof challenge.
type variant int

const (
	variantValid variant = iota
	variantWrongInput
	variantTampered
	numVariants
)

var variantNames = [numVariants]string{"valid", "wrong-input", "tampered-proof"}

// label is one kind of challenge with its ready queue and statistics.
type label struct {
	name    string
	circuit int // index in Generator.fixtures; -1 for compute
	variant variant
	queue   []Material
	stats   LabelStats
}

// Generator produces challenge material. It is safe for concurrent use.
type Generator struct {
	opts     Options
	rand     io.Reader // opts.Rand behind a mutex
	circuits []Circuit
	fixtures []*keys.Fixture
	keys     []Key

	mu      sync.Mutex
	labels  []*label          // proof labels: circuit-major, variant-minor
	compute map[string]*label // compute labels by name
	next    int               // where the fill loop's round robin resumes
	debt    time.Duration     // work done outside the fill loop, still to be paced
	running bool
	kick    chan struct{} // a Take made room (capacity 1)
	done    chan struct{} // closed when the current fill loop returns

	engineMu  sync.Mutex
	engine    *compute.Engine
	ownEngine bool
}

// New loads the built-in circuits' keys from opts.Dir, or sets them up
// (and saves them there), and checks each circuit by proving and verifying
// once.
func New(opts Options) (*Generator, error) {
	switch b := opts.CPUBudget; {
	case b == 0:
		opts.CPUBudget = DefaultCPUBudget
	case math.IsNaN(b) || b < 0 || b > 1:
		return nil, fmt.Errorf("challenge: CPUBudget %v: want a fraction of one core in (0, 1]", b)
	}
	switch {
	case opts.Ahead == 0:
		opts.Ahead = DefaultAhead
	case opts.Ahead < 0:
		return nil, fmt.Errorf("challenge: Ahead %d: want a positive number of materials per label", opts.Ahead)
	}
	if opts.Rand == nil {
		opts.Rand = rand.Reader
	}
	circuits := slices.Clone(opts.Circuits)
	if len(circuits) == 0 {
		circuits = DefaultCircuits()
	}
	seen := map[string]bool{}
	for i, c := range circuits {
		if !c.Scheme.Valid() || !c.Curve.Valid() || c.Constraints < 0 {
			return nil, fmt.Errorf("challenge: Circuits[%d]: %s is not a supported circuit", i, c.Name())
		}
		if seen[c.Name()] {
			return nil, fmt.Errorf("challenge: Circuits[%d]: %s is listed twice", i, c.Name())
		}
		seen[c.Name()] = true
	}
	g := &Generator{
		opts:     opts,
		rand:     &lockedReader{r: opts.Rand},
		circuits: circuits,
		compute:  map[string]*label{},
		kick:     make(chan struct{}, 1),
	}
	for i, c := range circuits {
		f, key, err := loadOrSetup(opts.Dir, c)
		if err != nil {
			return nil, err
		}
		if err := g.selfTest(f, key); err != nil {
			return nil, fmt.Errorf("challenge: circuit %s%s: %w", c.Name(), fromFile(opts.Dir, c, key.Loaded), err)
		}
		g.fixtures = append(g.fixtures, f)
		g.keys = append(g.keys, key)
		for v := range numVariants {
			name := c.Name() + "/" + variantNames[v]
			g.labels = append(g.labels, &label{name: name, circuit: i, variant: v, stats: LabelStats{Label: name}})
		}
	}
	return g, nil
}

// selfTest checks a circuit's keys the way the coordinator and keepers
// will use them: the verifying key parses with the expected number of
// public inputs, and a fresh proof verifies.
func (g *Generator) selfTest(f *keys.Fixture, key Key) error {
	n, err := verifier.CheckVerifyingKey(key.Scheme, key.Curve, key.VerifyingKey, protocol.Limits{})
	if err != nil {
		return fmt.Errorf("verifying key: %w", err)
	}
	if n != key.NumPublic {
		return fmt.Errorf("verifying key takes %d public inputs, the circuit has %d", n, key.NumPublic)
	}
	x, err := f.RandomSecret(g.rand)
	if err != nil {
		return err
	}
	p, err := f.ProveSecret(x)
	if err != nil {
		return err
	}
	if v := verifier.VerifyProof(f.Job(p), protocol.Limits{}); v.Vote != protocol.VoteApprove {
		return fmt.Errorf("a fresh proof does not verify (%v): the proving and verifying keys do not match", v)
	}
	return nil
}

// Keys returns the built-in verifying keys, in the order of
// Options.Circuits (default: groth16/bn254, groth16/bls12_381, plonk/bn254,
// plonk/bls12_381).
func (g *Generator) Keys() []Key {
	out := make([]Key, len(g.keys))
	for i, k := range g.keys {
		k.VerifyingKey = slices.Clone(k.VerifyingKey)
		out[i] = k
	}
	return out
}

// Labels returns the proof challenge labels, in Stats order.
func (g *Generator) Labels() []string {
	out := make([]string, len(g.labels))
	for i, l := range g.labels {
		out[i] = l.name
	}
	return out
}

// Take returns a ready proof challenge, without blocking, or false if none
// is ready. It picks valid or invalid with equal probability, then a label
// of that class uniformly among those with material ready (the other class
// if that one has none), and hands out the oldest material of that label.
// Each material is handed out once.
func (g *Generator) Take() (Material, bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	valid := g.intn(2) == 0
	for _, wantValid := range []bool{valid, !valid} {
		var ready []*label
		for _, l := range g.labels {
			if len(l.queue) > 0 && (l.variant == variantValid) == wantValid {
				ready = append(ready, l)
			}
		}
		if len(ready) == 0 {
			continue
		}
		l := ready[g.intn(len(ready))]
		m := l.queue[0]
		l.queue[0] = Material{}
		l.queue = l.queue[1:]
		l.stats.Taken++
		select {
		case g.kick <- struct{}{}:
		default:
		}
		return m, true
	}
	return Material{}, false
}

// Generate produces one proof challenge of the given label (one of
// Labels()) now, in the caller's goroutine. Its cost counts against the
// CPU budget: the background loop rests that much longer.
func (g *Generator) Generate(labelName string) (Material, error) {
	var l *label
	for _, x := range g.labels {
		if x.name == labelName {
			l = x
		}
	}
	if l == nil {
		return Material{}, fmt.Errorf("challenge: no proof label %q (see Labels)", labelName)
	}
	m, err := g.produce(l)
	g.mu.Lock()
	g.debt += m.Cost
	if err == nil {
		l.stats.Taken++
	}
	g.mu.Unlock()
	return m, err
}

// produce makes one proof material for l and records it in l's
// statistics (not in its queue). On error, Cost still holds the time
// spent.
func (g *Generator) produce(l *label) (Material, error) {
	start := time.Now()
	m, err := g.proofMaterial(l)
	m.Cost = time.Since(start)
	g.mu.Lock()
	l.stats.record(m.Cost, err)
	g.mu.Unlock()
	if err != nil {
		return Material{Cost: m.Cost}, fmt.Errorf("challenge: %s: %w", l.name, err)
	}
	return m, nil
}

func (g *Generator) proofMaterial(l *label) (Material, error) {
	f := g.fixtures[l.circuit]
	x, err := f.RandomSecret(g.rand)
	if err != nil {
		return Material{}, err
	}
	p, err := f.ProveSecret(x)
	if err != nil {
		return Material{}, err
	}
	switch l.variant {
	case variantWrongInput:
		p, err = keys.ReplacePublicInput(p, g.rand)
	case variantTampered:
		p, err = keys.TamperPoint(p, g.rand)
	}
	if err != nil {
		return Material{}, err
	}
	// Check the answer with the keepers' own verifier before anyone is
	// judged by it: a wrong answer would punish honest keepers, and the
	// check costs a fraction of the proving.
	approve := l.variant == variantValid
	v := verifier.VerifyProof(f.Job(p), protocol.Limits{})
	if approve && v.Vote != protocol.VoteApprove || !approve && (v.Vote != protocol.VoteReject || v.Reason != verifier.ReasonInvalidProof) {
		return Material{}, fmt.Errorf("self-check: the verifier says %v", v)
	}
	nonce, err := g.nonce()
	if err != nil {
		return Material{}, err
	}
	return Material{
		Request: &lightkeeperv1.RoundRequest{
			Payload: &lightkeeperv1.RoundRequest_Proof{Proof: &lightkeeperv1.ProofRequest{
				Scheme:       lightkeeperv1.Scheme(f.Scheme),
				Curve:        lightkeeperv1.Curve(f.Curve),
				Proof:        p.Proof,
				PublicInputs: p.PublicInputs,
			}},
			ClientNonce: nonce,
		},
		Approve:    approve,
		ResultHash: make([]byte, 32),
		Label:      l.name,
		KeyIndex:   l.circuit,
	}, nil
}

// nonce returns NonceBytes random bytes in hex.
func (g *Generator) nonce() (string, error) {
	var b [NonceBytes]byte
	if _, err := io.ReadFull(g.rand, b[:]); err != nil {
		return "", fmt.Errorf("random nonce: %w", err)
	}
	return hex.EncodeToString(b[:]), nil
}

// intn returns a uniform integer in [0, n) from the generator's source; 0
// if the source fails (a choice among ready materials is not worth
// failing for).
func (g *Generator) intn(n int) int {
	if n <= 1 {
		return 0
	}
	v, err := rand.Int(g.rand, big.NewInt(int64(n)))
	if err != nil {
		return 0
	}
	return int(v.Int64())
}

// LabelStats are one label's figures.
type LabelStats struct {
	Label string
	// Generated counts materials made; Failed counts attempts that failed
	// (LastError says why).
	Generated, Failed uint64
	// Taken counts materials handed out (Take, Generate, Compute).
	Taken uint64
	// Ready is how many wait in the queue.
	Ready int
	// TotalCost is the wall time of every attempt, failed ones included;
	// MeanCost is TotalCost over the attempts.
	TotalCost, MeanCost time.Duration
	LastError           string
}

func (s *LabelStats) record(cost time.Duration, err error) {
	s.TotalCost += cost
	if err != nil {
		s.Failed++
		s.LastError = err.Error()
		return
	}
	s.Generated++
}

// Stats returns every label's figures: the proof labels in Labels()
// order, then the compute labels by name.
func (g *Generator) Stats() []LabelStats {
	g.mu.Lock()
	defer g.mu.Unlock()
	out := make([]LabelStats, 0, len(g.labels)+len(g.compute))
	add := func(l *label) {
		s := l.stats
		s.Ready = len(l.queue)
		if n := s.Generated + s.Failed; n > 0 {
			s.MeanCost = s.TotalCost / time.Duration(n)
		}
		out = append(out, s)
	}
	for _, l := range g.labels {
		add(l)
	}
	names := make([]string, 0, len(g.compute))
	for n := range g.compute {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		add(g.compute[n])
	}
	return out
}

// lockedReader serialises reads: Options.Rand need not be safe for
// concurrent use, and the fill loop, Take, Generate and Compute share it.
type lockedReader struct {
	mu sync.Mutex
	r  io.Reader
}

func (l *lockedReader) Read(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	n, err := l.r.Read(p)
	if n == 0 && err == nil && len(p) > 0 {
		// A reader that returns nothing forever would make io.ReadFull spin.
		err = errors.New("challenge: the random source returned no bytes")
	}
	return n, err
}
