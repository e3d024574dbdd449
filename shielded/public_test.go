package shielded

import (
	"bytes"
	"encoding/binary"
	"testing"
)

func TestPublicInputsRoundTrip(t *testing.T) {
	r := testRand(29)
	for _, amount := range []uint64{0, 1, 1000, 1<<64 - 1} {
		p := PublicInputs{Root: randScalar(r), Nullifier: randScalar(r), Amount: amount, Recipient: RecipientFromAddress([]byte("addr"))}
		b, err := p.MarshalBinary()
		if err != nil || len(b) != PublicInputsSize {
			t.Fatalf("MarshalBinary: %d bytes, %v", len(b), err)
		}
		if !bytes.Equal(b[:12], []byte{0, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0, 4}) {
			t.Fatalf("header % x", b[:12])
		}
		q, err := DecodePublicInputs(b)
		if err != nil || q != p {
			t.Fatalf("round trip: %+v %v", q, err)
		}
	}
}

func TestDecodePublicInputsRejects(t *testing.T) {
	good, _ := PublicInputs{Root: ScalarFromUint64(1), Nullifier: ScalarFromUint64(2), Amount: 3, Recipient: ScalarFromUint64(4)}.MarshalBinary()
	mut := func(f func(b []byte)) []byte { b := bytes.Clone(good); f(b); return b }
	for name, b := range map[string][]byte{
		"empty":              nil,
		"short":              good[:len(good)-1],
		"long":               append(bytes.Clone(good), 0),
		"nbPublic":           mut(func(b []byte) { b[3] = 5 }),
		"nbSecret":           mut(func(b []byte) { b[7] = 1 }),
		"length":             mut(func(b []byte) { b[11] = 3 }),
		"non-canonical root": mut(func(b []byte) { copy(b[12:44], bytes.Repeat([]byte{0xff}, 32)) }),
		"nullifier + r": mut(func(b []byte) {
			// 2 + r: the same field element, another encoding.
			v := ScalarFromUint64(2).BigInt()
			v.Add(v, rModulus())
			v.FillBytes(b[44:76])
		}),
		"amount ≥ 2⁶⁴": mut(func(b []byte) { b[76+23] = 1 }),
		"non-canonical recipient": mut(func(b []byte) {
			copy(b[108:140], bytes.Repeat([]byte{0xff}, 32))
		}),
	} {
		if _, err := DecodePublicInputs(b); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	// The largest u64 amount is fine.
	b := mut(func(b []byte) { binary.BigEndian.PutUint64(b[76+24:], 1<<64-1) })
	if p, err := DecodePublicInputs(b); err != nil || p.Amount != 1<<64-1 {
		t.Fatalf("max amount: %v", err)
	}
}
