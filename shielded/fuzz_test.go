package shielded

import (
	"bytes"
	"math/big"
	"testing"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
)

func rModulus() *big.Int { return fr.Modulus() }

// FuzzUnmarshalTree: whatever the input, decoding does not panic, and an
// accepted input is canonical (re-encodes to itself) and is a working tree
// (appending to it behaves, and its root is consistent).
func FuzzUnmarshalTree(f *testing.F) {
	r := testRand(31)
	for _, c := range []struct{ depth, history, n int }{
		{1, 1, 0}, {1, 1, 1}, {1, 2, 2}, {2, 3, 4}, {4, 3, 5}, {5, 10, 13}, {DefaultDepth, DefaultRootHistory, 0}, {DefaultDepth, DefaultRootHistory, 7}, {DefaultDepth, 4, 9},
	} {
		tree, _ := NewTree(c.depth, c.history)
		for range c.n {
			tree.Append(randScalar(r))
		}
		b, _ := tree.MarshalBinary()
		f.Add(b)
	}
	f.Add([]byte("LKMT"))
	f.Add([]byte("LKMT\x01\x14\x00\x64\x00\x00\x00\x00\x00\x00\x00\x00"))
	f.Add([]byte("LKMT\x01\x14\x00\x64\x00\x00\x00\x00\x00\x00\x00\x01"))
	f.Fuzz(func(t *testing.T, b []byte) {
		tree, err := UnmarshalTree(b)
		if err != nil {
			return
		}
		again, _ := tree.MarshalBinary()
		if !bytes.Equal(again, b) {
			t.Fatalf("accepted a non-canonical encoding:\n in  %x\n out %x", b, again)
		}
		if tree.Size() > 0 && !tree.KnownRoot(tree.Root()) {
			t.Fatal("decoded root is not known")
		}
		if tree.Size() < tree.Capacity() {
			if tree.rootFromFrontier() != tree.Root() {
				t.Fatal("decoded root does not match the frontier")
			}
			c := tree.Clone()
			if _, _, err := c.Append(ScalarFromUint64(1)); err != nil {
				t.Fatalf("append after decode: %v", err)
			}
		}
	})
}

// FuzzDecodePublicInputs: no panic; an accepted input re-encodes to itself.
func FuzzDecodePublicInputs(f *testing.F) {
	good, _ := PublicInputs{Root: ScalarFromUint64(1), Nullifier: ScalarFromUint64(2), Amount: 3, Recipient: RecipientFromAddress([]byte("x"))}.MarshalBinary()
	f.Add(good)
	f.Add(good[:12])
	f.Add([]byte(`["1","2","3","4"]`))
	f.Add(append(bytes.Clone(good[:len(good)-32]), bytes.Repeat([]byte{0xff}, 32)...))
	f.Add(make([]byte, PublicInputsSize))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := DecodePublicInputs(b)
		if err != nil {
			return
		}
		again, _ := p.MarshalBinary()
		if !bytes.Equal(again, b) {
			t.Fatalf("accepted a non-canonical encoding %x", b)
		}
	})
}

// FuzzNote: no panic; an accepted note re-encodes to itself.
func FuzzNote(f *testing.F) {
	n, _ := NewNote(seededReader{testRand(37)}, 12345)
	good, _ := n.MarshalBinary()
	f.Add(good)
	f.Add(good[:10])
	f.Add(make([]byte, NoteSize))
	f.Fuzz(func(t *testing.T, b []byte) {
		var n Note
		if n.UnmarshalBinary(b) != nil {
			return
		}
		again, _ := n.MarshalBinary()
		if !bytes.Equal(again, b) {
			t.Fatalf("accepted a non-canonical note %x", b)
		}
	})
}
