package state

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	lightkeeperv1 "github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1"
	"github.com/lightkeeper-net/lightkeeper/protocol"
	"google.golang.org/protobuf/proto"
)

func TestRegisterKeeper(t *testing.T) {
	m, _, err := New(testGenesis(2, 100))
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{t: t, m: m}
	badSig := registerTx(testChain, 0)
	badSig.GetRegisterKeeper().Signature[0] ^= 1
	otherChain := registerTx("other", 0)
	wrongKey := registerTx(testChain, 1)
	wrongKey.GetRegisterKeeper().KeeperId = keeperID(0)
	badID := registerTx(testChain, 0)
	badID.GetRegisterKeeper().KeeperId = "00"
	res := h.apply(0, badSig, otherChain, wrongKey, badID,
		registerTx(testChain, 0), registerTx(testChain, 0), registerTx(testChain, 5))
	for i, want := range []error{ErrBadSignature, ErrBadSignature, ErrBadSignature, ErrInvalidRequest, nil, nil, nil} {
		if got := res.TxResults[i].Err; !errors.Is(got, want) || (want == nil && got != nil) {
			t.Errorf("tx %d: got %v, want %v", i, got, want)
		}
	}
	// Genesis keeper: keeps its stake, now registered.
	if k := res.TxResults[4].Keeper; k.Stake != 100 || !k.Registered || k.Online {
		t.Fatalf("genesis keeper %v", k)
	}
	// Idempotent: same record, no second event.
	if !proto.Equal(res.TxResults[4].Keeper, res.TxResults[5].Keeper) {
		t.Fatal("second registration changed the keeper")
	}
	// New key: no stake, initial reputation.
	if k := res.TxResults[6].Keeper; k.Id != keeperID(5) || k.Stake != 0 || k.Reputation != 1000 || !k.Registered {
		t.Fatalf("new keeper %v", k)
	}
	reg := eventsOf[KeeperRegistered](res)
	if len(reg) != 2 || reg[0].KeeperID != keeperID(0) || reg[1].KeeperID != keeperID(5) {
		t.Fatalf("events %v", reg)
	}
	if len(res.Keepers) != 2 || len(h.m.Keepers()) != 3 {
		t.Fatalf("changed keepers %d, all %d", len(res.Keepers), len(h.m.Keepers()))
	}
	if k := h.keeper(1); k.Registered {
		t.Fatal("keeper 1 registered by a signature of someone else")
	}
	// The new keeper is online but has no stake: never eligible.
	h.ok(h.apply(0, onlineTx(5, true)))
	if slices.ContainsFunc(h.m.eligible(), func(k *lightkeeperv1.Keeper) bool { return k.Id == keeperID(5) }) {
		t.Fatal("keeper without stake is eligible")
	}
}

func TestSetKeeperOnline(t *testing.T) {
	h := newHarness(t, 2, 1, nil)
	bad := onlineTx(0, false)
	bad.GetSetKeeperOnline().KeeperId = "x"
	res := h.apply(0, onlineTx(9, true), bad, onlineTx(0, false), onlineTx(0, false), onlineTx(0, true))
	for i, want := range []error{ErrUnknownKeeper, ErrInvalidRequest, nil, nil, nil} {
		if got := res.TxResults[i].Err; !errors.Is(got, want) || (want == nil && got != nil) {
			t.Errorf("tx %d: got %v, want %v", i, got, want)
		}
	}
	ev := eventsOf[KeeperOnlineChanged](res)
	if len(ev) != 2 || ev[0].Online || !ev[1].Online {
		t.Fatalf("events %v (a no-op must emit nothing)", ev)
	}
	if !res.TxResults[2].Keeper.GetRegistered() || res.TxResults[2].Keeper.Online {
		t.Fatalf("keeper %v", res.TxResults[2].Keeper)
	}
}

func TestRegisterVerifyingKey(t *testing.T) {
	h := newHarness(t, 1, 1, nil)
	key := testVK("plonk_bls12_381")
	res := h.apply(0,
		vkTx(key, lightkeeperv1.Scheme_SCHEME_PLONK, lightkeeperv1.Curve_CURVE_BLS12_381),
		vkTx(key, lightkeeperv1.Scheme_SCHEME_PLONK, lightkeeperv1.Curve_CURVE_BLS12_381),
		vkTx(key, 0, lightkeeperv1.Curve_CURVE_BN254),
		vkTx(key, lightkeeperv1.Scheme_SCHEME_GROTH16, 0),
		vkTx(nil, lightkeeperv1.Scheme_SCHEME_GROTH16, lightkeeperv1.Curve_CURVE_BN254),
		vkTx(key, lightkeeperv1.Scheme_SCHEME_GROTH16, lightkeeperv1.Curve_CURVE_BN254),
	)
	for i, want := range []error{nil, nil, ErrInvalidRequest, ErrInvalidRequest, ErrInvalidRequest, ErrInvalidRequest} {
		if got := res.TxResults[i].Err; !errors.Is(got, want) || (want == nil && got != nil) {
			t.Errorf("tx %d: got %v, want %v", i, got, want)
		}
	}
	vk := res.TxResults[0].VerifyingKey
	if vk.Id != vkID(key) || vk.NumPublicInputs != 2 || vk.RegisteredHeight != res.Block.Header.Height || vk.Key != nil {
		t.Fatalf("vk %v", vk)
	}
	if !proto.Equal(vk, res.TxResults[1].VerifyingKey) {
		t.Fatal("re-registration did not return the same key")
	}
	if len(res.VerifyingKeys) != 1 || string(res.VerifyingKeys[0].Key) != string(key) || len(eventsOf[VerifyingKeyRegistered](res)) != 1 {
		t.Fatal("result must carry the new key once, with its bytes")
	}
	if got, ok := h.m.VerifyingKey(vk.Id); !ok || !proto.Equal(got, vk) {
		t.Fatal("VerifyingKey lookup")
	}
	// Still the same after a restart without key bytes.
	h.mutate(func(*Snapshot) {})
	res = h.apply(0, vkTx(key, lightkeeperv1.Scheme_SCHEME_PLONK, lightkeeperv1.Curve_CURVE_BLS12_381))
	if !proto.Equal(res.TxResults[0].VerifyingKey, vk) || len(res.VerifyingKeys) != 0 {
		t.Fatal("re-registration after restore")
	}
}

func TestUnknownTransactionKind(t *testing.T) {
	h := newHarness(t, 1, 1, nil)
	res := h.apply(0, &lightkeeperv1.Transaction{})
	if !errors.Is(res.TxResults[0].Err, ErrInvalidRequest) || len(res.Block.Transactions) != 1 {
		t.Fatal(res.TxResults[0].Err)
	}
}

func TestEquivocation(t *testing.T) {
	h := newHarness(t, 10, 100, nil)
	r := h.submit()
	s := h.seats(r)
	first := voteTx(r.Id, s[0], approve)
	second := voteTx(r.Id, s[0], reject)
	third := voteTxHash(testChain, r.Id, s[0], approve, [32]byte{9})
	res := h.apply(time.Second, first, second, second, third)
	want := []lightkeeperv1.VoteStatus{
		lightkeeperv1.VoteStatus_VOTE_STATUS_ACCEPTED,
		lightkeeperv1.VoteStatus_VOTE_STATUS_EQUIVOCATION,
		lightkeeperv1.VoteStatus_VOTE_STATUS_EQUIVOCATION,
		lightkeeperv1.VoteStatus_VOTE_STATUS_EQUIVOCATION,
	}
	for i, w := range want {
		if res.TxResults[i].VoteStatus != w {
			t.Fatalf("tx %d: %v", i, res.TxResults[i].VoteStatus)
		}
	}
	if len(res.Evidence) != 1 || len(res.Block.Evidence) != 1 || len(eventsOf[EquivocationDetected](res)) != 1 {
		t.Fatal("evidence must be recorded once per member per round")
	}
	ev := res.Evidence[0]
	if ev.KeeperId != keeperID(s[0]) || ev.RoundId != r.Id || ev.Height != res.Block.Header.Height ||
		!proto.Equal(ev.First, first.GetCastVote().Vote) || !proto.Equal(ev.Second, second.GetCastVote().Vote) {
		t.Fatalf("evidence %v", ev)
	}
	if !proto.Equal(res.Block.Evidence[0], ev) {
		t.Fatal("block evidence differs")
	}
	if k := h.keeper(s[0]); k.Equivocations != 1 {
		t.Fatalf("equivocations %d", k.Equivocations)
	}
	o, _ := h.m.OpenRound(r.Id)
	if len(o.Votes) != 1 || o.Approvals != 1 || o.Rejections != 0 {
		t.Fatal("the second vote was counted")
	}
	// Also once across a restart (Snapshot carries the open round's evidence).
	h.mutate(func(*Snapshot) {})
	res = h.apply(time.Second, voteTxHash(testChain, r.Id, s[0], reject, [32]byte{7}))
	if res.TxResults[0].VoteStatus != lightkeeperv1.VoteStatus_VOTE_STATUS_EQUIVOCATION || len(res.Evidence) != 0 {
		t.Fatal("evidence recorded again after restore")
	}
	// Another member in the same round gets its own evidence.
	res = h.apply(time.Second, voteTx(r.Id, s[1], reject), voteTx(r.Id, s[1], abstain))
	if len(res.Evidence) != 1 || res.Evidence[0].KeeperId != keeperID(s[1]) {
		t.Fatal("second equivocator")
	}
}

func TestCloneIsolation(t *testing.T) {
	h := newHarness(t, 10, 100, nil)
	req := proofRequest(h.vk, "iso")
	tx := submitTx(req)
	res := h.ok(h.apply(0, tx))
	r := res.TxResults[0].Round
	before := h.m.Snapshot()
	// Mutate everything handed out or handed in.
	req.ClientNonce = "changed"
	r.Committee[0] = "x"
	res.Rounds[0].Threshold = 1
	res.Keepers[0].Reputation = 1
	res.Block.Header.Height = 99
	res.Meta.Params.Threshold = 1
	eventsOf[RoundOpened](res)[0].Round.Committee = nil
	hd, hash := h.m.Head()
	hd.Height, hash[0] = 77, hash[0]^1
	h.m.Params().Threshold = 2
	k, _ := h.m.Keeper(keeperID(0))
	k.Reputation = 5
	h.m.Keepers()[1].Reputation = 5
	o, _ := h.m.OpenRound(r.Id)
	o.Votes = append(o.Votes, &lightkeeperv1.Vote{})
	h.m.OpenRounds()[0].Phase = lightkeeperv1.RoundPhase_ROUND_PHASE_CLOSED
	sn := h.m.Snapshot()
	sn.Keepers[2].Stake = 0
	if !snapshotsEqual(before, h.m.Snapshot()) {
		t.Fatal("machine state changed through a returned or passed value")
	}
	// Votes: the stored vote is a copy too.
	vt := voteTx(r.Id, h.index[res.Rounds[0].Committee[0]], approve)
	h.ok(h.apply(0, vt))
	vt.GetCastVote().Vote.Kind = reject
	if o, _ := h.m.OpenRound(res.Rounds[0].Id); o.Votes[0].Kind != approve {
		t.Fatal("stored vote aliases the transaction")
	}
}

func TestResultRecords(t *testing.T) {
	h := newHarness(t, 12, 100, nil)
	r1 := h.submit()
	r2 := h.submit()
	// One block: votes on both rounds, r1 decided.
	res := h.ok(h.apply(time.Second, append(votes(r2, h, abstain, 0), votes(r1, h, approve, seatRange(0, 7)...)...)...))
	ids := []string{r1.Id, r2.Id}
	slices.Sort(ids)
	if len(res.Rounds) != 2 || res.Rounds[0].Id != ids[0] || res.Rounds[1].Id != ids[1] {
		t.Fatal("rounds not all there or not sorted")
	}
	changed := map[string]bool{}
	for i, k := range res.Keepers {
		if i > 0 && res.Keepers[i-1].Id >= k.Id {
			t.Fatal("keepers not sorted")
		}
		changed[k.Id] = true
	}
	for s := 0; s < 7; s++ {
		if !changed[r1.Committee[s]] {
			t.Fatalf("settled keeper at seat %d not in Keepers", s)
		}
	}
	// Every record equals the machine's.
	for _, k := range res.Keepers {
		if cur, _ := h.m.Keeper(k.Id); !proto.Equal(cur, k) {
			t.Fatal("result keeper differs from state")
		}
	}
	for _, r := range res.Rounds {
		if cur, _ := h.m.OpenRound(r.Id); !proto.Equal(cur, r) {
			t.Fatal("result round differs from state")
		}
	}
	if !proto.Equal(res.Meta, h.m.Snapshot().Meta) {
		t.Fatal("meta differs")
	}
}

func TestRestoreValidation(t *testing.T) {
	h := newHarness(t, 10, 100, nil)
	r := h.submit()
	h.ok(h.apply(0, votes(r, h, approve, 0)...))
	for name, mut := range map[string]func(s *Snapshot){
		"no meta":         func(s *Snapshot) { s.Meta = nil },
		"bad params":      func(s *Snapshot) { s.Meta.Params.Threshold = 0 },
		"bad head hash":   func(s *Snapshot) { s.Meta.HeadHash[0] ^= 1 },
		"bad keeper id":   func(s *Snapshot) { s.Keepers[0].Id = "k" },
		"dup keeper":      func(s *Snapshot) { s.Keepers[1].Id = s.Keepers[0].Id },
		"bad round id":    func(s *Snapshot) { s.RoundIDs[0] = "r" },
		"closed open":     func(s *Snapshot) { s.OpenRounds[0].Phase = lightkeeperv1.RoundPhase_ROUND_PHASE_CLOSED },
		"unknown member":  func(s *Snapshot) { s.OpenRounds[0].Committee[0] = keeperID(99) },
		"foreign vote":    func(s *Snapshot) { s.OpenRounds[0].Votes[0].KeeperId = keeperID(99) },
		"no deadline":     func(s *Snapshot) { s.OpenRounds[0].Deadline = nil },
		"bad vk":          func(s *Snapshot) { s.VerifyingKeys[0].Id = "v" },
		"evidence member": func(s *Snapshot) { s.Evidence = []*lightkeeperv1.Evidence{{RoundId: r.Id, KeeperId: keeperID(99)}} },
	} {
		s := h.m.Snapshot()
		mut(&s)
		if _, err := Restore(s); !errors.Is(err, ErrInvalidSnapshot) {
			t.Errorf("%s: got %v", name, err)
		}
	}
	m2, err := Restore(h.m.Snapshot())
	if err != nil {
		t.Fatal(err)
	}
	if !snapshotsEqual(m2.Snapshot(), h.m.Snapshot()) {
		t.Fatal("Restore(Snapshot()) differs")
	}
}

func TestVerifyCertificate(t *testing.T) {
	h := newHarness(t, 12, 100, nil)
	r := h.submit()
	s := h.seats(r)
	res := h.ok(h.apply(time.Second, append(votes(r, h, reject, 0, 1), votes(r, h, approve, seatRange(2, 9)...)...)...))
	cert := served(res.Block.Certificates[0])
	if err := protocol.VerifyCertificate(cert, h.m.Params()); err != nil {
		t.Fatal(err)
	}
	outsider := h.nonMember(r)
	for _, tc := range []struct {
		name string
		mut  func(c *lightkeeperv1.Certificate)
	}{
		{"nil", nil},
		{"chain", func(c *lightkeeperv1.Certificate) { c.ChainId = "other" }},
		{"no chain", func(c *lightkeeperv1.Certificate) { c.ChainId = "" }},
		{"round id", func(c *lightkeeperv1.Certificate) { c.RoundId = protocol.RoundID(testChain, proofRequest(h.vk, "zz")) }},
		{"bad round id", func(c *lightkeeperv1.Certificate) { c.RoundId = "r" }},
		{"outcome", func(c *lightkeeperv1.Certificate) { c.Outcome = lightkeeperv1.Outcome_OUTCOME_REJECTED }},
		{"timeout", func(c *lightkeeperv1.Certificate) { c.Outcome = lightkeeperv1.Outcome_OUTCOME_TIMEOUT }},
		{"no outcome", func(c *lightkeeperv1.Certificate) { c.Outcome = 0 }},
		{"seed", func(c *lightkeeperv1.Certificate) { c.Seed = []byte("x") }},
		{"seats swapped", func(c *lightkeeperv1.Certificate) { c.Committee[0], c.Committee[1] = c.Committee[1], c.Committee[0] }},
		{"member replaced", func(c *lightkeeperv1.Certificate) { c.Committee[3] = keeperID(outsider) }},
		{"weight", func(c *lightkeeperv1.Certificate) { c.Eligible[0].Weight *= 3 }},
		{"eligible dropped", func(c *lightkeeperv1.Certificate) { c.Eligible = c.Eligible[1:] }},
		{"list does not match hash", func(c *lightkeeperv1.Certificate) { c.EligibleHash[0] ^= 1 }},
		{"list missing", func(c *lightkeeperv1.Certificate) { c.Eligible = nil }},
		{"hash missing, list changed", func(c *lightkeeperv1.Certificate) { c.EligibleHash, c.Eligible[0].Weight = nil, c.Eligible[0].Weight*3 }},
		{"short hash", func(c *lightkeeperv1.Certificate) { c.EligibleHash = c.EligibleHash[:31] }},
		{"empty committee", func(c *lightkeeperv1.Certificate) { c.Committee = nil }},
		{"threshold", func(c *lightkeeperv1.Certificate) { c.Threshold = 6 }},
		{"threshold too big", func(c *lightkeeperv1.Certificate) { c.Threshold = 11 }},
		{"reject threshold", func(c *lightkeeperv1.Certificate) { c.RejectThreshold = 3 }},
		{"a vote dropped", func(c *lightkeeperv1.Certificate) { c.Votes = c.Votes[1:3] }},
		{"duplicate vote", func(c *lightkeeperv1.Certificate) { c.Votes[0] = c.Votes[8] }},
		{"kind flipped", func(c *lightkeeperv1.Certificate) { c.Votes[2].Kind = reject }},
		{"bad kind", func(c *lightkeeperv1.Certificate) { c.Votes[2].Kind = 0 }},
		{"signature", func(c *lightkeeperv1.Certificate) { c.Votes[4].Signature[0] ^= 1 }},
		{"short hash", func(c *lightkeeperv1.Certificate) { c.Votes[4].ResultHash = nil }},
		{"vote for another round", func(c *lightkeeperv1.Certificate) {
			c.Votes[4].RoundId = protocol.RoundID(testChain, proofRequest(h.vk, "zz"))
		}},
		{"outsider vote", func(c *lightkeeperv1.Certificate) {
			c.Votes = append(c.Votes, voteTx(r.Id, outsider, approve).GetCastVote().Vote)
		}},
	} {
		var c *lightkeeperv1.Certificate
		if tc.mut != nil {
			c = proto.Clone(cert).(*lightkeeperv1.Certificate)
			tc.mut(c)
		}
		if err := protocol.VerifyCertificate(c, h.m.Params()); !errors.Is(err, protocol.ErrBadCertificate) {
			t.Errorf("%s: got %v", tc.name, err)
		}
	}
	// The list checks name their problem (typed errors).
	c := proto.Clone(cert).(*lightkeeperv1.Certificate)
	c.Eligible = nil
	if err := protocol.VerifyCertificate(c, h.m.Params()); !errors.Is(err, protocol.ErrEligibleMissing) || !errors.Is(err, protocol.ErrBadCertificate) {
		t.Errorf("list missing: %v", err)
	}
	c = proto.Clone(cert).(*lightkeeperv1.Certificate)
	c.Eligible[len(c.Eligible)-1].Weight++
	if err := protocol.VerifyCertificate(c, h.m.Params()); !errors.Is(err, protocol.ErrEligibleMismatch) || !errors.Is(err, protocol.ErrBadCertificate) {
		t.Errorf("list not matching the hash: %v", err)
	}
	// A TIMEOUT certificate with too few votes for either side is valid.
	c = proto.Clone(cert).(*lightkeeperv1.Certificate)
	c.Votes, c.Outcome = c.Votes[:8], lightkeeperv1.Outcome_OUTCOME_TIMEOUT
	if err := protocol.VerifyCertificate(c, h.m.Params()); err != nil {
		t.Fatal(err)
	}
	// A member's vote signed for another chain fails.
	v := voteTxHash("other", r.Id, s[9], approve, [32]byte{}).GetCastVote().Vote
	c = proto.Clone(cert).(*lightkeeperv1.Certificate)
	c.Votes = append(c.Votes, v)
	if err := protocol.VerifyCertificate(c, h.m.Params()); !errors.Is(err, protocol.ErrBadCertificate) {
		t.Fatal("vote signed for another chain accepted")
	}
}

// Registering a known key under another scheme or curve is a
// contradiction, refused rather than answered with the stored record.
func TestRegisterVerifyingKeyContradiction(t *testing.T) {
	h := newHarness(t, 1, 1, nil)
	key := testVK("plonk_bls12_381")
	h.ok(h.apply(0, vkTx(key, lightkeeperv1.Scheme_SCHEME_PLONK, lightkeeperv1.Curve_CURVE_BLS12_381)))
	res := h.apply(0,
		vkTx(key, lightkeeperv1.Scheme_SCHEME_GROTH16, lightkeeperv1.Curve_CURVE_BLS12_381),
		vkTx(key, lightkeeperv1.Scheme_SCHEME_PLONK, lightkeeperv1.Curve_CURVE_BN254),
		vkTx(key, lightkeeperv1.Scheme_SCHEME_PLONK, lightkeeperv1.Curve(99)),
		vkTx(key, lightkeeperv1.Scheme_SCHEME_PLONK, lightkeeperv1.Curve_CURVE_BLS12_381),
	)
	for i, want := range []string{"scheme", "curve", "curve", ""} {
		err := res.TxResults[i].Err
		if want == "" {
			if err != nil || res.TxResults[i].VerifyingKey.GetId() != vkID(key) {
				t.Errorf("tx %d: %v, want the stored record", i, err)
			}
			continue
		}
		if !errors.Is(err, ErrInvalidRequest) || !strings.Contains(err.Error(), want) || res.TxResults[i].VerifyingKey != nil {
			t.Errorf("tx %d: %v (%v), want ErrInvalidRequest naming %s", i, err, res.TxResults[i].VerifyingKey, want)
		}
	}
}
