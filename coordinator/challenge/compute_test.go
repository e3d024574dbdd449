package challenge

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"strings"
	"sync"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/lightkeeper-net/lightkeeper/devtools/exampleprog"
	"github.com/lightkeeper-net/lightkeeper/keeper"
	lightkeeperv1 "github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1"
	"github.com/lightkeeper-net/lightkeeper/verifier/compute"
)

// roundIDOn is protocol.RoundID: hex SHA-256("lightkeeper/round/v1\x00" ||
// u16be(len chainID) || chainID || deterministic protobuf of req).
func roundIDOn(chainID string, req *lightkeeperv1.RoundRequest) string {
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(req)
	if err != nil {
		return ""
	}
	h := sha256.New()
	h.Write([]byte("lightkeeper/round/v1\x00"))
	h.Write(binary.BigEndian.AppendUint16(nil, uint16(len(chainID))))
	h.Write([]byte(chainID))
	h.Write(b)
	return hex.EncodeToString(h.Sum(nil))
}

var (
	programsOnce sync.Once
	programs     map[string]*compute.Program
	programsErr  error
)

// exampleProgram returns examples/<name> built for wasip1 and checked
// with the default limits, as the coordinator registers it.
func exampleProgram(tb testing.TB, name string) *compute.Program {
	tb.Helper()
	programsOnce.Do(func() {
		mods, err := exampleprog.Modules(context.Background())
		if err != nil {
			programsErr = err
			return
		}
		programs = map[string]*compute.Program{}
		for n, m := range mods {
			if programs[n], err = compute.Check(m, compute.DefaultLimits()); err != nil {
				programsErr = err
				return
			}
		}
	})
	if programsErr != nil {
		tb.Fatal(programsErr)
	}
	p := programs[name]
	if p == nil {
		tb.Fatalf("no example %q", name)
	}
	return p
}

var (
	keeperEngineOnce sync.Once
	keeperEngine     *compute.Engine
	keeperEngineErr  error
)

// rerun runs m's job again, on an engine of its own, as a keeper does:
// seeded with the round id of the request.
func rerun(t *testing.T, p *compute.Program, m Material) compute.Result {
	t.Helper()
	keeperEngineOnce.Do(func() {
		keeperEngine, keeperEngineErr = compute.NewEngine(context.Background(), compute.EngineConfig{Kind: compute.EngineInterpreter})
	})
	if keeperEngineErr != nil {
		t.Fatal(keeperEngineErr)
	}
	c := m.Request.GetCompute()
	seed, err := hex.DecodeString(testRoundID(m.Request))
	if err != nil || len(seed) != 32 {
		t.Fatal("bad round id")
	}
	res, err := keeperEngine.Run(context.Background(), p, c.GetInput(), c.GetFuel(), [32]byte(seed), compute.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// checkAgainstKeeper checks that m's answer is what an honest leader
// votes: keeper.ComputeVerdict of an independent run.
func checkAgainstKeeper(t *testing.T, p *compute.Program, m Material) {
	t.Helper()
	v := keeper.ComputeVerdict(rerun(t, p, m), true)
	if m.Approve != (v.Kind == lightkeeperv1.VoteKind_VOTE_KIND_APPROVE) {
		t.Fatalf("Approve = %v, the keeper votes %v", m.Approve, v.Kind)
	}
	if !bytes.Equal(m.ResultHash, v.ResultHash[:]) {
		t.Fatalf("result hash %x, the keeper's %x", m.ResultHash, v.ResultHash)
	}
	if !proto.Equal(m.Compute, v.Compute) {
		t.Fatalf("compute result %v, the keeper's %v", m.Compute, v.Compute)
	}
	if m.RoundID != testRoundID(m.Request) {
		t.Fatalf("RoundID %s, the request opens %s", m.RoundID, testRoundID(m.Request))
	}
}

func TestCompute(t *testing.T) {
	g := defaultGenerator(t)
	p := exampleProgram(t, "primes")
	id := p.ID.String()
	ctx := context.Background()

	t.Run("random bytes", func(t *testing.T) {
		inputs := map[string]bool{}
		for range 5 {
			m, err := g.Compute(ctx, p, id, 24, 1<<30)
			if err != nil {
				t.Fatal(err)
			}
			c := m.Request.GetCompute()
			if c.GetProgramId() != id || len(c.GetInput()) != 24 || c.GetFuel() != 1<<30 || m.KeyIndex != -1 || m.Label != "compute/"+id[:12] {
				t.Fatalf("material %+v", m)
			}
			if n, err := hex.DecodeString(m.Request.GetClientNonce()); err != nil || len(n) != NonceBytes {
				t.Fatalf("client nonce %q", m.Request.GetClientNonce())
			}
			if inputs[string(c.GetInput())] {
				t.Fatal("an input repeats")
			}
			inputs[string(c.GetInput())] = true
			checkAgainstKeeper(t, p, m)
		}
	})
	t.Run("decimal", func(t *testing.T) {
		m, err := g.ComputeWith(ctx, p, id, DecimalInput(1000, 5000), 1<<30)
		if err != nil {
			t.Fatal(err)
		}
		if !m.Approve || !strings.HasPrefix(string(m.Compute.GetOutput()), "primes below ") {
			t.Fatalf("Approve %v, output %q", m.Approve, m.Compute.GetOutput())
		}
		checkAgainstKeeper(t, p, m)
	})
	t.Run("like a client's input", func(t *testing.T) {
		sample := []byte("1500") // limits up to 5555: quick in the interpreter
		inputs := map[string]bool{}
		for range 5 {
			m, err := g.ComputeWith(ctx, p, id, LikeInput(sample), 1<<30)
			if err != nil {
				t.Fatal(err)
			}
			in := m.Request.GetCompute().GetInput()
			if len(in) != len(sample) || strings.Trim(string(in), "015") != "" {
				t.Fatalf("input %q from sample %q", in, sample)
			}
			inputs[string(in)] = true
			checkAgainstKeeper(t, p, m)
		}
		if len(inputs) < 2 {
			t.Fatal("five inputs drawn from 3⁴ were all the same") // p = 81⁻⁴
		}
		for _, c := range []struct{ sample, want string }{{"", ""}, {"aaaa", "aaaa"}} {
			b, err := LikeInput([]byte(c.sample))(nil)
			if err != nil || string(b) != c.want {
				t.Fatalf("LikeInput(%q) = %q, %v", c.sample, b, err)
			}
		}
	})
	t.Run("trap", func(t *testing.T) {
		// Too little fuel to finish: the answer is REJECT with the trap's
		// result hash.
		m, err := g.ComputeWith(ctx, p, id, DecimalInput(100000, 200000), 10000)
		if err != nil {
			t.Fatal(err)
		}
		if m.Approve || compute.TrapKind(m.Compute.GetTrap()) != compute.TrapOutOfFuel {
			t.Fatalf("Approve %v, trap %d", m.Approve, m.Compute.GetTrap())
		}
		checkAgainstKeeper(t, p, m)
	})
	t.Run("errors", func(t *testing.T) {
		for _, c := range []struct {
			name string
			run  func() (Material, error)
			want string
		}{
			{"nil program", func() (Material, error) { return g.Compute(ctx, nil, id, 8, 100) }, "no program"},
			{"wrong id", func() (Material, error) { return g.Compute(ctx, p, strings.Repeat("ab", 32), 8, 100) }, "not the program's id"},
			{"upper-case id", func() (Material, error) { return g.Compute(ctx, p, strings.ToUpper(id), 8, 100) }, "not the program's id"},
			{"no fuel", func() (Material, error) { return g.Compute(ctx, p, id, 8, 0) }, "fuel"},
			{"too much fuel", func() (Material, error) { return g.Compute(ctx, p, id, 8, p.Limits.MaxFuel+1) }, "fuel"},
			{"negative length", func() (Material, error) { return g.Compute(ctx, p, id, -1, 100) }, "negative"},
			{"nil input", func() (Material, error) { return g.ComputeWith(ctx, p, id, nil, 100) }, "input"},
			{"empty range", func() (Material, error) { return g.ComputeWith(ctx, p, id, DecimalInput(5, 4), 100) }, "empty"},
		} {
			if _, err := c.run(); err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("%s: %v, want an error about %q", c.name, err, c.want)
			}
		}
		// Without Options.RoundID a Go program (which imports random_get)
		// cannot be answered.
		g2, err := New(Options{Circuits: DefaultCircuits()[:1], Engine: nil})
		if err != nil {
			t.Fatal(err)
		}
		defer g2.Close(ctx)
		if _, err := g2.Compute(ctx, p, id, 8, 1<<20); err == nil || !strings.Contains(err.Error(), "Options.RoundID") {
			t.Errorf("without RoundID: %v", err)
		}
		g3, err := New(Options{Circuits: DefaultCircuits()[:1], RoundID: func(*lightkeeperv1.RoundRequest) string { return "zz" }})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := g3.Compute(ctx, p, id, 8, 1<<20); err == nil || !strings.Contains(err.Error(), "RoundID returned") {
			t.Errorf("bad RoundID: %v", err)
		}
	})
	t.Run("own engine", func(t *testing.T) {
		// A program that does not import random_get needs no round id; the
		// generator starts an engine of its own and Close releases it.
		g2, err := New(Options{Circuits: DefaultCircuits()[:1]})
		if err != nil {
			t.Fatal(err)
		}
		q, err := compute.Check(emptyProgram, compute.DefaultLimits())
		if err != nil {
			t.Fatal(err)
		}
		m, err := g2.Compute(ctx, q, q.ID.String(), 8, 1000)
		if err != nil {
			t.Fatal(err)
		}
		empty := compute.ResultHash(compute.Result{FuelUsed: m.Compute.GetFuelUsed()})
		if !m.Approve || !bytes.Equal(m.ResultHash, empty[:]) || m.RoundID != "" {
			t.Fatalf("material %+v", m)
		}
		if err := g2.Close(ctx); err != nil {
			t.Fatal(err)
		}
		if err := g2.Close(ctx); err != nil {
			t.Fatal("second Close:", err)
		}
	})
	t.Run("stats", func(t *testing.T) {
		var s *LabelStats
		for _, x := range g.Stats() {
			if x.Label == "compute/"+id[:12] {
				s = &x
			}
		}
		if s == nil || s.Generated < 7 || s.Taken != s.Generated || s.Failed == 0 || s.MeanCost <= 0 {
			t.Fatalf("compute stats %+v", s)
		}
	})
}

// emptyProgram is the smallest wasip1 command: it exports memory and a
// _start that returns at once, and imports nothing.
var emptyProgram = []byte{
	0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // magic, version 1
	0x01, 0x04, 0x01, 0x60, 0x00, 0x00, // types: [] -> []
	0x03, 0x02, 0x01, 0x00, // functions: one of type 0
	0x05, 0x03, 0x01, 0x00, 0x01, // memory: min 1 page
	0x07, 0x13, 0x02, // exports: two
	0x06, '_', 's', 't', 'a', 'r', 't', 0x00, 0x00, // _start: function 0
	0x06, 'm', 'e', 'm', 'o', 'r', 'y', 0x02, 0x00, // memory: memory 0
	0x0a, 0x04, 0x01, 0x02, 0x00, 0x0b, // code: no locals, end
}
