package state

import (
	"slices"
	"testing"
)

// The cheap reads agree with the copying ones they stand in for.
func TestKeeperOnlineReads(t *testing.T) {
	h := newHarness(t, 6, 1000, nil)
	h.ok(h.apply(0, onlineTx(2, false)))
	h.ok(h.apply(0, registerTx(testChain, 7))) // registered, never online
	var ids []string
	m := map[string]bool{}
	h.m.EachRegisteredKeeper(func(id string, online bool) { ids, m[id] = append(ids, id), online })
	var want []string
	for _, k := range h.m.Keepers() {
		if !k.GetRegistered() {
			continue
		}
		want = append(want, k.GetId())
		if m[k.GetId()] != k.GetOnline() {
			t.Errorf("keeper %s: online %v, record says %v", k.GetId(), m[k.GetId()], k.GetOnline())
		}
		if online, known := h.m.KeeperOnline(k.GetId()); !known || online != k.GetOnline() {
			t.Errorf("KeeperOnline(%s) = %v, %v; record says %v", k.GetId(), online, known, k.GetOnline())
		}
	}
	slices.Sort(ids)
	if !slices.Equal(ids, want) || len(ids) != 7 {
		t.Fatalf("registered keepers %v, want %v (7)", ids, want)
	}
	if m[keeperID(2)] || m[keeperID(7)] || !m[keeperID(0)] {
		t.Errorf("online flags %v", m)
	}
	if _, known := h.m.KeeperOnline(keeperID(40)); known {
		t.Error("an unknown keeper is known")
	}
}
