package replica

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"slices"

	"google.golang.org/protobuf/proto"

	"github.com/lightkeeper-net/lightkeeper/coordinator/ledger"
)

// appHashDomain separates the app hash from every other SHA-256 the
// protocol computes.
const appHashDomain = "lightkeeper/replica/apphash/v1\x00"

// recordEncoding is the store's encoding of a record (pebbledb marshals
// the same way), so the hash commits to the bytes every replica writes.
var recordEncoding = proto.MarshalOptions{Deterministic: true}

// AppHash returns the app hash after a block: a hash chain
//
//	H(height) = SHA-256(domain ‖ u64be(height) ‖ H(height-1) ‖ entries)
//
// over the block's change set, which holds every record the machine
// created, changed or removed in the block, from every ledger family
// (balances, bonds, guarantees, reputation, epoch statements, rounds, the
// block itself). The entries are the final change of each store key,
// sorted by key, each as u32be(len key) ‖ key ‖ delete flag ‖
// u32be(len value) ‖ value, where key is the family prefix and the
// family's key and value the record's deterministic protobuf encoding.
// Two replicas that agree on H(height) therefore agree on every record
// they hold, given that they agreed at genesis (height 0, whose previous
// hash is empty and whose change set holds the genesis itself).
func AppHash(height uint64, prev []byte, cs ledger.ChangeSet) ([]byte, error) {
	type entry struct {
		key, val []byte
		del      bool
	}
	entries := make([]entry, 0, len(cs))
	index := make(map[string]int, len(cs))
	for _, c := range cs {
		if c.Family == nil || c.Record == nil || !c.Record.ProtoReflect().IsValid() {
			return nil, fmt.Errorf("app hash: change without a family or a record")
		}
		k, err := c.Family.Key(c.Record)
		if err != nil {
			return nil, fmt.Errorf("app hash: %s key: %w", c.Family.Name, err)
		}
		e := entry{key: append([]byte{c.Family.Prefix}, k...), del: c.Delete}
		if !c.Delete {
			if e.val, err = recordEncoding.Marshal(c.Record); err != nil {
				return nil, fmt.Errorf("app hash: encode %s: %w", c.Family.Name, err)
			}
		}
		// The store applies changes in order, so a later change of the
		// same key is the one that holds (a put then a delete ends
		// deleted).
		if i, seen := index[string(e.key)]; seen {
			entries[i] = e
			continue
		}
		index[string(e.key)] = len(entries)
		entries = append(entries, e)
	}
	slices.SortFunc(entries, func(a, b entry) int { return bytes.Compare(a.key, b.key) })

	h := sha256.New()
	var n [8]byte
	h.Write([]byte(appHashDomain))
	binary.BigEndian.PutUint64(n[:], height)
	h.Write(n[:])
	h.Write(prev)
	for _, e := range entries {
		binary.BigEndian.PutUint32(n[:4], uint32(len(e.key)))
		h.Write(n[:4])
		h.Write(e.key)
		if e.del {
			h.Write([]byte{1})
		} else {
			h.Write([]byte{0})
		}
		binary.BigEndian.PutUint32(n[:4], uint32(len(e.val)))
		h.Write(n[:4])
		h.Write(e.val)
	}
	return h.Sum(nil), nil
}
