package state

import (
	"bytes"
	"errors"
	"testing"

	lightkeeperv1 "github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
)

// TestUncheckedTransactions feeds the machine, through ApplyBlock,
// transactions that never passed the service's admission: malformed and
// mislabelled verifying keys, hostile and over-limit programs, bad
// signatures, and a forged public-input count. Two fresh machines must
// give every one the same refusal, register nothing, and produce the same
// block.
func TestUncheckedTransactions(t *testing.T) {
	groth := testVK("groth16_bn254")
	plonk := testVK("plonk_bn254")
	g16, bn := lightkeeperv1.Scheme_SCHEME_GROTH16, lightkeeperv1.Curve_CURVE_BN254
	hugeLEB := append(fakeModule("x", 0)[:8], 0x01, 0xff, 0xff, 0xff, 0xff, 0x0f) // a type section claiming 4 GiB
	noStart := []byte("\x00asm\x01\x00\x00\x00\x05\x03\x01\x00\x01\x07\x0a\x01\x06memory\x02\x00")
	badKeeper := registerTx(testChain, 1)
	badKeeper.GetRegisterKeeper().Signature[0] ^= 1

	for _, c := range []struct {
		name string
		tx   *lightkeeperv1.Transaction
	}{
		{"vk: not a key", vkTx([]byte("not a verifying key"), g16, bn)},
		{"vk: truncated", vkTx(groth[:len(groth)-7], g16, bn)},
		{"vk: PLONK key labelled Groth16", vkTx(plonk, g16, bn)},
		{"vk: a registered key claimed on another curve", vkTx(groth, g16, lightkeeperv1.Curve_CURVE_BLS12_381)},
		{"vk: over the size limit", vkTx(make([]byte, 1<<23), g16, bn)},
		{"program: junk after the header", programTx([]byte("\x00asm\x01\x00\x00\x00junk"))},
		{"program: hostile length prefix", programTx(hugeLEB)},
		{"program: no _start", programTx(noStart)},
		{"program: over compute.max_module_bytes", programTx(fakeModule("big", 8<<20+1))},
		{"keeper: bad proof of possession", badKeeper},
	} {
		t.Run(c.name, func(t *testing.T) {
			var errs []string
			var hashes [][]byte
			for range 2 {
				h := newHarness(t, 4, 100, nil)
				res := h.apply(0, proto.Clone(c.tx).(*lightkeeperv1.Transaction))
				err := res.TxResults[0].Err
				if !errors.Is(err, ErrInvalidRequest) && !errors.Is(err, ErrBadSignature) {
					t.Fatalf("accepted or refused oddly: %v", err)
				}
				if len(res.VerifyingKeys) != 0 || len(res.Programs) != 0 || len(res.Keepers) != 0 {
					t.Fatal("a refused transaction changed the state")
				}
				errs = append(errs, err.Error())
				hashes = append(hashes, res.Block.Hash)
			}
			if errs[0] != errs[1] || !bytes.Equal(hashes[0], hashes[1]) {
				t.Fatalf("two machines disagree: %q / %q", errs[0], errs[1])
			}
			t.Log(errs[0])
		})
	}

	// A count forged into the removed field 4 is an unknown field: the
	// machine takes the count from the key (2), on every machine.
	raw, err := proto.Marshal(vkTx(groth, g16, bn).GetRegisterVerifyingKey())
	if err != nil {
		t.Fatal(err)
	}
	raw = protowire.AppendVarint(protowire.AppendTag(raw, 4, protowire.VarintType), 7)
	forged := new(lightkeeperv1.RegisterVerifyingKeyTx)
	if err := proto.Unmarshal(raw, forged); err != nil {
		t.Fatal(err)
	}
	tx := &lightkeeperv1.Transaction{Kind: &lightkeeperv1.Transaction_RegisterVerifyingKey{RegisterVerifyingKey: forged}}
	for range 2 {
		h := newHarness(t, 4, 100, nil)
		res := h.apply(0, tx)
		if vk := res.TxResults[0].VerifyingKey; res.TxResults[0].Err != nil || vk.GetNumPublicInputs() != 2 {
			t.Fatalf("forged count: %v, %v", res.TxResults[0].Err, vk)
		}
	}
}
