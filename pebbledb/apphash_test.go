package pebbledb

import (
	"bytes"
	"testing"
)

func TestAppHash(t *testing.T) {
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, _, ok, err := s.AppHash(); ok || err != nil {
		t.Fatalf("a new store has an app hash (%t, %v)", ok, err)
	}
	want := bytes.Repeat([]byte{7}, 32)
	b := s.NewBatch()
	if err := b.PutAppHash(42, want); err != nil {
		t.Fatal(err)
	}
	if _, _, ok, _ := s.AppHash(); ok {
		t.Fatal("the app hash is visible before Commit")
	}
	if err := b.Commit(); err != nil {
		t.Fatal(err)
	}
	h, got, ok, err := s.AppHash()
	if err != nil || !ok || h != 42 || !bytes.Equal(got, want) {
		t.Fatalf("AppHash: %d %X %t %v", h, got, ok, err)
	}
	discarded := s.NewBatch()
	if err := discarded.PutAppHash(1, nil); err != nil {
		t.Fatal(err)
	}
	discarded.Close() // an uncommitted batch changes nothing
	if h, _, _, _ := s.AppHash(); h != 42 {
		t.Fatalf("height %d after an uncommitted batch", h)
	}
}
