package pebbledb

import (
	"testing"

	lightkeeperv1 "github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1"
)

// BenchmarkCommitBlock measures one block's write: a batch with the block,
// 10 rounds and 10 keepers, committed with pebble.Sync (so it is bounded
// by the file system's fsync latency).
func BenchmarkCommitBlock(b *testing.B) {
	s := openT(b, b.TempDir())
	keepers := make([]*lightkeeperv1.Keeper, 10)
	for i := range keepers {
		keepers[i] = sampleKeeper(hashID("keeper", i), 1000)
	}
	height := uint64(0)
	for b.Loop() {
		height++
		batch := s.NewBatch()
		if err := batch.PutBlock(sampleBlock(height)); err != nil {
			b.Fatal(err)
		}
		for j := range 10 {
			r := sampleRound(hashID("round", height, j), height, lightkeeperv1.RoundPhase_ROUND_PHASE_VOTING)
			if err := batch.PutRound(r); err != nil {
				b.Fatal(err)
			}
		}
		for _, k := range keepers {
			k.RoundsAssigned++
			if err := batch.PutKeeper(k); err != nil {
				b.Fatal(err)
			}
		}
		if err := batch.Commit(); err != nil {
			b.Fatal(err)
		}
	}
}
