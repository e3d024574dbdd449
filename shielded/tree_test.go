package shielded

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"reflect"
	"testing"
)

// randScalar returns a pseudo-random field element from a seeded source.
func randScalar(r *rand.Rand) Scalar {
	var b [ScalarSize]byte
	for {
		for i := range b {
			b[i] = byte(r.Uint32())
		}
		b[0] &= 0x3f
		if s, err := ParseScalar(b[:]); err == nil {
			return s
		}
	}
}

func testRand(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)) }

// naiveRootFull pads the leaves to 2^depth with the empty leaf and hashes
// level by level: the definition, for small depths.
func naiveRootFull(depth int, leaves []Scalar) Scalar {
	level := make([]Scalar, 1<<depth)
	for i := range level {
		if i < len(leaves) {
			level[i] = leaves[i]
		} else {
			level[i] = labelScalar(emptyLeafLabel)
		}
	}
	for len(level) > 1 {
		next := make([]Scalar, len(level)/2)
		for i := range next {
			next[i] = HashNode(level[2*i], level[2*i+1])
		}
		level = next
	}
	return level[0]
}

// naiveRoot is the same definition computed recursively, with empty
// subtrees' roots recomputed from the empty leaf (not taken from
// ZeroHash), so it is independent of both trees' code. O(len · depth).
func naiveRoot(depth int, leaves []Scalar) Scalar {
	empty := []Scalar{labelScalar(emptyLeafLabel)}
	for l := 1; l <= depth; l++ {
		empty = append(empty, HashNode(empty[l-1], empty[l-1]))
	}
	var node func(h int, i uint64) Scalar
	node = func(h int, i uint64) Scalar {
		if i<<h >= uint64(len(leaves)) {
			return empty[h]
		}
		if h == 0 {
			return leaves[i]
		}
		return HashNode(node(h-1, 2*i), node(h-1, 2*i+1))
	}
	return node(depth, 0)
}

func TestNaiveReferencesAgree(t *testing.T) {
	r := testRand(1)
	var leaves []Scalar
	for n := 0; n <= 16; n++ {
		if got, want := naiveRoot(4, leaves), naiveRootFull(4, leaves); got != want {
			t.Fatalf("%d leaves: recursive %s, full %s", n, got, want)
		}
		leaves = append(leaves, randScalar(r))
	}
}

// appendAll appends leaves to a Tree and a WalletTree and checks, after
// each append, index, root agreement, the naive root (when check says so),
// history and the encoding round trip.
func TestTreeMatchesNaive(t *testing.T) {
	for _, tc := range []struct {
		depth, n, history, every int
	}{
		{1, 2, 1, 1},
		{2, 4, 3, 1},
		{3, 8, 100, 1},
		{5, 32, 7, 1},
		{8, 200, 100, 3},
		{DefaultDepth, 300, DefaultRootHistory, 23},
	} {
		r := testRand(uint64(tc.depth*1000 + tc.n))
		tree, err := NewTree(tc.depth, tc.history)
		if err != nil {
			t.Fatal(err)
		}
		wallet, err := NewWalletTree(tc.depth)
		if err != nil {
			t.Fatal(err)
		}
		if tree.Root() != naiveRoot(tc.depth, nil) || wallet.Root() != tree.Root() {
			t.Fatalf("depth %d: empty roots differ", tc.depth)
		}
		var leaves []Scalar
		for i := 0; i < tc.n; i++ {
			leaf := randScalar(r)
			leaves = append(leaves, leaf)
			idx, root, err := tree.Append(leaf)
			if err != nil || idx != uint64(i) || root != tree.Root() {
				t.Fatalf("depth %d append %d: idx %d err %v", tc.depth, i, idx, err)
			}
			widx, wroot, err := wallet.Append(leaf)
			if err != nil || widx != idx || wroot != root {
				t.Fatalf("depth %d append %d: wallet idx %d root %s err %v, tree root %s", tc.depth, i, widx, wroot, err, root)
			}
			if i%tc.every == 0 || i == tc.n-1 {
				if want := naiveRoot(tc.depth, leaves); root != want {
					t.Fatalf("depth %d after %d leaves: root %s, naive %s", tc.depth, i+1, root, want)
				}
				if tc.depth <= 8 {
					if want := naiveRootFull(tc.depth, leaves); root != want {
						t.Fatalf("depth %d after %d leaves: root %s, naive (full) %s", tc.depth, i+1, root, want)
					}
				}
				checkRoundTrip(t, tree)
				// Leaves' paths lead to the current root: all of them in
				// small trees, the newest and a sample of the others in
				// large ones.
				sample := []int{len(leaves) - 1, r.IntN(len(leaves)), r.IntN(len(leaves))}
				if len(leaves) <= 32 {
					sample = sample[:0]
					for j := range leaves {
						sample = append(sample, j)
					}
				}
				for _, j := range sample {
					p, err := wallet.Path(uint64(j))
					if err != nil {
						t.Fatal(err)
					}
					if err := p.Verify(root, leaves[j]); err != nil {
						t.Fatalf("depth %d leaf %d of %d: %v", tc.depth, j, len(leaves), err)
					}
				}
			}
			if !tree.KnownRoot(root) {
				t.Fatalf("depth %d: current root not known", tc.depth)
			}
		}
		if tree.Size() != uint64(tc.n) || wallet.Size() != uint64(tc.n) {
			t.Fatalf("sizes %d, %d; want %d", tree.Size(), wallet.Size(), tc.n)
		}
	}
}

func checkRoundTrip(t *testing.T, tree *Tree) {
	t.Helper()
	enc, err := tree.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	if len(enc) != tree.encodedSize() {
		t.Fatalf("encoding is %d bytes, encodedSize says %d", len(enc), tree.encodedSize())
	}
	dec, err := UnmarshalTree(enc)
	if err != nil {
		t.Fatalf("decoding a tree of %d leaves: %v", tree.Size(), err)
	}
	if !reflect.DeepEqual(dec, tree) {
		t.Fatalf("decoded tree differs:\n got  %+v\n want %+v", dec, tree)
	}
	again, _ := dec.MarshalBinary()
	if !bytes.Equal(again, enc) {
		t.Fatal("re-encoding differs")
	}
}

func TestTreeFull(t *testing.T) {
	tree, _ := NewTree(2, 10)
	wallet, _ := NewWalletTree(2)
	r := testRand(7)
	var leaves []Scalar
	for range 4 {
		l := randScalar(r)
		leaves = append(leaves, l)
		if _, _, err := tree.Append(l); err != nil {
			t.Fatal(err)
		}
		if _, _, err := wallet.Append(l); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := tree.Append(leaves[0]); !errors.Is(err, ErrTreeFull) {
		t.Fatalf("append to a full tree: %v", err)
	}
	if _, _, err := wallet.Append(leaves[0]); !errors.Is(err, ErrTreeFull) {
		t.Fatalf("append to a full wallet tree: %v", err)
	}
	if tree.Root() != naiveRootFull(2, leaves) || wallet.Root() != tree.Root() {
		t.Fatal("full tree root differs from the naive root")
	}
	checkRoundTrip(t, tree)
}

func TestRootHistory(t *testing.T) {
	const history = 5
	tree, _ := NewTree(10, history)
	r := testRand(3)
	empty := tree.Root()
	if tree.KnownRoot(empty) {
		t.Fatal("the empty tree's root is known")
	}
	if len(tree.Roots()) != 0 {
		t.Fatal("an empty tree has roots")
	}
	var all []Scalar
	for n := 1; n <= 3*history; n++ {
		_, root, _ := tree.Append(randScalar(r))
		all = append(all, root)
		window := all[max(0, len(all)-history):]
		if got := tree.Roots(); !reflect.DeepEqual(got, window) {
			t.Fatalf("after %d appends: Roots() = %v, want %v", n, got, window)
		}
		for i, root := range all {
			want := i >= len(all)-history
			if got := tree.KnownRoot(root); got != want {
				t.Fatalf("after %d appends: KnownRoot(root %d) = %v, want %v", n, i+1, got, want)
			}
		}
		if tree.KnownRoot(empty) {
			t.Fatal("the empty root became known")
		}
		if tree.KnownRoot(Scalar{}) {
			t.Fatal("0 is a known root")
		}
		checkRoundTrip(t, tree)
	}
	// Roots() is a copy.
	rs := tree.Roots()
	rs[0] = Scalar{}
	if tree.Roots()[0] == (Scalar{}) {
		t.Fatal("Roots() aliases the tree's history")
	}
}

func TestTreeCloneIsIndependent(t *testing.T) {
	tree := NewDefaultTree()
	r := testRand(5)
	tree.Append(randScalar(r))
	c := tree.Clone()
	c.Append(randScalar(r))
	if tree.Size() != 1 || c.Size() != 2 || tree.Root() == c.Root() || len(tree.Roots()) != 1 {
		t.Fatal("appending to a clone changed the original")
	}
}

// A decoded tree keeps appending exactly like the original.
func TestDecodedTreeContinues(t *testing.T) {
	r := testRand(11)
	a, _ := NewTree(6, 9)
	for range 21 {
		a.Append(randScalar(r))
	}
	enc, _ := a.MarshalBinary()
	b, err := UnmarshalTree(enc)
	if err != nil {
		t.Fatal(err)
	}
	for range 30 {
		l := randScalar(r)
		_, ra, _ := a.Append(l)
		_, rb, _ := b.Append(l)
		if ra != rb {
			t.Fatal("decoded tree diverged")
		}
	}
}

func TestNewTreeRejects(t *testing.T) {
	for _, c := range [][2]int{{0, 1}, {MaxDepth + 1, 1}, {20, 0}, {20, MaxRootHistory + 1}, {-1, 5}} {
		if _, err := NewTree(c[0], c[1]); err == nil {
			t.Errorf("NewTree(%d, %d) accepted", c[0], c[1])
		}
	}
	if _, err := NewWalletTree(0); err == nil {
		t.Error("NewWalletTree(0) accepted")
	}
}

func TestUnmarshalTreeRejects(t *testing.T) {
	r := testRand(13)
	tree, _ := NewTree(4, 3)
	for range 5 { // size 5 = 0b101: frontier at levels 0 and 2, 3 roots
		tree.Append(randScalar(r))
	}
	good, _ := tree.MarshalBinary()
	if _, err := UnmarshalTree(good); err != nil {
		t.Fatal(err)
	}
	mut := func(f func(b []byte) []byte) []byte { return f(bytes.Clone(good)) }
	nonCanonical := bytes.Repeat([]byte{0xff}, ScalarSize)
	cases := map[string][]byte{
		"empty":             nil,
		"short header":      good[:10],
		"bad magic":         mut(func(b []byte) []byte { b[0] = 'X'; return b }),
		"bad version":       mut(func(b []byte) []byte { b[4] = 2; return b }),
		"depth 0":           mut(func(b []byte) []byte { b[5] = 0; return b }),
		"depth 33":          mut(func(b []byte) []byte { b[5] = 33; return b }),
		"history 0":         mut(func(b []byte) []byte { b[6], b[7] = 0, 0; return b }),
		"history too big":   mut(func(b []byte) []byte { b[6], b[7] = 0xff, 0xff; return b }),
		"size > capacity":   mut(func(b []byte) []byte { b[15] = 17; return b }),
		"size changed":      mut(func(b []byte) []byte { b[15] = 6; return b }),
		"truncated":         good[:len(good)-1],
		"trailing byte":     append(bytes.Clone(good), 0),
		"frontier tampered": mut(func(b []byte) []byte { b[treeHeaderSize+31] ^= 1; return b }),
		"root tampered":     mut(func(b []byte) []byte { b[len(b)-1] ^= 1; return b }),
		"non-canonical frontier": mut(func(b []byte) []byte {
			copy(b[treeHeaderSize:], nonCanonical)
			return b
		}),
		"non-canonical root": mut(func(b []byte) []byte {
			copy(b[len(b)-ScalarSize:], nonCanonical)
			return b
		}),
	}
	for name, b := range cases {
		if _, err := UnmarshalTree(b); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestMerklePathVerifyRejects(t *testing.T) {
	r := testRand(17)
	w, _ := NewWalletTree(DefaultDepth)
	var leaves []Scalar
	for range 10 {
		l := randScalar(r)
		leaves = append(leaves, l)
		w.Append(l)
	}
	root := w.Root()
	p, _ := w.Path(3)
	if err := p.Verify(root, leaves[3]); err != nil {
		t.Fatal(err)
	}
	if p.Verify(root, leaves[4]) == nil {
		t.Error("another leaf verified on leaf 3's path")
	}
	q := p
	q.Index = 4
	if q.Verify(root, leaves[3]) == nil {
		t.Error("leaf 3's path verified at index 4")
	}
	q.Index = 3 | 1<<DefaultDepth
	if q.Verify(root, leaves[3]) == nil {
		t.Error("an index beyond the depth verified")
	}
	if p.Verify(randScalar(r), leaves[3]) == nil {
		t.Error("verified against a random root")
	}
	if _, err := w.Path(10); err == nil {
		t.Error("path of a missing leaf")
	}
	if _, err := w.Leaf(10); err == nil {
		t.Error("missing leaf returned")
	}
}
