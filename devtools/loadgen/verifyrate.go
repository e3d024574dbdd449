package loadgen

import (
	"crypto/ed25519"
	"encoding/binary"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lightkeeper-net/lightkeeper/protocol"
)

// VoteMessageLen is the length of the bytes a keeper signs for a vote on
// chainID (protocol.VoteSignBytes).
func VoteMessageLen(chainID string) int {
	var zero [32]byte
	return len(protocol.VoteSignBytes(chainID, zero, make(ed25519.PublicKey, ed25519.PublicKeySize), protocol.VoteApprove, zero))
}

// VerifyRate measures the raw ed25519 verification rate of this machine,
// the floor a coordinator's vote path is compared with: GOMAXPROCS
// goroutines verify valid signatures over msgLen-byte messages for about d
// (a second when d is zero). It returns verifications per second over all
// goroutines.
func VerifyRate(msgLen int, d time.Duration) float64 {
	if d <= 0 {
		d = time.Second
	}
	// A few distinct keys and messages, so no cache along the way makes
	// the rate look better than a stream of votes would.
	const distinct = 16
	type signed struct {
		pub      ed25519.PublicKey
		msg, sig []byte
	}
	set := make([]signed, distinct)
	for i := range set {
		var seed [ed25519.SeedSize]byte
		binary.BigEndian.PutUint32(seed[:], uint32(i)+1)
		key := ed25519.NewKeyFromSeed(seed[:])
		msg := make([]byte, msgLen)
		binary.BigEndian.PutUint32(msg, uint32(i))
		set[i] = signed{key.Public().(ed25519.PublicKey), msg, ed25519.Sign(key, msg)}
	}
	var total atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	deadline := start.Add(d)
	for w := range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			n := 0
			for i := w; time.Now().Before(deadline); i++ {
				// Only successes count: a broken verifier measures 0.
				if s := set[i%distinct]; ed25519.Verify(s.pub, s.msg, s.sig) {
					n++
				}
			}
			total.Add(int64(n))
		}()
	}
	wg.Wait()
	return float64(total.Load()) / time.Since(start).Seconds()
}
