package state

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/big"
	"math/rand"
	"slices"
	"strings"
	"testing"

	lightkeeperv1 "github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1"
	"github.com/lightkeeper-net/lightkeeper/protocol"
	"google.golang.org/protobuf/proto"
)

// refWeight is the weight formula in math/big, the reference for protocol.Weights.
func refWeights(stakes []uint64, reps []int64, sbps, rbps uint32) []uint64 {
	share := func(vals []*big.Int, bps uint32) []*big.Int {
		sum := new(big.Int)
		for _, v := range vals {
			sum.Add(sum, v)
		}
		out := make([]*big.Int, len(vals))
		for i, v := range vals {
			out[i] = new(big.Int)
			if sum.Sign() == 0 {
				continue
			}
			// With a sum beyond 64 bits protocol.Weights shifts every value first;
			// mirror that.
			shift := uint(0)
			if sum.BitLen() > 64 {
				shift = uint(sum.BitLen() - 64)
			}
			if shift > 0 {
				s := new(big.Int)
				for _, w := range vals {
					s.Add(s, new(big.Int).Rsh(w, shift))
				}
				out[i].Lsh(big.NewInt(int64(bps)), 32)
				out[i].Mul(out[i], new(big.Int).Rsh(v, shift))
				out[i].Quo(out[i], s)
				continue
			}
			out[i].Lsh(big.NewInt(int64(bps)), 32)
			out[i].Mul(out[i], v)
			out[i].Quo(out[i], sum)
		}
		return out
	}
	sv := make([]*big.Int, len(stakes))
	rv := make([]*big.Int, len(reps))
	for i := range stakes {
		sv[i] = new(big.Int).SetUint64(stakes[i])
		rv[i] = big.NewInt(max(reps[i], 0))
	}
	a, b := share(sv, sbps), share(rv, rbps)
	out := make([]uint64, len(stakes))
	for i := range out {
		out[i] = new(big.Int).Add(a[i], b[i]).Uint64()
	}
	return out
}

func TestWeights(t *testing.T) {
	const u = uint64(1) << 32
	for _, tc := range []struct {
		name   string
		stakes []uint64
		reps   []int64
		s, r   uint32
		want   []uint64
	}{
		{"equal", []uint64{100, 100}, []int64{1000, 1000}, 7000, 3000, []uint64{5000 * u, 5000 * u}},
		{"stake only", []uint64{1, 3}, []int64{5, 5}, 10000, 0, []uint64{2500 * u, 7500 * u}},
		{"reputation only", []uint64{1, 3}, []int64{100, 300}, 0, 10000, []uint64{2500 * u, 7500 * u}},
		// 7000·2³²/3 = 10,021,333,102,933.33 → floor; 3000·2³²/2 exact.
		{"floor", []uint64{1, 2}, []int64{7, 7}, 7000, 3000, []uint64{7000*u/3 + 1500*u, 14000*u/3 + 1500*u}},
		{"zero reputation sum", []uint64{1, 1}, []int64{0, 0}, 7000, 3000, []uint64{3500 * u, 3500 * u}},
		{"single", []uint64{42}, []int64{1000}, 7000, 3000, []uint64{10000 * u}},
		{"huge stakes", []uint64{math.MaxUint64, math.MaxUint64, 1}, []int64{1, 1, 1}, 7000, 3000,
			refWeights([]uint64{math.MaxUint64, math.MaxUint64, 1}, []int64{1, 1, 1}, 7000, 3000)},
	} {
		p := protocol.DefaultParams()
		p.StakeWeightBps, p.ReputationWeightBps = tc.s, tc.r
		var ks []*lightkeeperv1.Keeper
		for i := range tc.stakes {
			ks = append(ks, &lightkeeperv1.Keeper{Id: keeperID(i), Stake: tc.stakes[i], Reputation: tc.reps[i]})
		}
		got := protocol.Weights(ks, p)
		for i, w := range got {
			if w.KeeperId != keeperID(i) || w.Weight != tc.want[i] {
				t.Errorf("%s: keeper %d: got %d, want %d", tc.name, i, w.Weight, tc.want[i])
			}
		}
		if ref := refWeights(tc.stakes, tc.reps, tc.s, tc.r); !slices.Equal(ref, tc.want) {
			t.Errorf("%s: table disagrees with the math/big reference: %v", tc.name, ref)
		}
	}
	// Random inputs against the reference, including sums beyond 64 bits.
	rng := rand.New(rand.NewSource(1))
	for iter := 0; iter < 2000; iter++ {
		n := 1 + rng.Intn(12)
		stakes := make([]uint64, n)
		reps := make([]int64, n)
		var ks []*lightkeeperv1.Keeper
		for i := range stakes {
			switch rng.Intn(3) {
			case 0:
				stakes[i] = uint64(rng.Intn(1000))
			case 1:
				stakes[i] = rng.Uint64()
			default:
				stakes[i] = rng.Uint64() >> uint(rng.Intn(64))
			}
			reps[i] = rng.Int63n(protocol.MaxReputation)
			ks = append(ks, &lightkeeperv1.Keeper{Id: keeperID(i), Stake: stakes[i], Reputation: reps[i]})
		}
		sb := uint32(rng.Intn(10001))
		p := protocol.DefaultParams()
		p.StakeWeightBps, p.ReputationWeightBps = sb, 10000-sb
		got := protocol.Weights(ks, p)
		want := refWeights(stakes, reps, sb, 10000-sb)
		var total uint64
		for i := range got {
			if got[i].Weight != want[i] {
				t.Fatalf("iter %d keeper %d: got %d, want %d", iter, i, got[i].Weight, want[i])
			}
			total += got[i].Weight
		}
		if total > 10000<<32 {
			t.Fatalf("iter %d: total weight %d exceeds 10000·2³²", iter, total)
		}
	}
}

// refDraw is protocol.DrawCommittee in math/big.
func refDraw(seed []byte, roundID string, el []*lightkeeperv1.WeightedKeeper, size int) []string {
	rid, _ := protocol.ParseID(roundID)
	taken := map[int]bool{}
	var out []string
	for k := 0; k < size; k++ {
		var total uint64
		for i, e := range el {
			if !taken[i] {
				total += e.Weight
			}
		}
		var buf []byte
		buf = append(buf, seed...)
		buf = append(buf, rid[:]...)
		buf = binary.BigEndian.AppendUint32(buf, uint32(k))
		h := sha256.Sum256(buf)
		r := new(big.Int).Mod(new(big.Int).SetBytes(h[:]), new(big.Int).SetUint64(total)).Uint64()
		for i, e := range el {
			if taken[i] || e.Weight == 0 {
				continue
			}
			if r < e.Weight {
				taken[i] = true
				out = append(out, e.KeeperId)
				break
			}
			r -= e.Weight
		}
	}
	return out
}

func sortedEligible(n int, weight func(i int) uint64) []*lightkeeperv1.WeightedKeeper {
	var el []*lightkeeperv1.WeightedKeeper
	for i := 0; i < n; i++ {
		el = append(el, &lightkeeperv1.WeightedKeeper{KeeperId: keeperID(i), Weight: weight(i)})
	}
	slices.SortFunc(el, func(a, b *lightkeeperv1.WeightedKeeper) int { return strings.Compare(a.KeeperId, b.KeeperId) })
	return el
}

func TestDrawCommittee(t *testing.T) {
	rng := rand.New(rand.NewSource(2))
	rid := protocol.RoundID(testChain, proofRequest(vkID(fakeVK), "x"))
	for iter := 0; iter < 300; iter++ {
		n := 1 + rng.Intn(30)
		el := sortedEligible(n, func(i int) uint64 {
			if rng.Intn(5) == 0 {
				return 0
			}
			return uint64(rng.Int63n(1 << 40))
		})
		nonZero := 0
		for _, e := range el {
			if e.Weight > 0 {
				nonZero++
			}
		}
		seed := make([]byte, 32)
		rng.Read(seed)
		size := rng.Intn(nonZero + 1)
		got, err := protocol.DrawCommittee(seed, rid, el, size)
		if err != nil {
			t.Fatal(err)
		}
		if want := refDraw(seed, rid, el, size); !slices.Equal(got, want) {
			t.Fatalf("iter %d: got %v, reference %v", iter, got, want)
		}
		// The machine checks the list once and draws from it repeatedly.
		list, err := protocol.NewEligibleList(el)
		if err != nil {
			t.Fatal(err)
		}
		for range 2 {
			if viaList, err := list.Draw(seed, rid, size); err != nil || !slices.Equal(viaList, got) {
				t.Fatalf("iter %d: EligibleList.Draw gives %v (%v), DrawCommittee %v", iter, viaList, err, got)
			}
		}
		// Determinism, no repeats, only non-zero weights, prefix property:
		// the leader (seat 0) does not depend on the committee size.
		again, _ := protocol.DrawCommittee(seed, rid, el, size)
		if !slices.Equal(got, again) {
			t.Fatal("not deterministic")
		}
		seen := map[string]bool{}
		for _, id := range got {
			if seen[id] {
				t.Fatalf("keeper %s drawn twice", id)
			}
			seen[id] = true
			for _, e := range el {
				if e.KeeperId == id && e.Weight == 0 {
					t.Fatal("zero-weight keeper drawn")
				}
			}
		}
		if size > 0 {
			lead, _ := protocol.DrawCommittee(seed, rid, el, 1)
			if lead[0] != got[0] {
				t.Fatal("seat 0 depends on the committee size")
			}
		}
		if _, err := protocol.DrawCommittee(seed, rid, el, nonZero+1); !errors.Is(err, ErrNotEnoughKeepers) {
			t.Fatalf("oversized committee: %v", err)
		}
	}
	// Different seeds or round ids give different committees.
	el := sortedEligible(20, func(int) uint64 { return 1 << 32 })
	a, _ := protocol.DrawCommittee([]byte("seed-a"), rid, el, 10)
	b, _ := protocol.DrawCommittee([]byte("seed-b"), rid, el, 10)
	c, _ := protocol.DrawCommittee([]byte("seed-a"), protocol.RoundID(testChain, proofRequest(vkID(fakeVK), "y")), el, 10)
	if slices.Equal(a, b) || slices.Equal(a, c) {
		t.Fatal("committee does not depend on seed and round id")
	}
	// Malformed inputs.
	unsorted := slices.Clone(el)
	unsorted[0], unsorted[1] = unsorted[1], unsorted[0]
	for name, f := range map[string]func() error{
		"bad round id": func() error { _, err := protocol.DrawCommittee(nil, "xyz", el, 1); return err },
		"unsorted":     func() error { _, err := protocol.DrawCommittee(nil, rid, unsorted, 1); return err },
		"bad keeper id": func() error {
			_, err := protocol.DrawCommittee(nil, rid, []*lightkeeperv1.WeightedKeeper{{KeeperId: "k", Weight: 1}}, 1)
			return err
		},
		"overflow": func() error {
			_, err := protocol.DrawCommittee(nil, rid, sortedEligible(2, func(int) uint64 { return math.MaxUint64 }), 1)
			return err
		},
	} {
		if err := f(); !errors.Is(err, ErrInvalidRequest) {
			t.Errorf("%s: got %v", name, err)
		}
	}
}

// TestDrawCommitteeWeighting: a keeper with 9× the weight leads far more
// often (deterministic: fixed seeds).
func TestDrawCommitteeWeighting(t *testing.T) {
	el := sortedEligible(2, func(i int) uint64 { return uint64(1+8*i) << 32 })
	heavy := keeperID(1)
	leads := 0
	for s := 0; s < 1000; s++ {
		c, err := protocol.DrawCommittee([]byte(fmt.Sprint(s)), protocol.RoundID(testChain, proofRequest(vkID(fakeVK), "w")), el, 1)
		if err != nil {
			t.Fatal(err)
		}
		if c[0] == heavy {
			leads++
		}
	}
	if leads < 850 || leads > 950 {
		t.Fatalf("heavy keeper led %d/1000 rounds, want ≈900", leads)
	}
}

func TestCommitteeOfRound(t *testing.T) {
	h := newHarness(t, 14, 100, nil)
	r := h.submit()
	if len(r.Committee) != 10 || r.Threshold != 7 || r.RejectThreshold != 4 {
		t.Fatalf("committee %d threshold %d reject %d", len(r.Committee), r.Threshold, r.RejectThreshold)
	}
	// The round records what is needed to recompute the committee: the
	// seed is the hash of the block before the one that created it.
	// The round names its list by hash; the block stored the list.
	el := eligibleOf(r.EligibleHash)
	if h, err := protocol.EligibleListHash(el); err != nil || !bytes.Equal(h, r.EligibleHash) || len(r.Eligible) != 0 {
		t.Fatalf("eligible_hash %x: stored list hashes to %x (%v); round carries %d keepers", r.EligibleHash, h, err, len(r.Eligible))
	}
	want, err := protocol.DrawCommittee(r.Seed, r.Id, el, 10)
	if err != nil || !slices.Equal(want, r.Committee) {
		t.Fatalf("committee not recomputable: %v", err)
	}
	if len(el) != 14 {
		t.Fatalf("eligible %d", len(el))
	}
	for i, id := range r.Committee {
		if k := h.keeper(h.index[id]); k.RoundsAssigned != 1 {
			t.Fatalf("seat %d: rounds_assigned %d", i, k.RoundsAssigned)
		}
	}
	if o, ok := h.m.OpenRound(r.Id); !ok || !proto.Equal(o, r) {
		t.Fatal("OpenRound differs from the submitted round")
	}
}

func TestSeedIsIncludingBlocksSeed(t *testing.T) {
	h := newHarness(t, 10, 100, nil)
	_, prev := h.m.Head()
	entropy := bytes.Repeat([]byte{7}, protocol.EntropyLen)
	tx := submitTx(proofRequest(h.vk, "seed"))
	res, err := noted(h.m.ApplyBlock(BlockInput{TimeUnixMilli: h.now() + 5, Txs: []*lightkeeperv1.Transaction{tx}, Entropy: entropy}))
	if err != nil {
		t.Fatal(err)
	}
	r := h.ok(res).TxResults[0].Round
	hdr := res.Block.Header
	txHash, _ := protocol.TransactionsHash([]*lightkeeperv1.Transaction{tx})
	want := &lightkeeperv1.BlockHeader{Height: hdr.Height, Time: hdr.Time, PreviousHash: prev, TransactionsHash: txHash, Entropy: entropy}
	mustEqualProto(t, "seed_block", r.SeedBlock, want)
	if !bytes.Equal(r.Seed, protocol.CommitteeSeed(want)) || bytes.Equal(r.Seed, prev) || !bytes.Equal(hdr.Entropy, entropy) {
		t.Fatal("seed is not protocol.CommitteeSeed of the including block's header before execution")
	}
	if _, err := noted(h.m.ApplyBlock(BlockInput{TimeUnixMilli: h.now(), Entropy: []byte{1}})); !errors.Is(err, ErrInvalidRequest) {
		t.Fatalf("1-byte entropy: %v", err)
	}
	// The deadline is the block time plus the verification timeout.
	if got := r.Deadline.AsTime().UnixMilli() - r.SubmittedAt.AsTime().UnixMilli(); got != 30_000 || r.SubmittedAt.AsTime().UnixMilli() != h.now() {
		t.Fatalf("deadline %d ms after submission", got)
	}
	if r.Phase != lightkeeperv1.RoundPhase_ROUND_PHASE_VOTING || r.Kind != lightkeeperv1.RoundKind_ROUND_KIND_PROOF {
		t.Fatalf("phase %v kind %v", r.Phase, r.Kind)
	}
}

func TestCommitteeSizeAndEligibility(t *testing.T) {
	type mut func(h *harness)
	excl := func(i int, f func(k *lightkeeperv1.Keeper)) mut {
		return func(h *harness) { h.mutate(func(s *Snapshot) { setKeeper(s, keeperID(i), f) }) }
	}
	for _, tc := range []struct {
		name     string
		n        int
		muts     []mut
		size     int
		reject   uint32
		err      error
		excluded []int
	}{
		{name: "14 eligible", n: 14, size: 10, reject: 4},
		{name: "10 eligible", n: 10, size: 10, reject: 4},
		{name: "8 eligible", n: 8, size: 8, reject: 2},
		{name: "7 eligible", n: 7, size: 7, reject: 1},
		{name: "6 eligible", n: 6, err: ErrNotEnoughKeepers},
		{name: "offline", n: 10, size: 9, reject: 3, excluded: []int{3},
			muts: []mut{func(h *harness) { h.ok(h.apply(0, onlineTx(3, false))) }}},
		{name: "unregistered", n: 10, size: 9, reject: 3, excluded: []int{4},
			muts: []mut{excl(4, func(k *lightkeeperv1.Keeper) { k.Registered = false })}},
		{name: "jailed", n: 10, size: 9, reject: 3, excluded: []int{5},
			muts: []mut{excl(5, func(k *lightkeeperv1.Keeper) { k.Jailed = true })}},
		{name: "low reputation", n: 10, size: 9, reject: 3, excluded: []int{6},
			muts: []mut{excl(6, func(k *lightkeeperv1.Keeper) { k.Reputation = 199 })}},
		{name: "reputation at minimum is eligible", n: 10, size: 10, reject: 4,
			muts: []mut{excl(6, func(k *lightkeeperv1.Keeper) { k.Reputation = 200 })}},
		{name: "zero stake", n: 10, size: 9, reject: 3, excluded: []int{7},
			muts: []mut{excl(7, func(k *lightkeeperv1.Keeper) { k.Stake = 0 })}},
		{name: "four excluded", n: 10, err: ErrNotEnoughKeepers, muts: []mut{
			func(h *harness) {
				h.ok(h.apply(0, onlineTx(0, false), onlineTx(1, false), onlineTx(2, false), onlineTx(3, false)))
			},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, tc.n, 100, nil)
			for _, f := range tc.muts {
				f(h)
			}
			res := h.apply(0, submitTx(proofRequest(h.vk, "s")))
			tr := res.TxResults[0]
			if tc.err != nil {
				if !errors.Is(tr.Err, tc.err) {
					t.Fatalf("got %v, want %v", tr.Err, tc.err)
				}
				if !strings.Contains(tr.Err.Error(), "need at least threshold 7") {
					t.Fatalf("message does not give have/need: %v", tr.Err)
				}
				if h.m.KnownRound(tr.RoundID) || len(res.Events) != 0 {
					t.Fatal("a refused round left a trace")
				}
				return
			}
			if tr.Err != nil {
				t.Fatal(tr.Err)
			}
			r := tr.Round
			el := eligibleOf(r.EligibleHash)
			if len(el) == 0 {
				t.Fatal("the round's eligible list was not stored")
			}
			if len(r.Committee) != tc.size || r.RejectThreshold != tc.reject || r.Threshold != 7 {
				t.Fatalf("size %d reject %d, want %d %d", len(r.Committee), r.RejectThreshold, tc.size, tc.reject)
			}
			for _, x := range tc.excluded {
				for _, e := range el {
					if e.KeeperId == keeperID(x) {
						t.Fatalf("keeper %d is eligible", x)
					}
				}
			}
			for i := 1; i < len(el); i++ {
				if el[i-1].KeeperId >= el[i].KeeperId {
					t.Fatal("eligible not sorted by id")
				}
			}
		})
	}
}
