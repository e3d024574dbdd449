package state

import (
	"fmt"
	"hash/fnv"

	"github.com/lightkeeper-net/lightkeeper/protocol"
	"github.com/lightkeeper-net/lightkeeper/shielded"
)

// The shielded pool's golden commands (testdata/pool_*.txt).
//
//	genesis ... pool                 enable the pool (a fake verifying key)
//	note name=N amount=A             a deterministic note (seeded by its name)
//	tx <signer> deposit note=N [amount=A]
//	                                 a signed deposit of the note's
//	                                 precommitment (amount overrides the
//	                                 note's: the leaf then commits to it)
//	withdraw name=R note=N index=I to=K [amount=A] [root=current|empty|bad|N]
//	         [nonce=S] [proof=empty]
//	                                 queue a WITHDRAWAL submission for the
//	                                 note at leaf index I (root N: the root
//	                                 after N deposits; default current)
//	pool                             balance, size, counts, spent
//	                                 nullifiers, supply check
//
// Votes on withdrawal rounds use `vote R <seats> approve|reject`.
func (g *golden) runPool(f []string, a map[string]string) (string, bool) {
	switch f[0] {
	case "note":
		h := fnv.New64a()
		h.Write([]byte(a["name"]))
		g.notes[a["name"]] = testNote(h.Sum64(), g.num(a, "amount"))
		return "", true
	case "withdraw":
		return g.doWithdraw(a), true
	case "pool":
		m := g.m
		st := m.Staking()
		check := "ok"
		if m.TotalSupply() != st.GenesisSupply+st.TotalMinted {
			check = "BROKEN"
		}
		p := m.pool
		return fmt.Sprintf("pool: balance=%d size=%d deposits=%d withdrawals=%d roots=%d spent=%d supply=%d %s",
			p.balance, p.tree.Size(), p.deposits, p.withdrawals, len(p.tree.Roots()), len(p.spent), m.TotalSupply(), check), true
	}
	return "", false
}

func (g *golden) doWithdraw(a map[string]string) string {
	name := a["name"]
	n, ok := g.notes[a["note"]]
	if !ok {
		return g.fail("unknown note %q", a["note"])
	}
	index := g.num(a, "index")
	amount := n.Amount
	if _, ok := a["amount"]; ok {
		amount = g.num(a, "amount")
	}
	var root shielded.Scalar
	switch r := def(a["root"], "current"); r {
	case "current":
		root = g.m.pool.tree.Root()
	case "empty":
		root = shielded.ZeroHash(shielded.DefaultDepth)
	case "bad":
		root = shielded.ScalarFromUint64(12345)
	default:
		// The root after N deposits: the history is oldest first and ends
		// with the current root.
		var k uint64
		fmt.Sscan(r, &k)
		roots := g.m.pool.tree.Roots()
		back := g.m.pool.tree.Size() - k
		if back >= uint64(len(roots)) {
			root = shielded.ScalarFromUint64(k + 99991) // long gone: any unknown value
		} else {
			root = roots[len(roots)-1-int(back)]
		}
	}
	req := withdrawalRequest(root, n.Nullifier(index), amount, keeperID(g.key(a["to"])), def(a["nonce"], name))
	if a["proof"] == "empty" {
		req.GetWithdrawal().Proof = nil
	}
	id := protocol.RoundID(testChain, req)
	if _, dup := g.rounds[name]; !dup {
		g.rounds[name] = id
		g.name(id, name)
	}
	g.enqueue(submitTx(req), "withdraw "+name)
	return ""
}
