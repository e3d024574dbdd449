package pebbledb

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
)

// Key families. Every key starts with a one-byte prefix naming its family;
// the layout-version key sorts before all of them. doc.go and
// docs/storage.md document the same table; TestKeyLayoutDocumented keeps
// them in step with this list.
const (
	prefixMeta         byte = 'm' // "m"                        -> StateMeta
	prefixGenesis      byte = 'g' // "g"                        -> Genesis
	prefixBlock        byte = 'b' // "b" height                 -> Block
	prefixRound        byte = 'r' // "r" round id               -> Round
	prefixOpenRound    byte = 'o' // "o" round id               -> empty (open-rounds index)
	prefixRoundListing byte = 'l' // "l" submitted_height id    -> empty (listing index)
	prefixKeeper       byte = 'k' // "k" keeper id              -> Keeper
	prefixVerifyingKey byte = 'v' // "v" verifying key id       -> VerifyingKey
	prefixEvidence     byte = 'e' // "e" height keeper id round -> Evidence
	prefixAccount      byte = 'a' // "a" account id             -> Account
	prefixStaking      byte = 's' // "s"                        -> StakingState
	prefixGuarantee    byte = 'q' // "q" guarantor id target id -> Guarantee
	prefixGroup        byte = 'p' // "p" group id               -> Group
	prefixUnbonding    byte = 'u' // "u" entry id               -> UnbondingEntry
	prefixEpoch        byte = 'h' // "h" epoch                  -> EpochRecord
	prefixProgram      byte = 'w' // "w" program id             -> Program (without module bytes)
	prefixModule       byte = 'x' // "x" program id             -> Program (with module bytes)
	prefixNullifier    byte = 'n' // "n" nullifier              -> SpentNullifier
	prefixWithdrawal   byte = 'y' // "y" height index           -> SpentNullifier (ledger order)
	prefixPoolLeaf     byte = 'z' // "z" leaf index             -> PoolLeaf
)

// layoutKey holds the layout version as an 8-byte big-endian integer. It is
// the first key of every store.
var layoutKey = []byte("\x00layout")

const (
	idLen     = 32 // a decoded id: SHA-256 digest or ed25519 public key
	heightLen = 8  // a big-endian uint64

	blockKeyLen    = 1 + heightLen
	idKeyLen       = 1 + idLen
	listingKeyLen  = 1 + heightLen + idLen
	evidenceKeyLen = 1 + heightLen + idLen + idLen
	pairKeyLen     = 1 + idLen + idLen
)

// family names a key family in error messages and documentation.
type family struct {
	prefix byte
	name   string
}

// families lists every key family in prefix order of the table in doc.go.
var families = []family{
	{prefixMeta, "meta"},
	{prefixGenesis, "genesis"},
	{prefixBlock, "block"},
	{prefixRound, "round"},
	{prefixOpenRound, "open-round index"},
	{prefixRoundListing, "round listing index"},
	{prefixKeeper, "keeper"},
	{prefixVerifyingKey, "verifying key"},
	{prefixEvidence, "evidence"},
	{prefixAccount, "account"},
	{prefixStaking, "staking state"},
	{prefixGuarantee, "guarantee"},
	{prefixGroup, "group"},
	{prefixUnbonding, "unbonding entry"},
	{prefixEpoch, "epoch record"},
	{prefixProgram, "program"},
	{prefixModule, "program module"},
	{prefixNullifier, "spent nullifier"},
	{prefixWithdrawal, "withdrawal"},
	{prefixPoolLeaf, "pool leaf"},
}

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

// parseID decodes a lowercase 64-hex id. Upper-case digits are refused so
// that the id read back from a key is always the string that was stored.
func parseID(what, id string) ([idLen]byte, error) {
	var out [idLen]byte
	if len(id) != 2*idLen {
		return out, fmt.Errorf("%w: %s %q: want %d lowercase hex digits, got %d characters", ErrInvalidID, what, id, 2*idLen, len(id))
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return out, fmt.Errorf("%w: %s %q: character %d (%q) is not a lowercase hex digit", ErrInvalidID, what, id, i, c)
		}
	}
	if _, err := hex.Decode(out[:], []byte(id)); err != nil {
		return out, fmt.Errorf("%w: %s %q: %v", ErrInvalidID, what, id, err)
	}
	return out, nil
}

func appendHeight(dst []byte, h uint64) []byte {
	return binary.BigEndian.AppendUint64(dst, h)
}

func blockKey(height uint64) []byte {
	return appendHeight(append(make([]byte, 0, blockKeyLen), prefixBlock), height)
}

func idKey(prefix byte, id [idLen]byte) []byte {
	return append(append(make([]byte, 0, idKeyLen), prefix), id[:]...)
}

func listingKey(height uint64, id [idLen]byte) []byte {
	k := make([]byte, 0, listingKeyLen)
	k = appendHeight(append(k, prefixRoundListing), height)
	return append(k, id[:]...)
}

func evidenceKey(height uint64, keeper, round [idLen]byte) []byte {
	k := make([]byte, 0, evidenceKeyLen)
	k = appendHeight(append(k, prefixEvidence), height)
	k = append(k, keeper[:]...)
	return append(k, round[:]...)
}

// seqKey is "<prefix>" ‖ u64be(n): unbonding entry ids, epoch numbers.
func seqKey(prefix byte, n uint64) []byte {
	return appendHeight(append(make([]byte, 0, blockKeyLen), prefix), n)
}

func guaranteeKey(guarantor, target [idLen]byte) []byte {
	k := make([]byte, 0, pairKeyLen)
	k = append(append(k, prefixGuarantee), guarantor[:]...)
	return append(k, target[:]...)
}

// prefixBounds returns the iteration bounds [prefix, prefix+1) of a family.
func prefixBounds(prefix byte) (lower, upper []byte) {
	return []byte{prefix}, []byte{prefix + 1}
}

// idFromKey returns the hex id of an "<prefix> id" key.
func idFromKey(key []byte) (string, bool) {
	if len(key) != idKeyLen {
		return "", false
	}
	return hex.EncodeToString(key[1:]), true
}

// listingRoundKey returns the round key an "l" listing key points at.
func listingRoundKey(key []byte) ([]byte, bool) {
	if len(key) != listingKeyLen || key[0] != prefixRoundListing {
		return nil, false
	}
	var id [idLen]byte
	copy(id[:], key[1+heightLen:])
	return idKey(prefixRound, id), true
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
