package shielded

import (
	"errors"
	"fmt"
)

// WalletTree is the tree as a wallet keeps it: every leaf and every inner
// node computed so far, so it can produce a membership path for any leaf.
// Fed the same leaves in the same order (the deposits in ledger order) its
// roots equal the state machine's Tree roots. Memory is about two scalars
// per leaf.
type WalletTree struct {
	depth int
	// levels[0] are the leaves; levels[l][i] is the node at height l and
	// position i, for every node with at least one leaf below it.
	levels [][]Scalar
}

// NewWalletTree returns an empty wallet tree of the given depth.
func NewWalletTree(depth int) (*WalletTree, error) {
	if depth < 1 || depth > MaxDepth {
		return nil, fmt.Errorf("shielded: tree depth %d out of range 1…%d", depth, MaxDepth)
	}
	return &WalletTree{depth: depth, levels: make([][]Scalar, depth+1)}, nil
}

// Depth returns the tree's depth.
func (w *WalletTree) Depth() int { return w.depth }

// Size returns the number of leaves.
func (w *WalletTree) Size() uint64 { return uint64(len(w.levels[0])) }

// Leaf returns leaf i.
func (w *WalletTree) Leaf(i uint64) (Scalar, error) {
	if i >= w.Size() {
		return Scalar{}, fmt.Errorf("shielded: leaf %d not in a tree of %d leaves", i, w.Size())
	}
	return w.levels[0][i], nil
}

// Root returns the current root.
func (w *WalletTree) Root() Scalar {
	if len(w.levels[0]) == 0 {
		return ZeroHash(w.depth)
	}
	return w.levels[w.depth][0]
}

// Append adds a leaf and returns its index and the new root.
func (w *WalletTree) Append(leaf Scalar) (index uint64, root Scalar, err error) {
	index = w.Size()
	if index >= uint64(1)<<w.depth {
		return 0, Scalar{}, ErrTreeFull
	}
	w.levels[0] = append(w.levels[0], leaf)
	pos := index
	for l := 0; l < w.depth; l++ {
		left, right := w.node(l, pos&^1), w.node(l, pos|1)
		pos >>= 1
		parent := HashNode(left, right)
		if pos < uint64(len(w.levels[l+1])) {
			w.levels[l+1][pos] = parent
		} else {
			w.levels[l+1] = append(w.levels[l+1], parent)
		}
	}
	return index, w.Root(), nil
}

// node returns the node at height l and position i, or the empty subtree.
func (w *WalletTree) node(l int, i uint64) Scalar {
	if i < uint64(len(w.levels[l])) {
		return w.levels[l][i]
	}
	return ZeroHash(l)
}

// Path returns the membership path of leaf index against the current root.
func (w *WalletTree) Path(index uint64) (MerklePath, error) {
	if index >= w.Size() {
		return MerklePath{}, fmt.Errorf("shielded: leaf %d not in a tree of %d leaves", index, w.Size())
	}
	p := MerklePath{Index: index, Siblings: make([]Scalar, w.depth)}
	for l := 0; l < w.depth; l++ {
		p.Siblings[l] = w.node(l, (index>>l)^1)
	}
	return p, nil
}

// MerklePath proves that a leaf sits at Index under a root: Siblings[l] is
// the sibling at height l (Siblings[0] is the neighbouring leaf); bit l of
// Index says whether the path's node at height l is a right child (1) or a
// left child (0). These are the withdrawal circuit's private path inputs.
type MerklePath struct {
	Index    uint64
	Siblings []Scalar
}

// ComputeRoot folds leaf up the path.
func (p MerklePath) ComputeRoot(leaf Scalar) Scalar {
	cur := leaf
	for l, s := range p.Siblings {
		if p.Index>>l&1 == 1 {
			cur = HashNode(s, cur)
		} else {
			cur = HashNode(cur, s)
		}
	}
	return cur
}

// Verify reports whether leaf sits at p.Index under root in a tree of
// depth len(p.Siblings).
func (p MerklePath) Verify(root, leaf Scalar) error {
	if len(p.Siblings) == 0 || len(p.Siblings) > MaxDepth {
		return fmt.Errorf("shielded: path of %d siblings", len(p.Siblings))
	}
	if len(p.Siblings) < 64 && p.Index>>len(p.Siblings) != 0 {
		return fmt.Errorf("shielded: leaf index %d does not fit a tree of depth %d", p.Index, len(p.Siblings))
	}
	if p.ComputeRoot(leaf) != root {
		return errors.New("shielded: path does not lead from the leaf to the root")
	}
	return nil
}
