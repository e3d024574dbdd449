package challenge

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/big"
	"slices"
	"strconv"
	"time"

	lightkeeperv1 "github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1"
	"github.com/lightkeeper-net/lightkeeper/verifier/compute"
)

// InputFunc makes a fresh job input from a random source.
type InputFunc func(r io.Reader) ([]byte, error)

// RandomBytes makes inputs of n uniformly random bytes.
func RandomBytes(n int) InputFunc {
	return func(r io.Reader) ([]byte, error) {
		if n < 0 {
			return nil, fmt.Errorf("input length %d is negative", n)
		}
		b := make([]byte, n)
		if _, err := io.ReadFull(r, b); err != nil {
			return nil, fmt.Errorf("random input: %w", err)
		}
		return b, nil
	}
}

// DecimalInput makes inputs that are a uniformly random integer in
// [lo, hi] in decimal: what a program reading a number (examples/primes)
// gets from a client. Random bytes would make
// such a program fail its parse the same way every time, an answer a
// keeper could learn.
func DecimalInput(lo, hi uint64) InputFunc {
	return func(r io.Reader) ([]byte, error) {
		if lo > hi {
			return nil, fmt.Errorf("decimal input range [%d, %d] is empty", lo, hi)
		}
		span := new(big.Int).SetUint64(hi - lo)
		span.Add(span, big.NewInt(1))
		v, err := rand.Int(r, span)
		if err != nil {
			return nil, fmt.Errorf("random input: %w", err)
		}
		return strconv.AppendUint(nil, lo+v.Uint64(), 10), nil
	}
}

// LikeInput makes inputs of sample's length whose bytes are drawn
// uniformly from the bytes sample uses: from a client's decimal limit
// "150000", random strings of the digits 0, 1 and 5. Random bytes of the
// right length would tell a challenge from the client jobs it imitates
// (and a program that parses its input would refuse them all alike); this
// keeps the length and the alphabet of a real job without repeating it.
// An empty sample makes empty inputs.
func LikeInput(sample []byte) InputFunc {
	var alphabet []byte
	var seen [256]bool
	for _, c := range sample {
		if !seen[c] {
			seen[c] = true
			alphabet = append(alphabet, c)
		}
	}
	n := len(sample)
	return func(r io.Reader) ([]byte, error) {
		out := make([]byte, n)
		if len(alphabet) <= 1 {
			copy(out, sample)
			return out, nil
		}
		size := big.NewInt(int64(len(alphabet)))
		for i := range out {
			v, err := rand.Int(r, size)
			if err != nil {
				return nil, fmt.Errorf("random input: %w", err)
			}
			out[i] = alphabet[v.Int64()]
		}
		return out, nil
	}
}

// Compute returns a compute challenge: a fresh random input of inputLen
// bytes for the program, run once here; the answer is the run's result
// (a trap is answered REJECT with the trap's result hash, as
// keeper.ComputeVerdict votes). p is the program as the coordinator
// checked it at registration, with the limits keepers get (they decide
// traps such as output_limit); programID is its id. The run's cost counts
// against the CPU budget: the background loop rests that much longer.
func (g *Generator) Compute(ctx context.Context, p *compute.Program, programID string, inputLen int, fuel uint64) (Material, error) {
	if inputLen < 0 {
		return Material{}, fmt.Errorf("challenge: compute: input length %d is negative", inputLen)
	}
	return g.ComputeWith(ctx, p, programID, RandomBytes(inputLen), fuel)
}

// ComputeWith is Compute with the input made by input (see DecimalInput
// and LikeInput).
func (g *Generator) ComputeWith(ctx context.Context, p *compute.Program, programID string, input InputFunc, fuel uint64) (Material, error) {
	start := time.Now()
	if p == nil || len(p.Metered) == 0 {
		return Material{}, errors.New("challenge: compute: no program")
	}
	if programID != p.ID.String() {
		return Material{}, fmt.Errorf("challenge: compute: program id %q is not the program's id %s", programID, p.ID)
	}
	if input == nil {
		return Material{}, errors.New("challenge: compute: no input function")
	}
	if fuel == 0 || fuel > p.Limits.MaxFuel {
		return Material{}, fmt.Errorf("challenge: compute: fuel %d, want 1..%d (the program's limit)", fuel, p.Limits.MaxFuel)
	}
	l := g.computeLabel("compute/" + programID[:12])
	m, err := g.computeMaterial(ctx, p, programID, input, fuel)
	m.Cost = time.Since(start)
	g.mu.Lock()
	g.debt += m.Cost
	l.stats.record(m.Cost, err)
	if err == nil {
		l.stats.Taken++
	}
	g.mu.Unlock()
	if err != nil {
		return Material{Cost: m.Cost}, fmt.Errorf("challenge: %s: %w", l.name, err)
	}
	m.Label = l.name
	return m, nil
}

func (g *Generator) computeMaterial(ctx context.Context, p *compute.Program, programID string, input InputFunc, fuel uint64) (Material, error) {
	in, err := input(g.rand)
	if err != nil {
		return Material{}, err
	}
	nonce, err := g.nonce()
	if err != nil {
		return Material{}, err
	}
	req := &lightkeeperv1.RoundRequest{
		Payload: &lightkeeperv1.RoundRequest_Compute{Compute: &lightkeeperv1.ComputeRequest{
			ProgramId: programID, Input: in, Fuel: fuel,
		}},
		ClientNonce: nonce,
	}
	// Keepers seed the run with the round id (random_get's stream), so the
	// answer is computed for the round this exact request opens.
	var seed [32]byte
	roundID := ""
	switch {
	case g.opts.RoundID != nil:
		roundID = g.opts.RoundID(req)
		b, err := hex.DecodeString(roundID)
		if err != nil || len(b) != len(seed) {
			return Material{}, fmt.Errorf("Options.RoundID returned %q, not 64 hex digits", roundID)
		}
		copy(seed[:], b)
	case slices.Contains(p.Imports, "random_get"):
		return Material{}, errors.New("the program imports random_get, whose stream is seeded by the round id: set Options.RoundID")
	}
	eng, err := g.computeEngine(ctx)
	if err != nil {
		return Material{}, err
	}
	res, err := eng.Run(ctx, p, in, fuel, seed, compute.Options{})
	if err != nil {
		// A local failure (the context, the engine): there is no answer,
		// as a keeper would abstain.
		return Material{}, fmt.Errorf("run: %w", err)
	}
	// As keeper.ComputeVerdict(res, true) builds it: the leader's result,
	// output included, APPROVE for a clean run and REJECT for a trap.
	oh := compute.OutputHash(res.Output)
	rh := compute.ResultHash(res)
	return Material{
		Request:    req,
		Approve:    res.Trap == compute.TrapNone,
		ResultHash: rh[:],
		Compute: &lightkeeperv1.ComputeResult{
			OutputHash: oh[:], ExitCode: res.ExitCode, FuelUsed: res.FuelUsed, Trap: uint32(res.Trap), Output: res.Output,
		},
		KeyIndex: -1,
		RoundID:  roundID,
	}, nil
}

// computeLabel returns the compute label named name, creating it.
func (g *Generator) computeLabel(name string) *label {
	g.mu.Lock()
	defer g.mu.Unlock()
	l := g.compute[name]
	if l == nil {
		l = &label{name: name, circuit: -1, stats: LabelStats{Label: name}}
		g.compute[name] = l
	}
	return l
}

// computeEngine returns Options.Engine, or the generator's own engine,
// started on first use.
func (g *Generator) computeEngine(ctx context.Context) (*compute.Engine, error) {
	if g.opts.Engine != nil {
		return g.opts.Engine, nil
	}
	g.engineMu.Lock()
	defer g.engineMu.Unlock()
	if g.engine == nil {
		e, err := compute.NewEngine(context.WithoutCancel(ctx), compute.EngineConfig{CacheSize: 8})
		if err != nil {
			return nil, fmt.Errorf("compute engine: %w", err)
		}
		g.engine, g.ownEngine = e, true
	}
	return g.engine, nil
}

// Close releases the compute engine the generator started (not
// Options.Engine). The fill loop stops with its context, not here.
func (g *Generator) Close(ctx context.Context) error {
	g.engineMu.Lock()
	defer g.engineMu.Unlock()
	if g.engine == nil || !g.ownEngine {
		return nil
	}
	err := g.engine.Close(ctx)
	g.engine = nil
	return err
}
