package protocol

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	lightkeeperv1 "github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"
)

func weighted(pairs ...any) []*lightkeeperv1.WeightedKeeper {
	var out []*lightkeeperv1.WeightedKeeper
	for i := 0; i < len(pairs); i += 2 {
		out = append(out, &lightkeeperv1.WeightedKeeper{KeeperId: pairs[i].(string), Weight: pairs[i+1].(uint64)})
	}
	return out
}

// TestEligibleListHashLayout pins the documented encoding: the domain,
// u32be(n), then each keeper's raw id and u64be(weight).
func TestEligibleListHashLayout(t *testing.T) {
	a, b := strings.Repeat("0a", 32), strings.Repeat("fe", 32)
	list := weighted(a, uint64(7), b, uint64(1)<<40)
	var buf []byte
	buf = append(buf, "lightkeeper/eligible/v1\x00"...)
	buf = binary.BigEndian.AppendUint32(buf, 2)
	for _, w := range list {
		id, _ := hex.DecodeString(w.KeeperId)
		buf = append(buf, id...)
		buf = binary.BigEndian.AppendUint64(buf, w.Weight)
	}
	want := sha256.Sum256(buf)
	got, err := EligibleListHash(list)
	if err != nil || !bytes.Equal(got, want[:]) {
		t.Fatalf("EligibleListHash = %x, %v; want %x", got, err, want)
	}
	l, err := NewEligibleList(list)
	if err != nil || !bytes.Equal(l.Hash(), want[:]) || l.HashArray() != want {
		t.Fatalf("EligibleList.Hash = %x, %v; want %x", l.Hash(), err, want)
	}
	// Hash returns a copy: changing it changes nothing cached.
	l.Hash()[0] ^= 1
	if !bytes.Equal(l.Hash(), want[:]) {
		t.Fatal("Hash returned the cached array")
	}
	// A known answer, for checkers in other languages.
	if k := "cc02a2a89c450aea041bbfea8d6bb613c61b76822f3f84779147cdbc39d0086d"; hex.EncodeToString(got) != k {
		t.Errorf("known answer: got %x, want %s", got, k)
	}
}

// TestEligibleListHashSensitive: any change of an entry, the number of
// entries, or the order gives another hash or an error.
func TestEligibleListHashSensitive(t *testing.T) {
	a, b, c := strings.Repeat("01", 32), strings.Repeat("02", 32), strings.Repeat("03", 32)
	base, _ := EligibleListHash(weighted(a, uint64(5), b, uint64(6)))
	empty, err := EligibleListHash(nil)
	if err != nil || len(empty) != 32 {
		t.Fatalf("empty list: %x, %v", empty, err)
	}
	for name, l := range map[string][]*lightkeeperv1.WeightedKeeper{
		"weight":     weighted(a, uint64(5), b, uint64(7)),
		"weight 0":   weighted(a, uint64(0), b, uint64(6)),
		"id":         weighted(a, uint64(5), c, uint64(6)),
		"dropped":    weighted(a, uint64(5)),
		"added":      weighted(a, uint64(5), b, uint64(6), c, uint64(0)),
		"empty list": nil,
	} {
		h, err := EligibleListHash(l)
		if err != nil || bytes.Equal(h, base) {
			t.Errorf("%s: %x, %v; want a hash other than %x", name, h, err, base)
		}
	}
	for name, l := range map[string][]*lightkeeperv1.WeightedKeeper{
		"swapped":   weighted(b, uint64(6), a, uint64(5)),
		"duplicate": weighted(a, uint64(5), a, uint64(5)),
		"bad id":    weighted("A1", uint64(5)),
		"overflow":  weighted(a, ^uint64(0), b, uint64(1)),
	} {
		if h, err := EligibleListHash(l); !errors.Is(err, ErrInvalidRequest) || h != nil {
			t.Errorf("%s: %x, %v; want ErrInvalidRequest", name, h, err)
		}
	}
}

func sampleCert() *lightkeeperv1.Certificate {
	list := weighted(strings.Repeat("01", 32), uint64(5), strings.Repeat("02", 32), uint64(6))
	h, _ := EligibleListHash(list)
	return &lightkeeperv1.Certificate{
		ChainId: "c", RoundId: strings.Repeat("ab", 32), Kind: lightkeeperv1.RoundKind_ROUND_KIND_PROOF,
		Outcome: lightkeeperv1.Outcome_OUTCOME_APPROVED, Height: 9, Seed: []byte{1}, Committee: []string{list[0].KeeperId},
		Eligible: list, EligibleHash: h, Threshold: 1, RejectThreshold: 1,
		Votes:     []*lightkeeperv1.Vote{{RoundId: strings.Repeat("ab", 32), KeeperId: list[0].KeeperId}},
		DecidedAt: &timestamppb.Timestamp{Seconds: 1_700_000_000}, ResultHash: []byte{2},
		Result: &lightkeeperv1.ComputeResult{FuelUsed: 3}, Challenge: &lightkeeperv1.ChallengeAnswer{Candidates: true},
		SeedBlock: &lightkeeperv1.BlockHeader{Height: 8}, ParamsHash: []byte{4},
	}
}

// TestCertificateHashLeavesListOut: a certificate with eligible_hash
// hashes the same with or without its list (the block holds it without,
// the API serves it with), and the list is not changed; one without
// eligible_hash hashes its list.
func TestCertificateHashLeavesListOut(t *testing.T) {
	served := sampleCert()
	before := proto.Clone(served)
	asBlock := proto.Clone(served).(*lightkeeperv1.Certificate)
	asBlock.Eligible = nil
	if !bytes.Equal(CertificateHash(served), CertificateHash(asBlock)) {
		t.Fatal("the served certificate does not hash as its block holds it")
	}
	if !proto.Equal(served, before) {
		t.Fatal("CertificateHash changed the certificate")
	}
	// Every other field counts: withoutEligible drops the list only.
	if got := withoutEligible(served); !proto.Equal(got, asBlock) {
		t.Fatalf("withoutEligible = %v, want %v", got, asBlock)
	}
	served.ProtoReflect().SetUnknown([]byte{0xf8, 0x07, 0x01}) // field 127, varint 1
	if CertificateHash(served) == nil || bytes.Equal(CertificateHash(served), CertificateHash(asBlock)) {
		t.Fatal("unknown fields are not hashed")
	}
	// Without eligible_hash the list is hashed (as before lists were
	// stored by hash).
	legacy := sampleCert()
	legacy.EligibleHash = nil
	bare := proto.Clone(legacy).(*lightkeeperv1.Certificate)
	bare.Eligible = nil
	if bytes.Equal(CertificateHash(legacy), CertificateHash(bare)) {
		t.Fatal("a certificate without eligible_hash hashes without its list")
	}
}

// TestCheckEligible: the list must be present and hash to eligible_hash.
func TestCheckEligible(t *testing.T) {
	if _, err := checkEligible(sampleCert()); err != nil {
		t.Fatal(err)
	}
	for name, tc := range map[string]struct {
		mut  func(c *lightkeeperv1.Certificate)
		want error
		text string
	}{
		"list missing":     {func(c *lightkeeperv1.Certificate) { c.Eligible = nil }, ErrEligibleMissing, "verify-cert ID --save"},
		"weight changed":   {func(c *lightkeeperv1.Certificate) { c.Eligible[1].Weight++ }, ErrEligibleMismatch, "the 2 keepers delivered hash to"},
		"entry dropped":    {func(c *lightkeeperv1.Certificate) { c.Eligible = c.Eligible[:1] }, ErrEligibleMismatch, "the 1 keepers"},
		"hash changed":     {func(c *lightkeeperv1.Certificate) { c.EligibleHash[31] ^= 1 }, ErrEligibleMismatch, "eligible_hash is"},
		"hash missing":     {func(c *lightkeeperv1.Certificate) { c.EligibleHash = nil }, nil, "eligible_hash: 0 bytes, want 32"},
		"list unsorted":    {func(c *lightkeeperv1.Certificate) { c.Eligible[0], c.Eligible[1] = c.Eligible[1], c.Eligible[0] }, ErrInvalidRequest, "cannot recompute the committee"},
		"both missing":     {func(c *lightkeeperv1.Certificate) { c.Eligible, c.EligibleHash = nil, nil }, nil, "eligible_hash: 0 bytes"},
		"hash of 33 bytes": {func(c *lightkeeperv1.Certificate) { c.EligibleHash = append(c.EligibleHash, 0) }, nil, "33 bytes"},
	} {
		c := sampleCert()
		tc.mut(c)
		_, err := checkEligible(c)
		if err == nil || (tc.want != nil && !errors.Is(err, tc.want)) || !strings.Contains(err.Error(), tc.text) {
			t.Errorf("%s: %v; want %v containing %q", name, err, tc.want, tc.text)
		}
	}
}
