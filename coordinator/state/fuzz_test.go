package state

import (
	"crypto/ed25519"
	"errors"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	lightkeeperv1 "github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1"
	"github.com/lightkeeper-net/lightkeeper/protocol"
)

// FuzzSignedTx feeds arbitrary transaction bodies, validly signed by a
// genesis keeper, to protocol.VerifyTx and to two machines: whatever the body, the
// decoder and the appliers must not panic, a refused block must leave the
// state alone, and both machines must reach the same block hash.
func FuzzSignedTx(f *testing.F) {
	for _, b := range []*lightkeeperv1.TxBody{
		{Msg: &lightkeeperv1.TxBody_Transfer{Transfer: &lightkeeperv1.TransferMsg{To: keeperID(1), Amount: 1}}},
		{Msg: &lightkeeperv1.TxBody_Bond{Bond: &lightkeeperv1.BondMsg{Amount: 1}}},
		{Nonce: 1, Fee: 3, Msg: &lightkeeperv1.TxBody_Unbond{Unbond: &lightkeeperv1.UnbondMsg{Amount: 10}}},
		{Msg: &lightkeeperv1.TxBody_Guarantee{Guarantee: &lightkeeperv1.GuaranteeMsg{Target: keeperID(2), Amount: 5}}},
		{Msg: &lightkeeperv1.TxBody_SubmitRound{SubmitRound: &lightkeeperv1.SubmitRoundMsg{Request: proofRequest(vkID(fakeVK), "fuzz")}}},
	} {
		raw, err := proto.Marshal(b)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(raw)
	}
	key := keeperKey(0)
	f.Fuzz(func(t *testing.T, body []byte) {
		stx := &lightkeeperv1.SignedTx{
			PublicKey: []byte(key.Public().(ed25519.PublicKey)),
			Body:      body,
			Signature: ed25519.Sign(key, protocol.TxSignBytes(testChain, body)),
		}
		if b, signer, err := protocol.VerifyTx(testChain, stx); err == nil && (b == nil || signer != keeperID(0)) {
			t.Fatalf("VerifyTx: body %v, signer %s", b, signer)
		}
		var hashes [][]byte
		for range 2 {
			h := newHarness(t, 10, 1000, nil)
			before := h.m.meta()
			res, err := noted(h.m.ApplyBlock(BlockInput{TimeUnixMilli: h.now() + 1000, Txs: []*lightkeeperv1.Transaction{protocol.SignedTransaction(stx)}}))
			if err != nil {
				if !errors.Is(err, ErrInvalidRequest) {
					t.Fatalf("block refused with %v", err)
				}
				if !proto.Equal(before, h.m.meta()) {
					t.Fatal("a refused block changed the state")
				}
				return
			}
			hashes = append(hashes, res.Block.Hash)
		}
		if string(hashes[0]) != string(hashes[1]) {
			t.Fatalf("two machines, one block, two hashes: %x and %x", hashes[0], hashes[1])
		}
	})
}

// FuzzVerifyCertificate feeds certificate files (protojson, as
// `lightkeeper verify-cert --file` reads them) to protocol.VerifyCertificate, which
// must refuse or accept without panicking; a seed is a real certificate,
// which must verify.
func FuzzVerifyCertificate(f *testing.F) {
	h := newHarness(f, 10, 1000, nil)
	res := h.ok(h.apply(time.Second, submitTx(proofRequest(h.vk, "cert"))))
	res = h.ok(h.apply(time.Second, votes(res.TxResults[0].Round, h, approve, seatRange(0, 7)...)...))
	if len(res.Block.Certificates) != 1 {
		f.Fatalf("%d certificates", len(res.Block.Certificates))
	}
	good, err := protojson.Marshal(served(res.Block.Certificates[0]))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add([]byte(`{"chainId":"x","roundId":"` + res.Block.Certificates[0].RoundId + `","outcome":"OUTCOME_TIMEOUT","committee":["a"],"threshold":1}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		c := new(lightkeeperv1.Certificate)
		if err := protojson.Unmarshal(b, c); err != nil {
			return
		}
		err := protocol.VerifyCertificate(c, h.m.Params())
		if err != nil && !errors.Is(err, protocol.ErrBadCertificate) {
			t.Fatalf("error %v does not wrap protocol.ErrBadCertificate", err)
		}
		if string(b) == string(good) && err != nil {
			t.Fatalf("the real certificate: %v", err)
		}
	})
}
