package state_test

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"time"

	"github.com/lightkeeper-net/lightkeeper/coordinator/state"
	lightkeeperv1 "github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1"
	"github.com/lightkeeper-net/lightkeeper/protocol"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// A whole round: genesis with ten staked keepers, one block that registers
// them, sets them online and registers a verifying key, one block that
// opens a round, one block of votes that decides it, and the block after
// the deadline that closes it. The machine never reads a clock: every
// block carries its time.
func Example() {
	const chain = "example-chain"
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

	keys := make([]ed25519.PrivateKey, 10)
	genesis := &lightkeeperv1.Genesis{ChainId: chain, GenesisTime: timestamppb.New(t0), Params: protocol.DefaultParams()}
	for i := range keys {
		seed := sha256.Sum256([]byte{byte(i)}) // deterministic example keys
		keys[i] = ed25519.NewKeyFromSeed(seed[:])
		genesis.Keepers = append(genesis.Keepers, &lightkeeperv1.GenesisKeeper{
			KeeperId: hex.EncodeToString(keys[i].Public().(ed25519.PublicKey)), Stake: 1000,
		})
	}
	m, res, err := state.New(genesis)
	if err != nil {
		panic(err)
	}
	fmt.Println("genesis height", res.Block.Header.Height)

	// Block 1: keepers prove possession of their keys and come online; a
	// verifying key is registered (the machine parses it: 2 public inputs).
	var txs []*lightkeeperv1.Transaction
	for i, k := range keys {
		id := genesis.Keepers[i].KeeperId
		txs = append(txs,
			&lightkeeperv1.Transaction{Kind: &lightkeeperv1.Transaction_RegisterKeeper{RegisterKeeper: &lightkeeperv1.RegisterKeeperTx{
				KeeperId: id, Signature: protocol.SignRegistration(k, chain)}}},
			&lightkeeperv1.Transaction{Kind: &lightkeeperv1.Transaction_SetKeeperOnline{SetKeeperOnline: &lightkeeperv1.SetKeeperOnlineTx{
				KeeperId: id, Online: true}}})
	}
	vk, err := os.ReadFile("testdata/vk/groth16_bn254.bin") // a gnark Groth16 key
	if err != nil {
		panic(err)
	}
	txs = append(txs, &lightkeeperv1.Transaction{Kind: &lightkeeperv1.Transaction_RegisterVerifyingKey{RegisterVerifyingKey: &lightkeeperv1.RegisterVerifyingKeyTx{
		Scheme: lightkeeperv1.Scheme_SCHEME_GROTH16, Curve: lightkeeperv1.Curve_CURVE_BN254, Key: vk}}})
	res, _ = m.ApplyBlock(state.BlockInput{TimeUnixMilli: t0.Add(time.Second).UnixMilli(), Txs: txs})
	vkID := res.TxResults[len(txs)-1].VerifyingKey.Id

	// Block 2: a client's proof opens a round with a committee of 10.
	req := &lightkeeperv1.RoundRequest{Payload: &lightkeeperv1.RoundRequest_Proof{Proof: &lightkeeperv1.ProofRequest{
		Scheme: lightkeeperv1.Scheme_SCHEME_GROTH16, Curve: lightkeeperv1.Curve_CURVE_BN254,
		VerifyingKeyId: vkID, Proof: []byte("proof bytes"), PublicInputs: []byte(`["35","7"]`)}}}
	res, _ = m.ApplyBlock(state.BlockInput{TimeUnixMilli: t0.Add(2 * time.Second).UnixMilli(), Txs: []*lightkeeperv1.Transaction{
		{Kind: &lightkeeperv1.Transaction_SubmitRound{SubmitRound: &lightkeeperv1.SubmitRoundTx{Request: req}}}}})
	round := res.TxResults[0].Round
	// The round carries its eligible list's hash; the block stores the
	// list once under it (Result.EligibleLists), and the API fills it into
	// the rounds and certificates it serves.
	stored := res.EligibleLists[0]
	fmt.Println("committee size", len(round.Committee), "threshold", round.Threshold, "reject at", round.RejectThreshold)

	// Block 3: every member checked the proof and votes APPROVE.
	rid, _ := hex.DecodeString(round.Id)
	txs = nil
	for _, member := range round.Committee {
		for i, gk := range genesis.Keepers {
			if gk.KeeperId == member {
				sig := protocol.SignVote(keys[i], chain, [32]byte(rid), protocol.VoteApprove, [32]byte{})
				txs = append(txs, &lightkeeperv1.Transaction{Kind: &lightkeeperv1.Transaction_CastVote{CastVote: &lightkeeperv1.CastVoteTx{
					Vote: &lightkeeperv1.Vote{RoundId: round.Id, KeeperId: member, Kind: lightkeeperv1.VoteKind_VOTE_KIND_APPROVE,
						ResultHash: make([]byte, 32), Signature: sig}}}})
			}
		}
	}
	res, _ = m.ApplyBlock(state.BlockInput{TimeUnixMilli: t0.Add(5 * time.Second).UnixMilli(), Txs: txs})
	cert := res.Block.Certificates[0]
	cert.Eligible = stored.Keepers // as GetCertificate serves it
	fmt.Println("decided", cert.Outcome, "with", len(cert.Votes), "votes; certificate check:", protocol.VerifyCertificate(cert, m.Params()))

	// The service makes a block when the next deadline passes.
	deadline, _ := m.NextDeadline()
	res, _ = m.ApplyBlock(state.BlockInput{TimeUnixMilli: deadline})
	for _, e := range res.Events {
		if c, ok := e.(state.RoundClosed); ok {
			fmt.Println("closed", c.Round.Phase, "missed", len(c.Missed))
		}
	}
	leader, _ := m.Keeper(round.Committee[0])
	fmt.Println("leader reputation", leader.Reputation)

	// Output:
	// genesis height 0
	// committee size 10 threshold 7 reject at 4
	// decided OUTCOME_APPROVED with 7 votes; certificate check: <nil>
	// closed ROUND_PHASE_CLOSED missed 0
	// leader reputation 1015
}
