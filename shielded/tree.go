package shielded

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"
	"slices"
)

const (
	// DefaultDepth is the depth of the pool's tree (2²⁰ ≈ 1M deposits) and
	// of the withdrawal circuit.
	DefaultDepth = 20
	// MaxDepth bounds the depth a Tree accepts.
	MaxDepth = 32
	// DefaultRootHistory is docs/design.md §3's root_history: a withdrawal may use
	// any of the last 100 roots.
	DefaultRootHistory = 100
	// MaxRootHistory bounds the root history a Tree accepts (and so the
	// size of its encoding).
	MaxRootHistory = 4096
)

// ErrTreeFull is returned by Append once 2^depth leaves are in the tree.
var ErrTreeFull = errors.New("shielded: merkle tree is full")

// Tree is the pool's incremental Merkle tree as the state machine keeps it:
// only the frontier (one node per level, O(depth) state), the current root
// and the last RootHistory roots. Leaves go left to right; missing leaves
// are EmptyLeaf. It is a pure value: no I/O, clock or randomness, and the
// same appends give byte-identical encodings. Not safe for concurrent
// mutation (the state machine applies transactions one at a time).
type Tree struct {
	depth   int
	history int // capacity of roots
	next    uint64
	// frontier[l] is the root of the last complete left subtree of height
	// l; it is meaningful (and kept) only when bit l of next is 1, and
	// zero otherwise, so equal trees are equal values.
	frontier []Scalar
	root     Scalar
	roots    []Scalar // oldest → newest, len = min(next, history)
}

// NewTree returns an empty tree of the given depth (1…MaxDepth) keeping
// the last rootHistory (1…MaxRootHistory) roots.
func NewTree(depth, rootHistory int) (*Tree, error) {
	if depth < 1 || depth > MaxDepth {
		return nil, fmt.Errorf("shielded: tree depth %d out of range 1…%d", depth, MaxDepth)
	}
	if rootHistory < 1 || rootHistory > MaxRootHistory {
		return nil, fmt.Errorf("shielded: root history %d out of range 1…%d", rootHistory, MaxRootHistory)
	}
	return &Tree{
		depth:    depth,
		history:  rootHistory,
		frontier: make([]Scalar, depth),
		root:     ZeroHash(depth),
	}, nil
}

// NewDefaultTree returns NewTree(DefaultDepth, DefaultRootHistory).
func NewDefaultTree() *Tree {
	t, err := NewTree(DefaultDepth, DefaultRootHistory)
	if err != nil {
		panic(err)
	}
	return t
}

// Depth returns the tree's depth.
func (t *Tree) Depth() int { return t.depth }

// RootHistory returns how many recent roots KnownRoot accepts.
func (t *Tree) RootHistory() int { return t.history }

// Size returns the number of leaves appended so far (the next leaf's index).
func (t *Tree) Size() uint64 { return t.next }

// Capacity returns 2^depth, the number of leaves the tree can hold.
func (t *Tree) Capacity() uint64 { return uint64(1) << t.depth }

// Root returns the current root (ZeroHash(depth) for an empty tree).
func (t *Tree) Root() Scalar { return t.root }

// Append adds leaf at index Size(), records the new root in the history
// and returns the index and the new root. It costs depth hashes.
func (t *Tree) Append(leaf Scalar) (index uint64, root Scalar, err error) {
	if t.next >= t.Capacity() {
		return 0, Scalar{}, ErrTreeFull
	}
	index = t.next
	cur := leaf
	for l := 0; l < t.depth; l++ {
		if index>>l&1 == 0 {
			t.frontier[l] = cur
			cur = HashNode(cur, ZeroHash(l))
		} else {
			cur = HashNode(t.frontier[l], cur)
		}
	}
	t.next++
	// Drop the partial nodes written above that the next append will not
	// read, so the frontier holds exactly the live entries.
	for l := 0; l < t.depth; l++ {
		if t.next>>l&1 == 0 {
			t.frontier[l] = Scalar{}
		}
	}
	t.root = cur
	t.pushRoot(cur)
	return index, cur, nil
}

func (t *Tree) pushRoot(r Scalar) {
	if len(t.roots) == t.history {
		copy(t.roots, t.roots[1:])
		t.roots[len(t.roots)-1] = r
		return
	}
	t.roots = append(t.roots, r)
}

// KnownRoot reports whether root is one of the last RootHistory roots, the
// current one included. The root of the empty tree is never known: no note
// can be proven against it.
func (t *Tree) KnownRoot(root Scalar) bool {
	return slices.Contains(t.roots, root)
}

// Roots returns the known roots, oldest first (the list a WITHDRAWAL task
// carries so keepers can check the proof's root).
func (t *Tree) Roots() []Scalar { return slices.Clone(t.roots) }

// Clone returns an independent copy.
func (t *Tree) Clone() *Tree {
	c := *t
	c.frontier = slices.Clone(t.frontier)
	c.roots = slices.Clone(t.roots)
	return &c
}

// rootFromFrontier recomputes the root from the frontier: the path of the
// next (empty) leaf, whose left siblings are the frontier and whose right
// siblings are empty subtrees. Only valid for a tree that is not full.
func (t *Tree) rootFromFrontier() Scalar {
	cur := ZeroHash(0)
	for l := 0; l < t.depth; l++ {
		if t.next>>l&1 == 1 {
			cur = HashNode(t.frontier[l], cur)
		} else {
			cur = HashNode(cur, ZeroHash(l))
		}
	}
	return cur
}

// Tree encoding (all integers big-endian):
//
//	"LKMT" | version u8 = 1 | depth u8 | root_history u16 | size u64 |
//	frontier: one 32-byte scalar per set bit l of size (l < depth), ascending l |
//	roots: min(size, root_history) 32-byte scalars, oldest first
//
// It is canonical: one tree state, one encoding. UnmarshalTree checks every
// field, that each scalar is canonical, and that the newest root is the
// root the frontier gives.
const (
	treeMagic      = "LKMT"
	treeVersion    = 1
	treeHeaderSize = 4 + 1 + 1 + 2 + 8
)

// MarshalBinary returns the canonical encoding. It never fails.
func (t *Tree) MarshalBinary() ([]byte, error) { return t.AppendBinary(nil) }

// AppendBinary appends the canonical encoding to b.
func (t *Tree) AppendBinary(b []byte) ([]byte, error) {
	b = slices.Grow(b, t.encodedSize())
	b = append(b, treeMagic...)
	b = append(b, treeVersion, byte(t.depth))
	b = binary.BigEndian.AppendUint16(b, uint16(t.history))
	b = binary.BigEndian.AppendUint64(b, t.next)
	for l := 0; l < t.depth; l++ {
		if t.next>>l&1 == 1 {
			b = appendScalar(b, t.frontier[l])
		}
	}
	for _, r := range t.roots {
		b = appendScalar(b, r)
	}
	return b, nil
}

func (t *Tree) encodedSize() int {
	live := bits.OnesCount64(t.next & (t.Capacity() - 1))
	nroots := int(min(t.next, uint64(t.history)))
	return treeHeaderSize + (live+nroots)*ScalarSize
}

// UnmarshalTree decodes an encoding made by MarshalBinary. Its cost is
// bounded by the input length plus depth hashes. Re-encoding a decoded
// tree gives the input back byte for byte. The older roots of the history
// cannot be checked against anything (only the newest is tied to the
// frontier): the history is as trustworthy as the store it came from.
func UnmarshalTree(b []byte) (*Tree, error) {
	if len(b) < treeHeaderSize {
		return nil, fmt.Errorf("shielded: tree encoding is %d bytes, shorter than its %d-byte header", len(b), treeHeaderSize)
	}
	if string(b[:4]) != treeMagic {
		return nil, errors.New("shielded: not a tree encoding (bad magic)")
	}
	if b[4] != treeVersion {
		return nil, fmt.Errorf("shielded: unknown tree encoding version %d", b[4])
	}
	depth := int(b[5])
	history := int(binary.BigEndian.Uint16(b[6:8]))
	next := binary.BigEndian.Uint64(b[8:16])
	t, err := NewTree(depth, history)
	if err != nil {
		return nil, err
	}
	if next > t.Capacity() {
		return nil, fmt.Errorf("shielded: tree size %d exceeds capacity %d", next, t.Capacity())
	}
	t.next = next
	nroots := int(min(next, uint64(history)))
	if want := t.encodedSize(); len(b) != want {
		return nil, fmt.Errorf("shielded: tree encoding of size %d must be %d bytes, got %d", next, want, len(b))
	}
	off := treeHeaderSize
	read := func(what string, i int) (Scalar, error) {
		s, err := ParseScalar(b[off : off+ScalarSize])
		if err != nil {
			return Scalar{}, fmt.Errorf("shielded: tree %s %d: %w", what, i, err)
		}
		off += ScalarSize
		return s, nil
	}
	for l := 0; l < depth; l++ {
		if next>>l&1 == 1 {
			if t.frontier[l], err = read("frontier level", l); err != nil {
				return nil, err
			}
		}
	}
	t.roots = make([]Scalar, nroots)
	for i := range t.roots {
		if t.roots[i], err = read("root", i); err != nil {
			return nil, err
		}
	}
	if next == 0 {
		return t, nil
	}
	t.root = t.roots[nroots-1]
	// A full tree's frontier is empty (size has no bits below depth), so
	// its root cannot be recomputed; it is only ever read, never extended.
	if next < t.Capacity() {
		if got := t.rootFromFrontier(); got != t.root {
			return nil, fmt.Errorf("shielded: tree frontier gives root %s but the newest recorded root is %s", got, t.root)
		}
	}
	return t, nil
}
