package pebbledb

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/lightkeeper-net/lightkeeper/coordinator/ledger"
)

// Key families. Every key starts with a one-byte prefix naming its family
// (ledger.Families) or one of their indexes; the layout-version key sorts
// before all of them. doc.go and docs/storage.md document the same table;
// TestKeyLayoutDocumented keeps them in step with this list.
var (
	prefixMeta         = ledger.Meta.Prefix
	prefixGenesis      = ledger.Genesis.Prefix
	prefixRound        = ledger.Round.Prefix
	prefixOpenRound    = ledger.OpenRounds.Prefix
	prefixRoundListing = ledger.RoundListing.Prefix
	prefixKeeper       = ledger.Keeper.Prefix
	prefixEpoch        = ledger.Epoch.Prefix
	prefixWithdrawal   = ledger.Withdrawal.Prefix
	prefixPoolLeaf     = ledger.PoolLeaf.Prefix
	prefixNullifier    = ledger.SpentNullifier.Prefix
)

// layoutKey holds the layout version as an 8-byte big-endian integer. It is
// the first key of every store.
var layoutKey = []byte("\x00layout")

const (
	idLen     = ledger.IDLen
	heightLen = ledger.HeightLen

	idKeyLen      = 1 + idLen
	listingKeyLen = 1 + heightLen + idLen
)

// family names a key prefix in error messages and documentation.
type family struct {
	prefix byte
	name   string
}

// families lists every key prefix in the order of the table in doc.go:
// each ledger family followed by its indexes.
var families = func() []family {
	var out []family
	for _, f := range ledger.Families {
		out = append(out, family{f.Prefix, f.Name})
		for _, ix := range f.Indexes {
			out = append(out, family{ix.Prefix, ix.Name})
		}
	}
	return out
}()

// familyName returns the name of the family a key belongs to.
func familyName(key []byte) string {
	if len(key) == 0 {
		return "unknown"
	}
	if string(key) == string(layoutKey) {
		return "layout version"
	}
	for _, f := range families {
		if f.prefix == key[0] {
			return f.name
		}
	}
	return fmt.Sprintf("unknown (prefix %q)", key[0])
}

// parseID decodes a lowercase 64-hex id.
func parseID(what, id string) ([idLen]byte, error) {
	out, err := ledger.ParseID(what, id)
	if err != nil {
		return out, storeErr(err)
	}
	return out, nil
}

// storeErr makes an error of a ledger key function wrap this package's
// sentinel too, so callers test errors.Is(err, pebbledb.ErrInvalidID).
func storeErr(err error) error {
	switch {
	case errors.Is(err, ledger.ErrInvalidID):
		return fmt.Errorf("%w: %w", ErrInvalidID, err)
	case errors.Is(err, ledger.ErrInvalidRecord):
		return fmt.Errorf("%w: %w", ErrInvalidRecord, err)
	}
	return err
}

// prefixed is prefix ‖ key.
func prefixed(prefix byte, key []byte) []byte {
	return append(append(make([]byte, 0, 1+len(key)), prefix), key...)
}

func blockKey(height uint64) []byte {
	return prefixed(ledger.Block.Prefix, ledger.HeightKey(height))
}

func idKey(prefix byte, id [idLen]byte) []byte { return prefixed(prefix, id[:]) }

func listingKey(height uint64, id [idLen]byte) []byte {
	return prefixed(prefixRoundListing, ledger.ListingKey(height, id))
}

func evidenceKey(height uint64, keeper, round [idLen]byte) []byte {
	k := prefixed(ledger.Evidence.Prefix, ledger.HeightKey(height))
	k = append(k, keeper[:]...)
	return append(k, round[:]...)
}

// seqKey is "<prefix>" ‖ u64be(n): epoch numbers, leaf indexes.
func seqKey(prefix byte, n uint64) []byte { return prefixed(prefix, ledger.HeightKey(n)) }

// prefixBounds returns the iteration bounds [prefix, prefix+1) of a family.
func prefixBounds(prefix byte) (lower, upper []byte) {
	return []byte{prefix}, []byte{prefix + 1}
}

// listingRoundKey returns the round key an "l" listing key points at.
func listingRoundKey(key []byte) ([]byte, bool) {
	if len(key) != listingKeyLen || key[0] != prefixRoundListing {
		return nil, false
	}
	return prefixed(prefixRound, key[1+heightLen:]), true
}

func encodeLayoutVersion(v uint64) []byte {
	return binary.BigEndian.AppendUint64(nil, v)
}

func decodeLayoutVersion(b []byte) (uint64, error) {
	if len(b) != 8 {
		return 0, fmt.Errorf("%w: layout version value is %d bytes, want 8", ErrCorrupt, len(b))
	}
	return binary.BigEndian.Uint64(b), nil
}
