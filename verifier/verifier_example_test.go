package verifier_test

import (
	"crypto/ed25519"
	"fmt"

	"github.com/lightkeeper-net/lightkeeper/devtools/proofgen"
	"github.com/lightkeeper-net/lightkeeper/protocol"
	"github.com/lightkeeper-net/lightkeeper/verifier"
)

func ExampleVerifyProof() {
	// A test circuit: the prover knows x with 35 == x³ + x + 5 and
	// 16 == x² + 7 (so x = 3). proofgen makes real gnark keys and proofs.
	f, err := proofgen.New(verifier.SchemeGroth16, verifier.CurveBN254)
	if err != nil {
		panic(err)
	}
	p, err := f.Prove(3)
	if err != nil {
		panic(err)
	}
	job := verifier.ProofJob{
		Scheme:       verifier.SchemeGroth16,
		Curve:        verifier.CurveBN254,
		VerifyingKey: f.VerifyingKey, // gnark VerifyingKey.WriteTo
		Proof:        p.Proof,        // gnark Proof.WriteTo
		PublicInputs: []byte(`["35", "16"]`),
	}
	fmt.Println(verifier.VerifyProof(job, protocol.DefaultLimits()))

	job.PublicInputs = []byte(`["35", "17"]`)
	v := verifier.VerifyProof(job, protocol.DefaultLimits())
	fmt.Println(v.Vote, v.Reason)

	job.PublicInputs = []byte(`["35"]`)
	fmt.Println(verifier.VerifyProof(job, protocol.DefaultLimits()))
	// Output:
	// approve
	// reject invalid_proof
	// reject(wrong_input_count): got 1 public inputs, verifying key expects 2
}

func ExampleSignVote() {
	key := ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize)) // a keeper's key
	keeperID := key.Public().(ed25519.PublicKey)
	var roundID, resultHash [32]byte
	roundID[0] = 42

	sig := protocol.SignVote(key, "lightkeeper-1", roundID, protocol.VoteApprove, resultHash)
	fmt.Println(len(sig))
	fmt.Println(protocol.VerifyVote("lightkeeper-1", roundID, keeperID, protocol.VoteApprove, resultHash, sig))
	fmt.Println(protocol.VerifyVote("lightkeeper-1", roundID, keeperID, protocol.VoteReject, resultHash, sig))
	fmt.Println(protocol.VerifyVote("lightkeeper-2", roundID, keeperID, protocol.VoteApprove, resultHash, sig))
	// Output:
	// 64
	// true
	// false
	// false
}
