package protocol

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"

	lightkeeperv1 "github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// Domain separators of the hashes defined here.
const (
	RoundDomain  = "lightkeeper/round/v1\x00"
	BlockDomain  = "lightkeeper/block/v1\x00"
	SeedDomain   = "lightkeeper/committee-seed/v1\x00"
	ParamsDomain = "lightkeeper/params/v1\x00"
	// EligibleDomain prefixes EligibleListHash.
	EligibleDomain = "lightkeeper/eligible/v1\x00"
)

// EntropyLen is the length of BlockHeader.entropy when it is set.
const EntropyLen = 32

// MaxChainIDLen is the longest chain id (its length is hashed as a u16).
const MaxChainIDLen = 128

var detMarshal = proto.MarshalOptions{Deterministic: true}

// ParseID decodes a 64-digit lowercase hex id. Uppercase digits are
// refused so that every id has exactly one text form.
func ParseID(s string) ([32]byte, bool) {
	var id [32]byte
	if !ValidID(s) {
		return id, false
	}
	if _, err := hex.Decode(id[:], []byte(s)); err != nil {
		return id, false
	}
	return id, true
}

// ValidID reports whether s is a well-formed id: 64 lowercase hex digits.
func ValidID(s string) bool {
	if len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// CheckID returns an error wrapping ErrInvalidRequest, naming field, unless
// s is a well-formed id.
func CheckID(field, s string) error {
	if !ValidID(s) {
		if len(s) > 80 {
			s = s[:80] + "..."
		}
		return fmt.Errorf("%w: %s: want 64 lowercase hex digits, got %q", ErrInvalidRequest, field, s)
	}
	return nil
}

// RoundID returns the id of the round that req opens on chainID: hex
// SHA-256(RoundDomain || u16be(len chainID) || chainID ||
// deterministic-marshal(req)). It returns "" if req cannot be marshalled
// (invalid UTF-8 in a string field) or chainID is longer than 65,535 bytes.
func RoundID(chainID string, req *lightkeeperv1.RoundRequest) string {
	if len(chainID) > 0xFFFF {
		return ""
	}
	b, err := detMarshal.Marshal(req)
	if err != nil {
		return ""
	}
	h := sha256.New()
	h.Write([]byte(RoundDomain))
	var l [2]byte
	binary.BigEndian.PutUint16(l[:], uint16(len(chainID)))
	h.Write(l[:])
	h.Write([]byte(chainID))
	h.Write(b)
	return hex.EncodeToString(h.Sum(nil))
}

// BlockHash returns SHA-256(BlockDomain || u64be height || i64be time in
// unix milliseconds || previous_hash || transactions_hash || results_hash
// [|| entropy]). The three hashes are 32 bytes in every block this package
// makes; entropy is 32 bytes or absent (blocks without it hash as they did
// before it existed).
func BlockHash(h *lightkeeperv1.BlockHeader) []byte {
	return headerDigest(BlockDomain, h, h.GetResultsHash())
}

// CommitteeSeed returns the seed of the committees drawn for the rounds
// opened in the block with header h: SHA-256(SeedDomain || u64be height ||
// i64be time in unix milliseconds || previous_hash || transactions_hash ||
// entropy). It uses only what is fixed before the block's transactions run
// (results_hash is ignored), and transactions_hash covers every
// transaction of the block, the submissions included, so the seed exists
// only once the submission is final: a submitter cannot try nonces against
// it, and with the producer's entropy it cannot predict it either
// (RATIONALE.md, "Committees nobody can choose").
func CommitteeSeed(h *lightkeeperv1.BlockHeader) []byte {
	return headerDigest(SeedDomain, h, nil)
}

// headerDigest is SHA-256(domain || u64be height || i64be time in unix
// milliseconds || previous_hash || transactions_hash || results ||
// entropy): the block hash with the header's results hash, the committee
// seed with none.
func headerDigest(domain string, h *lightkeeperv1.BlockHeader, results []byte) []byte {
	d := sha256.New()
	d.Write([]byte(domain))
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], h.GetHeight())
	binary.BigEndian.PutUint64(b[8:], uint64(h.GetTime().AsTime().UnixMilli()))
	d.Write(b[:])
	d.Write(h.GetPreviousHash())
	d.Write(h.GetTransactionsHash())
	d.Write(results)
	d.Write(h.GetEntropy())
	return d.Sum(nil)
}

// ParamsHash returns SHA-256(ParamsDomain || u16be(len chainID) || chainID
// || deterministic protobuf of p): what a user pins to check certificates
// offline against a chain's rules (lightkeeper query params prints it), or
// nil if p cannot be marshalled or chainID is longer than 65,535 bytes.
func ParamsHash(chainID string, p *lightkeeperv1.ConsensusParams) []byte {
	if len(chainID) > 0xFFFF {
		return nil
	}
	b, err := detMarshal.Marshal(p)
	if err != nil {
		return nil
	}
	d := sha256.New()
	d.Write([]byte(ParamsDomain))
	var l [2]byte
	binary.BigEndian.PutUint16(l[:], uint16(len(chainID)))
	d.Write(l[:])
	d.Write([]byte(chainID))
	d.Write(b)
	return d.Sum(nil)
}

// CertificateHash returns SHA-256 of the deterministic protobuf encoding of
// c, or nil if c cannot be marshalled. A certificate with eligible_hash is
// hashed without its eligible list: the deciding block commits to the
// hash, and the list the API fills in (checked against the hash by
// VerifyCertificate) does not change what the certificate hashes to. A
// certificate without eligible_hash (decided before lists were stored by
// hash) is hashed as it is, its list included, as its block hashed it.
func CertificateHash(c *lightkeeperv1.Certificate) []byte {
	if len(c.GetEligibleHash()) == 0 || len(c.GetEligible()) == 0 {
		return messageHash(c)
	}
	return messageHash(withoutEligible(c))
}

// withoutEligible is a shallow copy of c without its eligible list: the
// other fields are shared, not copied, and c is left as it is (callers may
// share it between goroutines).
func withoutEligible(c *lightkeeperv1.Certificate) *lightkeeperv1.Certificate {
	out := &lightkeeperv1.Certificate{}
	dst := out.ProtoReflect()
	c.ProtoReflect().Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		if fd.Number() != certificateEligibleField {
			dst.Set(fd, v)
		}
		return true
	})
	dst.SetUnknown(c.ProtoReflect().GetUnknown())
	return out
}

// certificateEligibleField is Certificate.eligible's field number.
const certificateEligibleField = 8

// TransactionHash returns SHA-256 of the deterministic protobuf encoding of
// tx, or nil if tx cannot be marshalled.
func TransactionHash(tx *lightkeeperv1.Transaction) []byte {
	return messageHash(tx)
}

// EvidenceHash returns SHA-256 of the deterministic protobuf encoding of e,
// or nil if e cannot be marshalled.
func EvidenceHash(e *lightkeeperv1.Evidence) []byte {
	return messageHash(e)
}

func messageHash(m proto.Message) []byte {
	b, err := detMarshal.Marshal(m)
	if err != nil {
		return nil
	}
	s := sha256.Sum256(b)
	return s[:]
}

// TransactionsHash returns SHA-256 of the concatenated TransactionHash of
// each transaction (SHA-256 of nothing for an empty block).
func TransactionsHash(txs []*lightkeeperv1.Transaction) ([]byte, error) {
	d := sha256.New()
	for i, tx := range txs {
		if tx == nil {
			return nil, fmt.Errorf("%w: txs[%d]: nil transaction", ErrInvalidRequest, i)
		}
		b, err := detMarshal.Marshal(tx)
		if err != nil {
			return nil, fmt.Errorf("%w: txs[%d]: %v", ErrInvalidRequest, i, err)
		}
		s := sha256.Sum256(b)
		d.Write(s[:])
	}
	return d.Sum(nil), nil
}

// ResultsHash returns SHA-256 of the concatenated CertificateHash of each
// certificate followed by EvidenceHash of each evidence (SHA-256 of nothing
// when there are neither).
func ResultsHash(certs []*lightkeeperv1.Certificate, evidence []*lightkeeperv1.Evidence, reveals ...*lightkeeperv1.ChallengeReveal) []byte {
	d := sha256.New()
	for _, c := range certs {
		d.Write(CertificateHash(c))
	}
	for _, e := range evidence {
		d.Write(EvidenceHash(e))
	}
	// Blocks without revealed challenges hash as they did before
	// challenges existed; the domain keeps a reveal's hash from passing for
	// a certificate's or evidence's.
	for _, r := range reveals {
		d.Write(ChallengeRevealHash(r))
	}
	return d.Sum(nil)
}

// ChallengeRevealHash is SHA-256("lightkeeper/challenge/v1\x00" ||
// deterministic protobuf encoding of r).
func ChallengeRevealHash(r *lightkeeperv1.ChallengeReveal) []byte {
	b, _ := detMarshal.Marshal(r)
	d := sha256.New()
	d.Write([]byte("lightkeeper/challenge/v1\x00"))
	d.Write(b)
	return d.Sum(nil)
}

// VerifyingKeyID is a verifying key's id: the hex SHA-256 of its bytes.
func VerifyingKeyID(key []byte) string {
	sum := sha256.Sum256(key)
	return hex.EncodeToString(sum[:])
}
