package state

import (
	"bytes"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lightkeeper-net/lightkeeper/coordinator/ledger"
	lightkeeperv1 "github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1"
	"github.com/lightkeeper-net/lightkeeper/protocol"
	"google.golang.org/protobuf/proto"
)

// indexesMismatch compares every derived index of index.go with a full
// scan of the records it indexes and returns what differs ("" when none).
// The simulations call it after every block, on every machine they run.
func indexesMismatch(m *Machine) string {
	ids := sortedKeys(m.keepers)
	if len(ids) != len(m.keeperOrder) {
		return "keeper order: wrong length"
	}
	for i, id := range ids {
		if m.keeperOrder[i] != m.keepers[id] {
			return "keeper order: " + id + " out of place or not the live record"
		}
	}

	var open []*openRound
	for _, o := range m.rounds {
		open = append(open, o)
	}
	slices.SortFunc(open, byDeadline)
	if !slices.Equal(open, m.deadlines) {
		return "deadline index differs from the open rounds sorted by (deadline, id)"
	}
	if d, ok := m.NextDeadline(); ok != (len(open) > 0) || ok && d != open[0].deadline {
		return "NextDeadline differs from a scan"
	}

	var due []unbondingDue
	for _, e := range m.unbonding {
		due = append(due, dueOf(e))
	}
	slices.SortFunc(due, byCompletion)
	if !slices.Equal(due, m.completions) {
		return "completion index differs from the unbonding entries sorted by (completes_at, id)"
	}
	var ends []sessionDue
	for _, k := range m.keepers {
		if k.SessionExpiresAt != nil {
			ends = append(ends, sessionDue{at: k.SessionExpiresAt.AsTime().UnixMilli(), id: k.Id})
		}
	}
	slices.SortFunc(ends, bySessionEnd)
	if !slices.Equal(ends, m.sessionEnds) {
		return "session index differs from the keepers' session expiries sorted by (expires_at, id)"
	}
	wake := m.NextEpochAt()
	for _, e := range ends {
		wake = min(wake, e.at)
	}
	for _, o := range m.rounds {
		wake = min(wake, o.deadline)
	}
	for _, e := range m.unbonding {
		wake = min(wake, e.CompletesAt.AsTime().UnixMilli())
	}
	if m.NextWakeup() != wake {
		return "NextWakeup differs from a scan"
	}

	if c := m.eligibleCache; c != nil && m.eligibleUnchanged(c.keepers) {
		fresh := protocol.Weights(m.eligible(), m.params)
		if !slices.EqualFunc(fresh, c.weights.Keepers(), func(a, b *lightkeeperv1.WeightedKeeper) bool { return proto.Equal(a, b) }) {
			return "eligible list taken as unchanged, but recomputing it gives another"
		}
	}
	return ""
}

func checkIndexes(t testing.TB, seed int64, step int, ms ...*Machine) {
	t.Helper()
	for i, m := range ms {
		if m == nil {
			continue
		}
		if bad := indexesMismatch(m); bad != "" {
			t.Fatalf("seed %d step %d machine %d: %s", seed, step, i, bad)
		}
	}
}

// The check must be able to fail: a stale entry, a missing round and a
// changed reputation are each noticed.
func TestIndexesMismatchNoticesDrift(t *testing.T) {
	h := newHarness(t, 10, 100, nil)
	res := h.ok(h.apply(time.Second, submitTx(proofRequest(h.vk, "drift"))))
	if bad := indexesMismatch(h.m); bad != "" {
		t.Fatalf("fresh machine: %s", bad)
	}
	o := h.m.rounds[res.TxResults[0].RoundID]

	h.m.deadlines = nil
	if bad := indexesMismatch(h.m); !strings.Contains(bad, "deadline index") {
		t.Errorf("round missing from the index: got %q", bad)
	}
	h.m.deadlines = []*openRound{o}

	if _, err := h.m.eligibleWeights(); err != nil {
		t.Fatal(err)
	}
	h.m.eligibleCache.weights.Keepers()[0].Weight++
	if bad := indexesMismatch(h.m); !strings.Contains(bad, "eligible list") {
		t.Errorf("corrupted eligible list: got %q", bad)
	}
	h.m.eligibleCache.weights.Keepers()[0].Weight--
	h.m.keeperOrder[0].Reputation++ // the cache notices and recomputes
	if bad := indexesMismatch(h.m); bad != "" {
		t.Errorf("after a reputation change: %s", bad)
	}
	if w, err := h.m.eligibleWeights(); err != nil || h.m.eligibleCache.keepers[0].Reputation != h.m.keeperOrder[0].Reputation || len(w.Keepers()) == 0 {
		t.Error("eligible list not recomputed after a reputation change")
	}
}

// Rounds opened while no keeper changed share one eligible list, stored
// once; a change of an input (going offline) gives a new one without that
// keeper, stored once too; a list used again is not stored again.
func TestEligibleListReusedWhileClean(t *testing.T) {
	h := newHarness(t, 10, 100, nil)
	res := h.ok(h.apply(time.Second, submitTx(proofRequest(h.vk, "a")), submitTx(proofRequest(h.vk, "b"))))
	ra, rb := h.m.rounds[res.TxResults[0].RoundID].r, h.m.rounds[res.TxResults[1].RoundID].r
	if len(ra.EligibleHash) != 32 || !bytes.Equal(ra.EligibleHash, rb.EligibleHash) || len(ra.Eligible) != 0 {
		t.Fatal("two rounds of one block do not share the eligible list by hash")
	}
	if len(res.EligibleLists) != 1 || !bytes.Equal(res.EligibleLists[0].Hash, ra.EligibleHash) || len(res.EligibleLists[0].Keepers) != 10 {
		t.Fatalf("block stored %d lists, want the one list of its rounds", len(res.EligibleLists))
	}
	if n := countChanges(res, ledger.EligibleLists); n != 1 {
		t.Fatalf("change set puts %d eligible lists, want 1", n)
	}
	res = h.ok(h.apply(time.Second, submitTx(proofRequest(h.vk, "d"))))
	if rd := h.m.rounds[res.TxResults[0].RoundID].r; !bytes.Equal(rd.EligibleHash, ra.EligibleHash) || len(res.EligibleLists) != 0 || countChanges(res, ledger.EligibleLists) != 0 {
		t.Fatal("a stored list was stored again")
	}
	off := keeperID(0)
	res = h.ok(h.apply(time.Second, onlineTx(0, false), submitTx(proofRequest(h.vk, "c"))))
	rc := h.m.rounds[res.TxResults[1].RoundID].r
	if bytes.Equal(rc.EligibleHash, ra.EligibleHash) || len(res.EligibleLists) != 1 {
		t.Fatal("the list was reused after a keeper went offline")
	}
	for _, w := range eligibleOf(rc.EligibleHash) {
		if w.KeeperId == off {
			t.Fatal("an offline keeper is on the new list")
		}
	}
	// A restored machine knows which lists are stored: it does not put
	// one again (a replica that restarted writes the same change set).
	m, err := Restore(h.m.Snapshot())
	if err != nil {
		t.Fatal(err)
	}
	h.m = m
	res = h.ok(h.apply(time.Second, submitTx(proofRequest(h.vk, "e"))))
	if len(res.EligibleLists) != 0 {
		t.Fatal("a restored machine stored a known list again")
	}
}

func countChanges(res *Result, f *ledger.Family) int {
	n := 0
	for _, c := range res.Changes {
		if c.Family == f {
			n++
		}
	}
	return n
}

// cloneWeights copies WeightedKeeper field by field: a field added to the
// message must be added there, or copies would silently lose it.
func TestCloneWeightsCopiesEveryField(t *testing.T) {
	fields := (&lightkeeperv1.WeightedKeeper{}).ProtoReflect().Descriptor().Fields()
	if fields.Len() != 2 {
		t.Fatalf("WeightedKeeper has %d fields; cloneWeights copies keeper_id and weight only", fields.Len())
	}
	in := []*lightkeeperv1.WeightedKeeper{{KeeperId: keeperID(1), Weight: 7}, {KeeperId: keeperID(2), Weight: 9}}
	c := cloneWeights(in)
	if len(c) != 2 || &c[0] == &in[0] || c[0] == in[0] || !proto.Equal(c[1], in[1]) {
		t.Fatal("cloneWeights: not an equal, independent copy")
	}
}
