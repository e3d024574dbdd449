package replica

import (
	"fmt"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/lightkeeper-net/lightkeeper/coordinator/state"
	lightkeeperv1 "github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1"
)

// BenchmarkBlockCost puts the app hash beside the work of the same block:
// ApplyBlock (the machine) and the synced Pebble commit (the store). The
// blocks are an opening block (rounds submitted on a real proof) and the
// block of their committees' votes.
//
//	go test -run '^$' -bench BlockCost -benchtime 20x ./coordinator/replica/
func BenchmarkBlockCost(b *testing.B) {
	for _, rounds := range []int{1, 100} {
		d, _ := startedChain(b, b.TempDir())
		f := mustFixture(b)
		var open []*lightkeeperv1.Transaction
		for i := range rounds {
			open = append(open, submitTx(b, f, 1, fmt.Sprintf("bench-%d", i)))
		}
		var before, afterOpen state.Snapshot
		d.app.withMachine(func(m *state.Machine) { before = m.Snapshot() })
		var opened []*lightkeeperv1.Round
		openRes := benchApply(b, d, open)
		for _, r := range openRes.TxResults {
			opened = append(opened, r.Round)
		}
		var votes []*lightkeeperv1.Transaction
		for _, r := range opened {
			for _, i := range seats(b, r) {
				votes = append(votes, keeperVote(b, r, i, f.VerifyingKey))
			}
		}
		d.app.withMachine(func(m *state.Machine) { afterOpen = m.Snapshot() })
		for _, blk := range []struct {
			name string
			from state.Snapshot
			txs  []*lightkeeperv1.Transaction
		}{
			{fmt.Sprintf("open-%d", rounds), before, open},
			{fmt.Sprintf("votes-%d", len(votes)), afterOpen, votes},
		} {
			res := benchRun(b, blk.from, d, blk.txs)
			b.Run(blk.name+"/apply", func(b *testing.B) {
				for b.Loop() {
					b.StopTimer()
					m, err := state.Restore(blk.from)
					if err != nil {
						b.Fatal(err)
					}
					b.StartTimer()
					if _, err := m.ApplyBlock(state.BlockInput{TimeUnixMilli: d.time.Add(1e9).UnixMilli(), Txs: blk.txs}); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run(blk.name+"/apphash", func(b *testing.B) {
				for b.Loop() {
					if _, err := AppHash(3, d.app.appHash, res.Changes); err != nil {
						b.Fatal(err)
					}
				}
				size := 0
				for _, c := range res.Changes {
					size += proto.Size(c.Record)
				}
				b.ReportMetric(float64(len(res.Changes)), "records")
				b.ReportMetric(float64(size), "record-bytes")
			})
			b.Run(blk.name+"/commit", func(b *testing.B) {
				for b.Loop() {
					d.app.persist(b, 3, res.Changes, d.app.appHash)
				}
			})
		}
		d.app.Close()
	}
}

// benchApply applies txs to the driver's machine (not committed).
func benchApply(b *testing.B, d *driver, txs []*lightkeeperv1.Transaction) *state.Result {
	b.Helper()
	var res *state.Result
	var err error
	d.app.withMachine(func(m *state.Machine) {
		res, err = m.ApplyBlock(state.BlockInput{TimeUnixMilli: d.time.Add(1e9).UnixMilli(), Txs: txs})
	})
	if err != nil {
		b.Fatal(err)
	}
	for i, r := range res.TxResults {
		if r.Err != nil {
			b.Fatalf("tx %d: %v", i, r.Err)
		}
	}
	return res
}

// benchRun applies txs on a machine restored from snap.
func benchRun(b *testing.B, snap state.Snapshot, d *driver, txs []*lightkeeperv1.Transaction) *state.Result {
	b.Helper()
	m, err := state.Restore(snap)
	if err != nil {
		b.Fatal(err)
	}
	res, err := m.ApplyBlock(state.BlockInput{TimeUnixMilli: d.time.Add(1e9).UnixMilli(), Txs: txs})
	if err != nil {
		b.Fatal(err)
	}
	return res
}
