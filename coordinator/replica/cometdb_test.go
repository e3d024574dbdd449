package replica

import (
	"bytes"
	"fmt"
	"testing"

	dbm "github.com/cometbft/cometbft-db"
	cmtcfg "github.com/cometbft/cometbft/config"
)

func openCometDB(t *testing.T) dbm.DB {
	t.Helper()
	cfg := cmtcfg.DefaultConfig()
	cfg.SetRoot(t.TempDir())
	db, err := PebbleDBProvider(nil)(&cmtcfg.DBContext{ID: "test", Config: cfg})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func keys(t *testing.T, it dbm.Iterator) string {
	t.Helper()
	defer it.Close()
	var out []string
	for ; it.Valid(); it.Next() {
		out = append(out, string(it.Key())+"="+string(it.Value()))
	}
	if err := it.Error(); err != nil {
		t.Fatal(err)
	}
	return fmt.Sprint(out)
}

// TestCometDB checks the adapter against cometbft-db's contract as its
// stores use it: missing keys read as nil, [start, end) iteration both
// ways, batches, and the refusals of empty keys and nil values.
func TestCometDB(t *testing.T) {
	db := openCometDB(t)
	for _, k := range []string{"a", "b", "c", "d"} {
		if err := db.Set([]byte(k), []byte("v"+k)); err != nil {
			t.Fatal(err)
		}
	}
	if v, err := db.Get([]byte("b")); err != nil || !bytes.Equal(v, []byte("vb")) {
		t.Fatalf("Get b: %q %v", v, err)
	}
	if v, err := db.Get([]byte("x")); err != nil || v != nil {
		t.Fatalf("Get of a missing key: %q %v, want nil, nil", v, err)
	}
	if ok, _ := db.Has([]byte("x")); ok {
		t.Fatal("Has of a missing key")
	}
	for _, c := range []struct {
		start, end string
		reverse    bool
		want       string
	}{
		{"", "", false, "[a=va b=vb c=vc d=vd]"},
		{"b", "d", false, "[b=vb c=vc]"},
		{"", "", true, "[d=vd c=vc b=vb a=va]"},
		{"b", "d", true, "[c=vc b=vb]"},
		{"e", "", false, "[]"},
	} {
		var start, end []byte
		if c.start != "" {
			start = []byte(c.start)
		}
		if c.end != "" {
			end = []byte(c.end)
		}
		var it dbm.Iterator
		var err error
		if c.reverse {
			it, err = db.ReverseIterator(start, end)
		} else {
			it, err = db.Iterator(start, end)
		}
		if err != nil {
			t.Fatal(err)
		}
		if got := keys(t, it); got != c.want {
			t.Errorf("[%q, %q) reverse %t: %s, want %s", c.start, c.end, c.reverse, got, c.want)
		}
	}
	b := db.NewBatch()
	if err := b.Set([]byte("e"), []byte("ve")); err != nil {
		t.Fatal(err)
	}
	if err := b.Delete([]byte("a")); err != nil {
		t.Fatal(err)
	}
	if v, _ := db.Get([]byte("e")); v != nil {
		t.Fatal("a batch's write is visible before Write")
	}
	if err := b.WriteSync(); err != nil {
		t.Fatal(err)
	}
	if err := b.Set([]byte("f"), []byte("vf")); err == nil {
		t.Fatal("a written batch takes more writes")
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	it, _ := db.Iterator(nil, nil)
	if got := keys(t, it); got != "[b=vb c=vc d=vd e=ve]" {
		t.Fatalf("after the batch: %s", got)
	}
	if err := db.DeleteSync([]byte("b")); err != nil {
		t.Fatal(err)
	}
	if err := db.Compact(nil, nil); err != nil {
		t.Fatal(err)
	}
	if err := db.Set(nil, []byte("v")); err == nil {
		t.Error("Set with an empty key")
	}
	if err := db.Set([]byte("k"), nil); err == nil {
		t.Error("Set with a nil value")
	}
	if _, err := db.Iterator([]byte{}, nil); err == nil {
		t.Error("Iterator with an empty start")
	}

	// Closed (CometBFT's reactors may still read): reads find nothing,
	// writes fail, nothing panics.
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if v, err := db.Get([]byte("c")); v != nil || err != nil {
		t.Errorf("Get after Close: %q, %v; want nil, nil", v, err)
	}
	if err := db.Set([]byte("k"), []byte("v")); err == nil {
		t.Error("Set after Close")
	}
	if err := db.NewBatch().WriteSync(); err == nil {
		t.Error("a batch written after Close")
	}
	if _, err := db.Iterator(nil, nil); err == nil {
		t.Error("Iterator after Close")
	}
}
