package poolkeys

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/lightkeeper-net/lightkeeper/protocol"
	"github.com/lightkeeper-net/lightkeeper/shielded"
	"github.com/lightkeeper-net/lightkeeper/shielded/circuit"
)

// TestLoadOrMake: the first call makes and writes a key pair, the next
// reads the same one back; the keys prove and verify a withdrawal.
func TestLoadOrMake(t *testing.T) {
	if testing.Short() {
		t.Skip("sets up the withdrawal circuit (seconds)")
	}
	dir := filepath.Join(t.TempDir(), "pool")
	pk, vk, made, err := LoadOrMake(dir, true)
	if err != nil || !made {
		t.Fatalf("first call: made %v, %v", made, err)
	}
	pk2, vk2, made, err := LoadOrMake(dir, true)
	if err != nil || made || !bytes.Equal(pk, pk2) || !bytes.Equal(vk, vk2) {
		t.Fatalf("second call: made %v, same keys %v, %v", made, bytes.Equal(pk, pk2) && bytes.Equal(vk, vk2), err)
	}
	if b, err := os.ReadFile(filepath.Join(dir, VerifyingKeyFile)); err != nil || !bytes.Equal(b, vk) {
		t.Fatalf("%s: %v", VerifyingKeyFile, err)
	}
	wt, _ := shielded.NewWalletTree(circuit.Depth)
	note := shielded.Note{Secret: shielded.ScalarFromUint64(1), NullifierKey: shielded.ScalarFromUint64(2), Amount: 7}
	wt.Append(note.Commitment())
	path, err := wt.Path(0)
	if err != nil {
		t.Fatal(err)
	}
	w := circuit.Witness{Note: note, Path: path, Root: wt.Root(), Recipient: shielded.RecipientFromAddress([]byte("someone"))}
	proof, _, err := circuit.Prove(pk, w)
	if err != nil {
		t.Fatal(err)
	}
	if v := circuit.Verify(vk, proof, w.PublicInputs()); v.Vote != protocol.VoteApprove {
		t.Fatalf("verdict %+v", v)
	}
}
