package verifier

import (
	"container/list"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"github.com/lightkeeper-net/lightkeeper/protocol"
	"sync"
)

// batchCoeffBits is the size of the random coefficients of a batch check:
// an invalid proof slips through a batch with probability at most
// 2^-batchCoeffBits.
const batchCoeffBits = 128

// DefaultKeyCacheSize is how many parsed keys a keeper host keeps. A
// parsed Groth16 key with its prepared lines takes about 40 KB (BN254) to
// 55 KB (BLS12-381) plus its K points.
const DefaultKeyCacheSize = 64

// parsedKey is a decoded verifying key of one scheme and curve.
type parsedKey interface {
	// nbPublic is the number of public inputs a proof under the key takes.
	nbPublic() int
	// verify checks one job under the key (gnark's Verify).
	verify(job *ProofJob, limits protocol.Limits) *Error
	// verifyBatch returns what verify would return for each job.
	verifyBatch(jobs []*ProofJob, limits protocol.Limits) []*Error
}

// KeyCache keeps decoded verifying keys, so that a keeper host decodes a
// key once (its points' subgroup checks and e(α, β) cost about as much as
// the verification itself) and batches proofs under it. Keys are found by
// the SHA-256 of their scheme, curve, bytes and the public-input limit they
// were checked under, so a cached key is exactly the key in the job, however
// the job names it; only keys that decoded are kept, the least recently used
// leaving first once size is reached.
//
// A nil *KeyCache is valid and caches nothing. KeyCache is safe for
// concurrent use. It is the one piece of state in this package; the
// verdicts it gives are those of VerifyProof.
type KeyCache struct {
	mu      sync.Mutex
	size    int
	entries map[[32]byte]*list.Element
	order   list.List // of *cacheEntry, most recently used first
}

type cacheEntry struct {
	digest [32]byte
	key    parsedKey
}

// NewKeyCache returns a cache holding up to size keys (at least 1).
func NewKeyCache(size int) *KeyCache {
	return &KeyCache{size: max(1, size), entries: make(map[[32]byte]*list.Element)}
}

// Len returns the number of keys held.
func (c *KeyCache) Len() int {
	if c == nil {
		return 0
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.entries)
}

func keyDigest(job *ProofJob, limits protocol.Limits) [32]byte {
	h := sha256.New()
	var hdr [16]byte
	binary.BigEndian.PutUint32(hdr[0:], uint32(job.Scheme))
	binary.BigEndian.PutUint32(hdr[4:], uint32(job.Curve))
	binary.BigEndian.PutUint64(hdr[8:], uint64(limits.MaxPublicInputs))
	h.Write(hdr[:])
	h.Write(job.VerifyingKey)
	var d [32]byte
	h.Sum(d[:0])
	return d
}

// key returns the job's decoded key, from the cache or decoded now. The
// job's shape has been checked.
func (c *KeyCache) key(digest [32]byte, job *ProofJob, limits protocol.Limits) (parsedKey, *Error) {
	if c != nil {
		c.mu.Lock()
		if el, ok := c.entries[digest]; ok {
			c.order.MoveToFront(el)
			c.mu.Unlock()
			return el.Value.(*cacheEntry).key, nil
		}
		c.mu.Unlock()
	}
	// Decoded outside the lock: two jobs missing the same key at once
	// both decode it, and the second one kept wins; both are the same key.
	k, e := parseKey(job.Scheme, job.Curve, job.VerifyingKey, limits)
	if e != nil || c == nil {
		return k, e
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.entries[digest]; ok {
		c.order.MoveToFront(el)
		return el.Value.(*cacheEntry).key, nil
	}
	c.entries[digest] = c.order.PushFront(&cacheEntry{digest: digest, key: k})
	for len(c.entries) > c.size {
		last := c.order.Back()
		delete(c.entries, last.Value.(*cacheEntry).digest)
		c.order.Remove(last)
	}
	return k, nil
}

// VerifyProof is the package's VerifyProof with the key taken from the
// cache (and added to it if it decodes). The verdict is the same.
func (c *KeyCache) VerifyProof(job ProofJob, limits protocol.Limits) (v Verdict) {
	return c.VerifyBatch([]ProofJob{job}, limits)[0]
}

// VerifyBatch returns VerifyProof's verdict for each job, in order. Jobs
// under the same Groth16 key (no BSB22 commitments) are checked together
// with one combined pairing equation (see batchHolds in
// groth16_batch_bn254.go); when that equation fails, each of them is
// checked on its own, so an invalid proof gets its own rejection and
// never takes valid ones down with it. A batch of valid proofs is approved
// by the combined check alone; an invalid proof passes it with probability
// at most 2^-128 (random coefficients from crypto/rand), the only way the
// verdicts can depend on randomness. Other jobs (PLONK, keys with
// commitments, a key with a single job) are checked one by one.
//
// A nil cache decodes each key once per call.
func (c *KeyCache) VerifyBatch(jobs []ProofJob, limits protocol.Limits) []Verdict {
	limits = limits.Normalized()
	verdicts := make([]Verdict, len(jobs))
	type group struct {
		key  parsedKey
		idx  []int
		jobs []*ProofJob
	}
	var groups []*group // in order of first appearance
	byDigest := map[[32]byte]*group{}
	for i := range jobs {
		job := &jobs[i]
		var (
			k parsedKey
			d [32]byte
		)
		e := guard(func() *Error {
			if e := checkJobShape(job, limits); e != nil {
				return e
			}
			d = keyDigest(job, limits)
			if g, ok := byDigest[d]; ok {
				k = g.key
				return nil
			}
			var e *Error
			k, e = c.key(d, job, limits)
			return e
		})
		if e != nil {
			verdicts[i] = verdictOf(e)
			continue
		}
		g, ok := byDigest[d]
		if !ok {
			g = &group{key: k}
			byDigest[d] = g
			groups = append(groups, g)
		}
		g.idx = append(g.idx, i)
		g.jobs = append(g.jobs, job)
	}
	for _, g := range groups {
		var errs []*Error
		if len(g.jobs) > 1 {
			if guard(func() *Error { errs = g.key.verifyBatch(g.jobs, limits); return nil }) != nil {
				errs = nil // a fault in the batch: decide each job on its own
			}
		}
		for n, i := range g.idx {
			if errs != nil {
				verdicts[i] = verdictOf(errs[n])
				continue
			}
			verdicts[i] = verdictOf(guard(func() *Error { return g.key.verify(g.jobs[n], limits) }))
		}
	}
	return verdicts
}

// VerifyBatch is KeyCache.VerifyBatch without a cache.
func VerifyBatch(jobs []ProofJob, limits protocol.Limits) []Verdict {
	return (*KeyCache)(nil).VerifyBatch(jobs, limits)
}

// guard runs f, turning a panic into an *Error with ReasonNone whose
// detail says what failed (verdictOf makes it an abstention).
func guard(f func() *Error) (e *Error) {
	defer func() {
		if r := recover(); r != nil {
			e = &Error{Reason: ReasonNone, Detail: fmt.Sprintf("internal verifier error: %v", r)}
		}
	}()
	return f()
}

func verdictOf(e *Error) Verdict {
	switch {
	case e == nil:
		return Verdict{Vote: protocol.VoteApprove, Reason: ReasonNone}
	case e.Reason == ReasonNone:
		return Verdict{Vote: protocol.VoteAbstain, Reason: ReasonNone, Detail: e.Detail}
	}
	return Verdict{Vote: protocol.VoteReject, Reason: e.Reason, Detail: e.Detail}
}
