package keeper

import (
	"context"
	"crypto/ed25519"
	"encoding/hex"
	mrand "math/rand/v2"
	"testing"

	"github.com/lightkeeper-net/lightkeeper/internal/poolkeys"
	lightkeeperv1 "github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1"
	"github.com/lightkeeper-net/lightkeeper/shielded"
	"github.com/lightkeeper-net/lightkeeper/shielded/circuit"
)

// insecureSetup is poolkeys.Fast (gnark's own groth16.Setup): seconds
// instead of circuit.Setup's minute, for tests only.
func insecureSetup(t *testing.T) (pk, vk []byte) {
	t.Helper()
	pk, vk, err := poolkeys.Fast()
	if err != nil {
		t.Fatal(err)
	}
	return pk, vk
}

// TestWithdrawalTask: a WITHDRAWAL task is approved iff its proof verifies
// on the pool key with public inputs built from the request and its root
// is in the task's root list.
func TestWithdrawalTask(t *testing.T) {
	if testing.Short() {
		t.Skip("proves a withdrawal (a few seconds)")
	}
	pk, vk := insecureSetup(t)
	rng := mrand.NewChaCha8([32]byte{3})
	wt, _ := shielded.NewWalletTree(circuit.Depth)
	var note shielded.Note
	for i := range 3 {
		n, err := shielded.NewNote(rng, uint64(10+i))
		if err != nil {
			t.Fatal(err)
		}
		wt.Append(n.Commitment())
		if i == 1 {
			note = n
		}
	}
	path, err := wt.Path(1)
	if err != nil {
		t.Fatal(err)
	}
	recipientKey := ed25519.NewKeyFromSeed(make([]byte, 32))
	recipient := recipientKey.Public().(ed25519.PublicKey)
	proof, _, err := circuit.Prove(pk, circuit.Witness{Note: note, Path: path, Root: wt.Root(), Recipient: shielded.RecipientFromAddress(recipient)})
	if err != nil {
		t.Fatal(err)
	}
	root, nf := wt.Root().Bytes(), note.Nullifier(1).Bytes()
	other := shielded.ScalarFromUint64(5).Bytes()
	task := func(mut func(w *lightkeeperv1.WithdrawalTask)) *lightkeeperv1.Task {
		w := &lightkeeperv1.WithdrawalTask{
			Request: &lightkeeperv1.WithdrawalRequest{Root: root[:], Nullifier: nf[:], Amount: note.Amount,
				Recipient: hex.EncodeToString(recipient), Proof: proof},
			VerifyingKey: vk,
			Roots:        [][]byte{other[:], root[:]},
		}
		if mut != nil {
			mut(w)
		}
		return &lightkeeperv1.Task{Kind: lightkeeperv1.RoundKind_ROUND_KIND_WITHDRAWAL, Payload: &lightkeeperv1.Task_Withdrawal{Withdrawal: w}}
	}
	e := NewNativeEngine()
	for _, tc := range []struct {
		name string
		mut  func(w *lightkeeperv1.WithdrawalTask)
		want lightkeeperv1.VoteKind
	}{
		{"valid", nil, lightkeeperv1.VoteKind_VOTE_KIND_APPROVE},
		{"root not in the list", func(w *lightkeeperv1.WithdrawalTask) { w.Roots = w.Roots[:1] }, lightkeeperv1.VoteKind_VOTE_KIND_REJECT},
		{"amount changed", func(w *lightkeeperv1.WithdrawalTask) { w.Request.Amount++ }, lightkeeperv1.VoteKind_VOTE_KIND_REJECT},
		{"recipient changed", func(w *lightkeeperv1.WithdrawalTask) { w.Request.Recipient = hex.EncodeToString(make([]byte, 32)) }, lightkeeperv1.VoteKind_VOTE_KIND_REJECT},
		{"other nullifier", func(w *lightkeeperv1.WithdrawalTask) { w.Request.Nullifier = other[:] }, lightkeeperv1.VoteKind_VOTE_KIND_REJECT},
		{"root in the list but not the proof's", func(w *lightkeeperv1.WithdrawalTask) { w.Request.Root = other[:] }, lightkeeperv1.VoteKind_VOTE_KIND_REJECT},
		{"bad recipient", func(w *lightkeeperv1.WithdrawalTask) { w.Request.Recipient = "xyz" }, lightkeeperv1.VoteKind_VOTE_KIND_REJECT},
		// The coordinator's public_inputs field is ignored: the keeper
		// builds them from the request.
		{"coordinator inputs ignored", func(w *lightkeeperv1.WithdrawalTask) { w.PublicInputs = []byte("junk") }, lightkeeperv1.VoteKind_VOTE_KIND_APPROVE},
	} {
		if v := e.Check(context.Background(), task(tc.mut)); v.Kind != tc.want {
			t.Errorf("%s: %v (%s), want %v", tc.name, v.Kind, v.Detail, tc.want)
		}
	}
}
