package service

import (
	"runtime"
	"sync"

	"github.com/lightkeeper-net/lightkeeper/coordinator/state"
	lightkeeperv1 "github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1"
)

// minParallelChecks is the batch below which one goroutine checks every
// signature: a goroutine costs about a microsecond, a check some tens.
const minParallelChecks = 8

// verifyAll returns state.VerifyTxSignatures of each transaction (nil ones
// skipped), spreading the checks over GOMAXPROCS goroutines: a keeper's
// batch of votes is checked on every core instead of one after the other
// under the machine's lock.
func (n *Node) verifyAll(txs []*lightkeeperv1.Transaction) [][]state.VerifiedSig {
	out := make([][]state.VerifiedSig, len(txs))
	check := func(from, to int) {
		for i := from; i < to; i++ {
			if txs[i] != nil {
				out[i] = state.VerifyTxSignatures(n.chainID, txs[i])
			}
		}
	}
	workers := min(runtime.GOMAXPROCS(0), len(txs)/minParallelChecks)
	if workers <= 1 {
		check(0, len(txs))
		return out
	}
	var wg sync.WaitGroup
	per := (len(txs) + workers - 1) / workers
	for from := 0; from < len(txs); from += per {
		wg.Add(1)
		go func() {
			defer wg.Done()
			check(from, min(from+per, len(txs)))
		}()
	}
	wg.Wait()
	return out
}
