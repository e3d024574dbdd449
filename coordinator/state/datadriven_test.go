package state

import (
	"bytes"
	"encoding/hex"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lightkeeper-net/lightkeeper/coordinator/ledger"
	"github.com/lightkeeper-net/lightkeeper/pebbledb"
	lightkeeperv1 "github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1"
	"github.com/lightkeeper-net/lightkeeper/protocol"
	"github.com/lightkeeper-net/lightkeeper/shielded"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"
)

var update = flag.Bool("update", false, "rewrite the expected output of testdata/*.txt")

// The golden interaction tests. Each file in testdata/ is a script of
// commands, each followed by "----" and its expected output, ending at a
// blank line (raft/datadriven style); lines starting with '#' are comments.
// `go test ./coordinator/state -update` rewrites the expected output.
//
// Keepers are k0, k1, ... (index i has the test key of keeperKey(i));
// rounds and verifying keys are named by the script. Commands:
//
//	genesis keepers=N [stake=S] [stakes=a,b,...] [threshold=T] [total=N] [timeout=30s]
//	        [min_rep=R] [initial=R] [correct=D] [bonus=D] [incorrect=D] [missed=D] [decay=protocol.PPM]
//	register <keepers> [badsig]      queue RegisterKeeperTx
//	online <keepers> / offline <keepers>
//	vk name=V [scheme=groth16] [curve=bn254] [inputs=2]
//	submit name=R [vk=V] [nonce=N] [scheme=S] [curve=C] [inputs=JSON] [proof=empty]
//	vote R <seats> approve|reject|abstain [hash=B] [badsig] [mangle=hash|kind|roundid|keeperid]
//	                                 seats index the committee
//	raw-vote R <keepers> approve     votes by keepers (not by seat)
//	name-round R                     name the round vk1 with nonce R would be
//	block [+DURATION]                apply the queued transactions (DURATION
//	                                 after the head; "d" = days); prints the
//	                                 block, every transaction's result, events
//	keepers [<keepers>] / round R / restart / head
//
// The economy's commands (signed transactions, stakes, epochs) are listed
// in datadriven_staking_test.go, the shielded pool's in
// datadriven_withdraw_test.go.
//
// <keepers> and <seats> are "all", "3", "0..6" or "0,2,5".
func TestGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/*.txt")
	if err != nil || len(files) == 0 {
		t.Fatalf("no testdata: %v", err)
	}
	ran := 0
	for _, file := range files {
		ran += boolInt(t.Run(strings.TrimSuffix(filepath.Base(file), ".txt"), func(t *testing.T) {
			runGolden(t, file)
		}))
	}
	// The invariant between machine and store: over every scenario the
	// machine emits exactly the families the store knows (a family it
	// never emits is dead layout; one the store lacks could not be
	// written).
	if ran == len(files) && !t.Failed() {
		var want, got []string
		for _, f := range ledger.Families {
			want = append(want, f.Name)
		}
		for name := range emitted {
			got = append(got, name)
		}
		slices.Sort(want)
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Errorf("families emitted by the golden scenarios = %v, want ledger.Families = %v", got, want)
		}
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

type goldenCase struct {
	pre  []string // comments and blank lines before the command
	cmd  string
	line int
	want string
	got  string
}

func parseGolden(t *testing.T, data string) (cases []goldenCase, tail []string) {
	lines := strings.Split(data, "\n")
	if n := len(lines); n > 0 && lines[n-1] == "" {
		lines = lines[:n-1]
	}
	var pre []string
	for i := 0; i < len(lines); i++ {
		l := lines[i]
		if strings.TrimSpace(l) == "" || strings.HasPrefix(l, "#") {
			pre = append(pre, l)
			continue
		}
		c := goldenCase{pre: pre, cmd: l, line: i + 1}
		pre = nil
		if i+1 >= len(lines) || lines[i+1] != "----" {
			t.Fatalf("line %d: command %q not followed by ----", i+1, l)
		}
		i += 2
		var out []string
		for ; i < len(lines) && lines[i] != ""; i++ {
			out = append(out, lines[i])
		}
		c.want = strings.Join(out, "\n")
		cases = append(cases, c)
		if i < len(lines) {
			pre = append(pre, "")
		}
	}
	return cases, pre
}

func runGolden(t *testing.T, file string) {
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	cases, tail := parseGolden(t, string(data))
	g := &golden{t: t}
	for i := range cases {
		c := &cases[i]
		c.got = strings.TrimRight(g.run(c.cmd), "\n")
		if !*update && c.got != c.want {
			t.Errorf("%s:%d: %s\n--- got:\n%s\n--- want:\n%s", file, c.line, c.cmd, c.got, c.want)
		}
	}
	// Whatever the script did, the store's change sets must restore the
	// machine exactly as it ends.
	if g.store != nil {
		if _, err := g.restart(); err != nil {
			t.Errorf("%s: restore from the store: %v", file, err)
		}
	}
	if *update {
		var b strings.Builder
		for _, c := range cases {
			for _, p := range c.pre {
				b.WriteString(p + "\n")
			}
			fmt.Fprintf(&b, "%s\n----\n", c.cmd)
			if c.got != "" {
				b.WriteString(c.got + "\n")
			}
		}
		for _, p := range tail {
			if p != "" {
				b.WriteString(p + "\n")
			}
		}
		if err := os.WriteFile(file, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// golden is the interpreter state of one script.
type golden struct {
	t       *testing.T
	m       *Machine
	genesis int64
	queue   []*lightkeeperv1.Transaction
	labels  []string // per queued tx
	names   map[string]string
	rounds  map[string]string               // round name → id
	vks     map[string]string               // vk name → id
	last    map[string]*lightkeeperv1.Round // round id → latest record (closed rounds too)
	certs   map[string]*lightkeeperv1.Certificate
	repl    *strings.Replacer
	nKeeper int
	nonces  map[string]uint64 // signer → nonce of its next queued tx
	notes   map[string]shielded.Note
	// store holds every Result's change set; "restart" restores the
	// machine from it, as the service does.
	store *pebbledb.Store
}

// emitted records every family a golden run's change sets touched, by
// name (TestGolden checks it against ledger.Families).
var emitted = map[string]bool{}

// persist writes a Result's change set into the store through the
// store's one generic path.
func (g *golden) persist(res *Result) {
	b := g.store.NewBatch()
	if err := b.Apply(res.Changes); err != nil {
		g.fail("apply change set of block %d: %v", res.Block.GetHeader().GetHeight(), err)
	}
	if err := b.Commit(); err != nil {
		g.fail("commit block %d: %v", res.Block.GetHeader().GetHeight(), err)
	}
	for _, c := range res.Changes {
		emitted[c.Family.Name] = true
	}
}

// eligible reads the eligible list stored under hash; a list the block
// did not store fails the test.
func (g *golden) eligible(hash []byte) []*lightkeeperv1.WeightedKeeper {
	l, err := g.store.EligibleList(hash)
	if err != nil {
		g.fail("eligible list %x: %v", hash, err)
	}
	return l.GetKeepers()
}

// restart restores a machine from what the store loads, and checks that
// it holds exactly the state of the running machine.
func (g *golden) restart() (*Machine, error) {
	loaded, err := g.store.Load(ledger.Families)
	if err != nil {
		g.fail("load: %v", err)
	}
	snap, err := FromLedger(loaded)
	if err != nil {
		return nil, err
	}
	m, err := Restore(snap)
	if err != nil {
		return nil, err
	}
	if !snapshotsEqual(m.Snapshot(), g.m.Snapshot()) {
		g.fail("the machine restored from the store's change sets differs from the running one")
	}
	return m, nil
}

func (g *golden) fail(format string, args ...any) string {
	g.t.Fatalf(format, args...)
	return ""
}

func (g *golden) name(id string, name string) {
	g.names[id] = name
	var pairs []string
	for _, k := range sortedKeys(g.names) {
		pairs = append(pairs, k, g.names[k])
	}
	g.repl = strings.NewReplacer(pairs...)
}

func (g *golden) short(s string) string { return g.repl.Replace(s) }

func args(fields []string) map[string]string {
	a := map[string]string{}
	for _, f := range fields {
		if k, v, ok := strings.Cut(f, "="); ok {
			a[k] = v
		} else {
			a[f] = ""
		}
	}
	return a
}

func (g *golden) indexes(s string, n int) []int {
	if s == "all" {
		return seatRange(0, n)
	}
	var out []int
	for _, part := range strings.Split(s, ",") {
		if a, b, ok := strings.Cut(part, ".."); ok {
			x, err1 := strconv.Atoi(a)
			y, err2 := strconv.Atoi(b)
			if err1 != nil || err2 != nil {
				g.fail("bad range %q", part)
			}
			for i := x; i <= y; i++ {
				out = append(out, i)
			}
			continue
		}
		x, err := strconv.Atoi(strings.TrimPrefix(part, "k"))
		if err != nil {
			g.fail("bad index %q", part)
		}
		out = append(out, x)
	}
	return out
}

func (g *golden) run(cmd string) string {
	f := strings.Fields(cmd)
	a := args(f[1:])
	if f[0] != "genesis" && g.m == nil {
		return g.fail("%s before genesis", f[0])
	}
	switch f[0] {
	case "genesis":
		return g.doGenesis(a)
	case "register":
		for _, i := range g.indexes(f[1], g.nKeeper) {
			tx := registerTx(testChain, i)
			if _, bad := a["badsig"]; bad {
				tx.GetRegisterKeeper().Signature[0] ^= 1
			}
			g.enqueue(tx, fmt.Sprintf("register k%d", i))
			g.name(keeperID(i), fmt.Sprintf("k%d", i))
		}
		return ""
	case "online", "offline":
		for _, i := range g.indexes(f[1], g.nKeeper) {
			g.enqueue(onlineTx(i, f[0] == "online"), fmt.Sprintf("%s k%d", f[0], i))
		}
		return ""
	case "vk":
		name := a["name"]
		// One real key per scheme and curve (testVK): the machine parses it.
		sch, crv := def(a["scheme"], "groth16"), def(a["curve"], "bn254")
		key := []byte("verifying key " + name)
		if s := scheme(sch); s != 0 {
			key = testVK(sch + "_" + strings.ReplaceAll(crv, "-", "_"))
		}
		g.enqueue(vkTx(key, scheme(sch), curve(crv)), "vk "+name)
		g.vks[name] = vkID(key)
		g.name(vkID(key), name)
		return ""
	case "submit":
		name := a["name"]
		vk := g.vks[def(a["vk"], "vk1")]
		if vk == "" {
			vk = vkID([]byte("verifying key " + a["vk"]))
		}
		req := proofRequest(vk, def(a["nonce"], name))
		p := req.GetProof()
		if s, ok := a["scheme"]; ok {
			p.Scheme = scheme(s)
		}
		if c, ok := a["curve"]; ok {
			p.Curve = curve(c)
		}
		if in, ok := a["inputs"]; ok {
			p.PublicInputs = []byte(in)
		}
		if a["proof"] == "empty" {
			p.Proof = nil
		}
		id := protocol.RoundID(testChain, req)
		if _, dup := g.rounds[name]; !dup {
			g.rounds[name] = id
			g.name(id, name)
		}
		tx := submitTx(req)
		if c := a["challenge"]; c != "" {
			// A random challenge whose answer is c (approve or reject).
			kind := map[string]lightkeeperv1.VoteKind{"approve": approve, "reject": reject}[c]
			_, cand := a["candidates"]
			tx.GetSubmitRound().Challenge = &lightkeeperv1.ChallengeAnswer{Kind: kind, ResultHash: make([]byte, 32), Candidates: cand}
		}
		g.seal(tx, req, a, name)
		g.enqueue(tx, "submit "+name)
		return ""
	case "vote", "raw-vote":
		id := g.rounds[f[1]]
		if id == "" {
			return g.fail("unknown round %s", f[1])
		}
		kind := map[string]lightkeeperv1.VoteKind{"approve": approve, "reject": reject, "abstain": abstain}[f[3]]
		var keepers []int
		if f[0] == "raw-vote" {
			keepers = g.indexes(f[2], 0)
		} else {
			r := g.last[id]
			if r == nil {
				return g.fail("round %s has no committee yet", f[1])
			}
			for _, s := range g.indexes(f[2], len(r.Committee)) {
				if s >= len(r.Committee) {
					return g.fail("seat %d of %d", s, len(r.Committee))
				}
				k, _ := strconv.Atoi(strings.TrimPrefix(g.names[r.Committee[s]], "k"))
				keepers = append(keepers, k)
			}
		}
		var hash [32]byte
		if hs, ok := a["hash"]; ok {
			b, _ := strconv.Atoi(hs)
			hash[0] = byte(b)
		}
		for _, k := range keepers {
			tx := voteTxHash(testChain, id, k, kind, hash)
			v := tx.GetCastVote().Vote
			if _, bad := a["badsig"]; bad {
				v.Signature[0] ^= 1
			}
			label := fmt.Sprintf("vote %s k%d %s", f[1], k, f[3])
			switch a["mangle"] {
			case "":
			case "hash":
				v.ResultHash = v.ResultHash[:16]
			case "kind":
				v.Kind = 0
			case "roundid":
				v.RoundId = "r-" + v.RoundId[2:]
			case "keeperid":
				v.KeeperId = strings.ToUpper(v.KeeperId)
			default:
				return g.fail("mangle=%s", a["mangle"])
			}
			if m := a["mangle"]; m != "" {
				label += " mangle=" + m
			}
			g.enqueue(tx, label)
		}
		return ""
	case "name-round":
		// Names the round a request would open, without submitting it.
		id := protocol.RoundID(testChain, proofRequest(g.vks["vk1"], f[1]))
		g.rounds[f[1]] = id
		g.name(id, f[1])
		return ""
	case "block":
		return g.doBlock(f[1:])
	case "keepers":
		sel := seatRange(0, g.nKeeper)
		if len(f) > 1 {
			sel = g.indexes(f[1], g.nKeeper)
		}
		var b strings.Builder
		for _, i := range sel {
			k, ok := g.m.Keeper(keeperID(i))
			if !ok {
				fmt.Fprintf(&b, "k%d: unknown\n", i)
				continue
			}
			flags := []string{}
			for _, fl := range []struct {
				on   bool
				name string
			}{{k.Registered, "registered"}, {k.Online, "online"}, {k.Jailed, "jailed"}} {
				if fl.on {
					flags = append(flags, fl.name)
				}
			}
			fmt.Fprintf(&b, "k%d: stake=%d rep=%d [%s] assigned=%d correct=%d incorrect=%d abstained=%d missed=%d equivocations=%d",
				i, k.Stake, k.Reputation, strings.Join(flags, " "), k.RoundsAssigned, k.VotesCorrect, k.VotesIncorrect,
				k.VotesAbstained, k.RoundsMissed, k.Equivocations)
			if k.ChallengesPassed+k.ChallengeFailures > 0 {
				fmt.Fprintf(&b, " challenges passed=%d failed=%d work_units=%d", k.ChallengesPassed, k.ChallengeFailures, k.EpochWorkUnits)
			}
			b.WriteString("\n")
		}
		return b.String()
	case "round":
		return g.doRound(f[1])
	case "restart":
		m, err := g.restart()
		if err != nil {
			return "error: " + err.Error()
		}
		g.m = m
		return "restored"
	case "head":
		h, hash := g.m.Head()
		return fmt.Sprintf("height=%d time=%s hash=%s", h.Height, g.rel(h.Time.AsTime().UnixMilli()), hex.EncodeToString(hash)[:16])
	}
	if out, ok := g.runEconomy(f, a); ok {
		return out
	}
	if out, ok := g.runCompute(f, a); ok {
		return out
	}
	if out, ok := g.runPool(f, a); ok {
		return out
	}
	if out, ok := g.runReveal(f, a); ok {
		return out
	}
	return g.fail("unknown command %q", f[0])
}

func def(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

func scheme(s string) lightkeeperv1.Scheme {
	return map[string]lightkeeperv1.Scheme{"groth16": 1, "plonk": 2, "none": 0}[s]
}

func curve(s string) lightkeeperv1.Curve {
	return map[string]lightkeeperv1.Curve{"bn254": 1, "bls12_381": 2, "none": 0}[s]
}

func (g *golden) enqueue(tx *lightkeeperv1.Transaction, label string) {
	g.queue = append(g.queue, tx)
	g.labels = append(g.labels, label)
}

func (g *golden) doGenesis(a map[string]string) string {
	n, _ := strconv.Atoi(a["keepers"])
	stake, _ := strconv.ParseUint(def(a["stake"], "100"), 10, 64)
	gen := testGenesis(n, stake)
	if s, ok := a["stakes"]; ok {
		for i, v := range strings.Split(s, ",") {
			gen.Keepers[i].Stake, _ = strconv.ParseUint(v, 10, 64)
		}
	}
	p := protocol.DefaultParams()
	num := func(key string, dst any) {
		v, ok := a[key]
		if !ok {
			return
		}
		x, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			g.fail("%s=%s: %v", key, v, err)
		}
		switch d := dst.(type) {
		case *uint32:
			*d = uint32(x)
		case *int64:
			*d = x
		}
	}
	num("threshold", &p.Threshold)
	num("total", &p.TotalValidators)
	num("min_rep", &p.MinReputation)
	num("initial", &p.ReputationInitial)
	num("correct", &p.ReputationCorrect)
	num("bonus", &p.ReputationConsensusBonus)
	num("incorrect", &p.ReputationIncorrect)
	num("missed", &p.ReputationTimeout)
	num("decay", &p.ReputationDailyDecayPpm)
	if v, ok := a["timeout"]; ok {
		d, err := time.ParseDuration(v)
		if err != nil {
			g.fail("timeout: %v", err)
		}
		p.VerificationTimeout = durationpb.New(d)
	}
	g.economyGenesis(a, p, gen)
	g.computeGenesis(a, p)
	g.sealGenesis(a, p)
	if _, ok := a["pool"]; ok {
		gen.WithdrawalVerifyingKey = fakePoolVK
	}
	m, res, err := New(withParams(gen, p))
	if err != nil {
		return "error: " + err.Error()
	}
	*g = golden{t: g.t, m: m, genesis: testGenesisMs, nKeeper: n, names: map[string]string{},
		rounds: map[string]string{}, vks: map[string]string{}, last: map[string]*lightkeeperv1.Round{},
		certs: map[string]*lightkeeperv1.Certificate{}, notes: map[string]shielded.Note{}}
	store, err := pebbledb.Open(g.t.TempDir(), pebbledb.WithLogger(nil))
	if err != nil {
		g.fail("open store: %v", err)
	}
	g.t.Cleanup(func() { store.Close() })
	g.store = store
	g.persist(res)
	for i := 0; i < n+20; i++ {
		g.name(keeperID(i), fmt.Sprintf("k%d", i))
	}
	return fmt.Sprintf("block 0 hash=%s keepers=%d", hex.EncodeToString(res.Block.Hash)[:16], len(res.Keepers))
}

// rel formats a time relative to genesis.
func (g *golden) rel(ms int64) string {
	d := time.Duration(ms-g.genesis) * time.Millisecond
	if days := d / (24 * time.Hour); days > 0 {
		return fmt.Sprintf("+%dd%s", days, d%(24*time.Hour))
	}
	return "+" + d.String()
}

func (g *golden) doBlock(f []string) string {
	var dt time.Duration
	if len(f) > 0 {
		s := strings.TrimPrefix(f[0], "+")
		if days, ok := strings.CutSuffix(s, "d"); ok {
			n, err := strconv.Atoi(days)
			if err != nil {
				g.fail("bad duration %q", f[0])
			}
			dt = time.Duration(n) * 24 * time.Hour
		} else {
			var err error
			if dt, err = time.ParseDuration(s); err != nil {
				g.fail("bad duration %q", f[0])
			}
		}
	}
	h, _ := g.m.Head()
	txs, labels := g.queue, g.labels
	g.queue, g.labels = nil, nil
	res, err := noted(g.m.ApplyBlock(BlockInput{TimeUnixMilli: h.Time.AsTime().UnixMilli() + dt.Milliseconds(), Txs: txs}))
	if err != nil {
		return "error: " + err.Error()
	}
	g.persist(res)
	var b strings.Builder
	bl := res.Block
	fmt.Fprintf(&b, "block %d time=%s hash=%s txs=%d certificates=%d evidence=%d", bl.Header.Height,
		g.rel(bl.Header.Time.AsTime().UnixMilli()), hex.EncodeToString(bl.Hash)[:16], len(bl.Transactions), len(bl.Certificates), len(bl.Evidence))
	if len(bl.Challenges) > 0 {
		fmt.Fprintf(&b, " challenges=%d", len(bl.Challenges))
	}
	b.WriteString("\n")
	for _, tx := range bl.Transactions {
		if tx.GetSubmitRound().GetChallenge() != nil {
			g.fail("block %d records a challenge's answer in its transactions", bl.Header.Height)
		}
	}
	if !bytes.Equal(protocol.ResultsHash(bl.Certificates, bl.Evidence, bl.Challenges...), bl.Header.ResultsHash) {
		g.fail("block %d: results hash does not cover its certificates, evidence and challenges", bl.Header.Height)
	}
	for i, tr := range res.TxResults {
		var s string
		switch {
		case tr.VoteStatus != 0:
			s = strings.TrimPrefix(tr.VoteStatus.String(), "VOTE_STATUS_")
			if tr.Err != nil {
				s += ": " + tr.Err.Error()
			}
		case tr.Err != nil:
			s = "error: " + tr.Err.Error()
		default:
			s = "ok"
		}
		fmt.Fprintf(&b, "%s: %s\n", labels[i], g.short(s))
	}
	for _, e := range res.Events {
		fmt.Fprintf(&b, "  %s\n", g.short(e.String()))
	}
	for _, r := range res.Rounds {
		g.last[r.Id] = r
	}
	for _, c := range bl.Certificates {
		g.certs[c.RoundId] = c
	}
	return b.String()
}

func (g *golden) doRound(name string) string {
	id := g.rounds[name]
	r := g.last[id]
	if open, ok := g.m.OpenRound(id); ok {
		r = open
	}
	if r == nil {
		return "unknown"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %s", name, strings.TrimPrefix(r.Phase.String(), "ROUND_PHASE_"))
	if r.Outcome != 0 {
		fmt.Fprintf(&b, " %s at height %d (%s), decided_votes=%d", protocol.OutcomeName(r.Outcome), r.DecidedHeight, g.rel(r.DecidedAt.AsTime().UnixMilli()), r.DecidedVotes)
	}
	fmt.Fprintf(&b, "\nsubmitted height %d (%s) deadline %s threshold=%d reject_threshold=%d\n", r.SubmittedHeight,
		g.rel(r.SubmittedAt.AsTime().UnixMilli()), g.rel(r.Deadline.AsTime().UnixMilli()), r.Threshold, r.RejectThreshold)
	fmt.Fprintf(&b, "committee: %s\n", g.short(strings.Join(r.Committee, " ")))
	// The round carries the hash; the list is read from the store, as
	// the service serves it.
	var el []string
	for _, e := range g.eligible(r.EligibleHash) {
		el = append(el, fmt.Sprintf("%s:%d", g.short(e.KeeperId), e.Weight))
	}
	fmt.Fprintf(&b, "eligible: %s\n", strings.Join(el, " "))
	fmt.Fprintf(&b, "tally: approvals=%d rejections=%d abstentions=%d\n", r.Approvals, r.Rejections, r.Abstentions)
	var vs []string
	for i, v := range r.Votes {
		s := g.short(v.KeeperId) + ":" + voteLabel(v)
		if i == int(r.DecidedVotes) && r.Outcome != 0 {
			vs = append(vs, "|")
		}
		vs = append(vs, s)
	}
	if len(vs) == 0 {
		vs = []string{"(none)"}
	}
	fmt.Fprintf(&b, "votes: %s\n", strings.Join(vs, " "))
	g.computeRoundLines(&b, r)
	if s := r.Seal; s != nil {
		fmt.Fprintf(&b, "seal: challenger=%x candidates=%v\n", s.Challenger[:4], s.Candidates)
	}
	if ch := r.Challenge; ch != nil {
		fmt.Fprintf(&b, "challenge: answer %s candidates=%v\n", kindName(ch.Kind), ch.Candidates)
	}
	if _, until, ok := g.m.PendingReveal(r.Id); ok {
		fmt.Fprintf(&b, "awaiting reveal until %s\n", g.rel(until))
	}
	if c, ok := g.certs[id]; ok {
		res := "ok"
		c = proto.Clone(c).(*lightkeeperv1.Certificate)
		c.Eligible = g.eligible(c.EligibleHash)
		if err := protocol.VerifyCertificate(c, g.m.Params()); err != nil {
			res = g.short(err.Error())
		}
		fmt.Fprintf(&b, "certificate: %s, %d votes: %s\n", protocol.OutcomeName(c.Outcome), len(c.Votes), res)
	}
	return b.String()
}
