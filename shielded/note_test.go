package shielded

import (
	"bytes"
	"errors"
	"testing"
)

// seededReader is a deterministic byte stream for reproducible notes.
type seededReader struct{ r interface{ Uint64() uint64 } }

func (s seededReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(s.r.Uint64())
	}
	return len(p), nil
}

func TestNewNote(t *testing.T) {
	a, err := NewNote(seededReader{testRand(1)}, 42)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := NewNote(seededReader{testRand(1)}, 42)
	c, _ := NewNote(seededReader{testRand(2)}, 42)
	if a != b || a == c || a.Amount != 42 || a.Secret.IsZero() || a.NullifierKey.IsZero() || a.Secret == a.NullifierKey {
		t.Fatalf("NewNote: %+v %+v %+v", a, b, c)
	}
	if _, err := NewNote(bytes.NewReader(make([]byte, 40)), 1); err == nil {
		t.Fatal("a short reader gave a note")
	}
	// A reader of 0xff... never yields a value below r (after masking, 2²⁵⁴−1 > r).
	if _, err := NewNote(bytes.NewReader(bytes.Repeat([]byte{0xff}, 1<<14)), 1); err == nil {
		t.Fatal("a reader stuck above r gave a note")
	}
	// All zeros: zero is rejected too.
	if _, err := NewNote(bytes.NewReader(make([]byte, 1<<14)), 1); err == nil {
		t.Fatal("a zero reader gave a note")
	}
}

func TestNoteRelations(t *testing.T) {
	n, _ := NewNote(seededReader{testRand(3)}, 7)
	if n.Commitment() != Commitment(Precommitment(n.NullifierKey, n.Secret), 7) {
		t.Fatal("commitment is not H_com(H_pre(nk, secret), amount)")
	}
	// The amount is bound: the same secrets with another amount are another leaf.
	m := n
	m.Amount = 8
	if m.Commitment() == n.Commitment() || m.Precommitment() != n.Precommitment() {
		t.Fatal("amount binding")
	}
	// Same note at two positions: two different nullifiers (two deposits,
	// two spends; no Faerie Gold).
	if n.Nullifier(0) == n.Nullifier(1) || n.Nullifier(0) != Nullifier(n.NullifierKey, 0) {
		t.Fatal("nullifier is not per position")
	}
	// The nullifier does not depend on the secret or the amount, only on the
	// key and the position: whatever root a proof uses, one spend.
	m.Secret = ScalarFromUint64(99)
	if m.Nullifier(3) != n.Nullifier(3) {
		t.Fatal("nullifier depends on more than (nk, index)")
	}
}

func TestNoteEncoding(t *testing.T) {
	n, _ := NewNote(seededReader{testRand(4)}, 1<<63+5)
	b, err := n.MarshalBinary()
	if err != nil || len(b) != NoteSize {
		t.Fatalf("MarshalBinary: %d bytes, %v", len(b), err)
	}
	var m Note
	if err := m.UnmarshalBinary(b); err != nil || m != n {
		t.Fatalf("round trip: %v", err)
	}
	bad := map[string][]byte{
		"short":    b[:NoteSize-1],
		"long":     append(bytes.Clone(b), 0),
		"version":  append([]byte{2}, b[1:]...),
		"secret":   append(append([]byte{1}, bytes.Repeat([]byte{0xff}, 32)...), b[33:]...),
		"key":      append(append(bytes.Clone(b[:33]), bytes.Repeat([]byte{0xff}, 32)...), b[65:]...),
		"nil":      nil,
		"all zero": make([]byte, NoteSize), // version 0 is unknown
	}
	for name, x := range bad {
		if err := m.UnmarshalBinary(x); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if errors.Is(m.UnmarshalBinary(bad["secret"]), ErrNotCanonical) == false {
		t.Error("a non-canonical secret is not reported as such")
	}
}
