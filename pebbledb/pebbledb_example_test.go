package pebbledb_test

import (
	"errors"
	"fmt"
	"log"
	"os"
	"strings"

	"github.com/lightkeeper-net/lightkeeper/pebbledb"
	lightkeeperv1 "github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1"
)

// Example writes a block, a round and the state meta in one atomic batch,
// then reads them back.
func Example() {
	dir, err := os.MkdirTemp("", "pebbledb-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	store, err := pebbledb.Open(dir, pebbledb.WithLogger(nil))
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()

	roundID := strings.Repeat("ab", 32)
	b := store.NewBatch()
	defer b.Close() // a no-op after Commit
	for _, err := range []error{
		b.PutMeta(&lightkeeperv1.StateMeta{ChainId: "lightkeeper-example", Head: &lightkeeperv1.BlockHeader{Height: 1}}),
		b.PutBlock(&lightkeeperv1.Block{Header: &lightkeeperv1.BlockHeader{Height: 1}}),
		b.PutRound(&lightkeeperv1.Round{Id: roundID, SubmittedHeight: 1, Phase: lightkeeperv1.RoundPhase_ROUND_PHASE_VOTING}),
	} {
		if err != nil {
			log.Fatal(err)
		}
	}
	if err := b.Commit(); err != nil { // atomic and synced
		log.Fatal(err)
	}

	meta, err := store.Meta()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("chain:", meta.GetChainId(), "head:", meta.GetHead().GetHeight())

	open, err := store.OpenRounds()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("open rounds:", len(open), open[0].GetPhase())

	_, err = store.Block(2)
	fmt.Println("block 2 missing:", errors.Is(err, pebbledb.ErrNotFound))

	// Output:
	// chain: lightkeeper-example head: 1
	// open rounds: 1 ROUND_PHASE_VOTING
	// block 2 missing: true
}
