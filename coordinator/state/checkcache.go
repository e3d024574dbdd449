package state

import (
	"crypto/sha256"
	"encoding/binary"
	"sync"

	lightkeeperv1 "github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1"
	"github.com/lightkeeper-net/lightkeeper/protocol"
	"github.com/lightkeeper-net/lightkeeper/verifier"
	"github.com/lightkeeper-net/lightkeeper/verifier/wasmcheck"
)

// The machine checks verifying keys and programs from the transaction's
// own bytes (docs/design.md §11): parsing a key or metering a module costs
// milliseconds to a second, so the verdicts are remembered by content. A
// verdict is a pure function of its key (the domain, the limits and the
// SHA-256 of the bytes), so a hit and a miss give the same answer and the
// cache changes nothing but the time taken; it is shared by every machine
// of the process for that reason. Eviction is first in, first out over a
// fixed ring, so no map order is ever observed.

const (
	vkCacheSize      = 256
	programCacheSize = 64
)

type verdictCache[V any] struct {
	mu      sync.Mutex
	entries map[[32]byte]V
	ring    [][32]byte
	next    int
}

func newVerdictCache[V any](size int) *verdictCache[V] {
	return &verdictCache[V]{entries: make(map[[32]byte]V, size), ring: make([][32]byte, 0, size)}
}

// get returns the verdict for key, computing it with check on a miss. The
// lock is not held while check runs, so two first calls may both check;
// they store the same verdict.
func (c *verdictCache[V]) get(key [32]byte, check func() V) V {
	c.mu.Lock()
	v, ok := c.entries[key]
	c.mu.Unlock()
	if ok {
		return v
	}
	v = check()
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.entries[key]; ok {
		return v
	}
	if len(c.ring) < cap(c.ring) {
		c.ring = append(c.ring, key)
	} else {
		delete(c.entries, c.ring[c.next])
		c.ring[c.next] = key
		c.next = (c.next + 1) % len(c.ring)
	}
	c.entries[key] = v
	return v
}

// vkVerdict is what registering a verifying key needs from its bytes.
type vkVerdict struct {
	numPublicInputs int
	err             error
}

var vkChecks = newVerdictCache[vkVerdict](vkCacheSize)

// checkVerifyingKey parses key as a scheme/curve verifying key under the
// chain's size limits and returns the number of public inputs its proofs
// take (verifier.CheckVerifyingKey, remembered by content and limits).
func checkVerifyingKey(scheme lightkeeperv1.Scheme, curve lightkeeperv1.Curve, key []byte, lim protocol.Limits) (int, error) {
	b := []byte("lightkeeper/state/vk-check/v1\x00")
	b = binary.BigEndian.AppendUint32(b, uint32(scheme))
	b = binary.BigEndian.AppendUint32(b, uint32(curve))
	b = binary.BigEndian.AppendUint64(b, uint64(lim.MaxVerifyingKeyBytes))
	b = binary.BigEndian.AppendUint64(b, uint64(lim.MaxPublicInputs))
	sum := sha256.Sum256(key)
	v := vkChecks.get(sha256.Sum256(append(b, sum[:]...)), func() vkVerdict {
		n, err := verifier.CheckVerifyingKey(verifier.Scheme(scheme), verifier.Curve(curve), key, lim)
		return vkVerdict{n, err}
	})
	return v.numPublicInputs, v.err
}

// programVerdict is what registering a program records: wasmcheck's
// Program without the metered bytes (only their hash goes on chain).
type programVerdict struct {
	meteredHash              [32]byte
	memoryPages, maxMemPages uint32
	functions                int
	usesFloat                bool
	imports                  []string
	err                      error
}

var programChecks = newVerdictCache[programVerdict](programCacheSize)

// checkProgram runs wasmcheck.Check on module under lim (remembered by
// content and limits).
func checkProgram(module []byte, lim wasmcheck.Limits) programVerdict {
	b := []byte("lightkeeper/state/program-check/v1\x00")
	b = binary.BigEndian.AppendUint64(b, uint64(lim.MaxModuleBytes))
	b = binary.BigEndian.AppendUint32(b, lim.MaxMemoryPages)
	b = binary.BigEndian.AppendUint32(b, lim.MaxTableElements)
	b = binary.BigEndian.AppendUint32(b, lim.MaxCallDepth)
	b = binary.BigEndian.AppendUint64(b, uint64(lim.MaxOutputBytes))
	b = binary.BigEndian.AppendUint64(b, lim.MaxFuel)
	id := wasmcheck.ProgramIDOf(module)
	return programChecks.get(sha256.Sum256(append(b, id[:]...)), func() programVerdict {
		p, err := wasmcheck.Check(module, lim)
		if err != nil {
			return programVerdict{err: err}
		}
		return programVerdict{
			meteredHash: p.MeteredHash, memoryPages: p.MemoryPages, maxMemPages: p.MaxMemoryPages,
			functions: p.Functions, usesFloat: p.UsesFloat, imports: p.Imports,
		}
	})
}

// CheckProgram runs the machine's own registration check of a module
// under the chain's compute parameters, as registering it would. The
// service calls it to refuse a bad module before it becomes a
// transaction; it also warms the verdict cache, so the block that
// registers the module does not pay for the check again.
func CheckProgram(module []byte, p *lightkeeperv1.ComputeParams) error {
	return checkProgram(module, wasmcheck.Limits(protocol.ComputeLimitsOf(p))).err
}

// CheckVerifyingKey runs the machine's own parse of a verifying key and
// returns its public input count, as registering it would (and warms the
// cache, as CheckProgram does).
func CheckVerifyingKey(scheme lightkeeperv1.Scheme, curve lightkeeperv1.Curve, key []byte, lim protocol.Limits) (int, error) {
	return checkVerifyingKey(scheme, curve, key, lim)
}
