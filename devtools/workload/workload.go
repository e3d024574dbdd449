package workload

import (
	"context"
	"crypto/sha256"
	"fmt"
	"sync"

	"connectrpc.com/connect"

	"github.com/lightkeeper-net/lightkeeper/devtools/proofgen"
	lightkeeperv1 "github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1"
	"github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1/lightkeeperv1connect"
	"github.com/lightkeeper-net/lightkeeper/verifier"
)

// Expect is what should become of an item.
type Expect int

const (
	Approved Expect = iota + 1
	Rejected
	// Refused: the coordinator turns the request down at submission.
	Refused
)

func (e Expect) String() string {
	switch e {
	case Approved:
		return "APPROVED"
	case Rejected:
		return "REJECTED"
	case Refused:
		return "REFUSED"
	}
	return fmt.Sprintf("Expect(%d)", int(e))
}

// Item is one request with its expected fate.
type Item struct {
	Name   string // e.g. "groth16/bn254/flipped-bit"
	Scheme verifier.Scheme
	Curve  verifier.Curve
	VK     []byte
	Proof  []byte
	Public []byte
	Want   Expect
}

// Combos are the four scheme × curve pairs.
var Combos = []struct {
	Scheme verifier.Scheme
	Curve  verifier.Curve
}{
	{verifier.SchemeGroth16, verifier.CurveBN254},
	{verifier.SchemeGroth16, verifier.CurveBLS12_381},
	{verifier.SchemePlonk, verifier.CurveBN254},
	{verifier.SchemePlonk, verifier.CurveBLS12_381},
}

// Options choose the workload's size.
type Options struct {
	// Valid proofs per scheme × curve.
	Valid int
	// Invalid adds, per scheme × curve, one of each invalid kind: wrong
	// public input, flipped bit, truncated proof, proof for another key,
	// and a wrong input count (refused at submission).
	Invalid bool
	// JSONInputs sends public inputs as a JSON list instead of gnark's
	// binary witness for every other valid proof.
	JSONInputs bool
}

// Build proves the workload. progress, if not nil, is called after each
// scheme × curve with a short description.
func Build(o Options, progress func(string)) ([]Item, error) {
	var items []Item
	for _, c := range Combos {
		f, err := proofgen.New(c.Scheme, c.Curve)
		if err != nil {
			return nil, err
		}
		name := c.Scheme.String() + "/" + c.Curve.String()
		item := func(kind string, p proofgen.Proof, want Expect) Item {
			return Item{Name: name + "/" + kind, Scheme: c.Scheme, Curve: c.Curve, VK: f.VerifyingKey,
				Proof: p.Proof, Public: p.PublicInputs, Want: want}
		}
		for i := 0; i < o.Valid; i++ {
			p, err := f.Prove(uint64(1000 + i))
			if err != nil {
				return nil, err
			}
			it := item("valid", p, Approved)
			if o.JSONInputs && i%2 == 1 {
				it.Name, it.Public = name+"/valid-json", p.PublicJSON
			}
			items = append(items, it)
		}
		if o.Invalid {
			p, err := f.Prove(7)
			if err != nil {
				return nil, err
			}
			items = append(items,
				item("wrong-public-input", proofgen.WrongPublicInput(p, c.Curve), Rejected),
				item("flipped-bit", proofgen.FlipBit(p), Rejected),
				item("truncated", proofgen.Truncate(p), Rejected),
			)
			// A different circuit with the same number of public inputs:
			// PLONK keys of one circuit under one SRS would be identical.
			other, err := proofgen.NewWithSize(c.Scheme, c.Curve, 16)
			if err != nil {
				return nil, err
			}
			op, err := other.Prove(8)
			if err != nil {
				return nil, err
			}
			items = append(items, item("other-key", op, Rejected))
			extra := append([]byte(nil), p.PublicJSON[:len(p.PublicJSON)-1]...)
			extra = append(extra, []byte(`,"1"]`)...)
			wrongCount := item("wrong-input-count", p, Refused)
			wrongCount.Public = extra
			items = append(items, wrongCount)
		}
		if progress != nil {
			progress(name)
		}
	}
	return items, nil
}

// Submitter sends items to one coordinator.
type Submitter struct {
	Rounds   lightkeeperv1connect.RoundServiceClient
	VKs      lightkeeperv1connect.VerifyingKeyServiceClient
	Programs lightkeeperv1connect.ProgramServiceClient

	// OnRetry, if set, is called for each failed request that is retried
	// (see Retryable): a coordinator restarting or without eligible
	// keepers yet. Requests are retried until they succeed, fail for
	// another reason, or their context ends.
	OnRetry func(op string, err error)

	// vkIDs remembers the keys already registered (SHA-256 of the bytes →
	// id), so a stream of rounds under one key registers it once instead
	// of spending a request, a rate-limit token and a store read per round.
	vkIDs *sync.Map
}

// NewSubmitter returns a Submitter for the coordinator at url.
func NewSubmitter(h connect.HTTPClient, url string) Submitter {
	return Submitter{
		Rounds:   lightkeeperv1connect.NewRoundServiceClient(h, url),
		VKs:      lightkeeperv1connect.NewVerifyingKeyServiceClient(h, url),
		Programs: lightkeeperv1connect.NewProgramServiceClient(h, url),
		vkIDs:    new(sync.Map),
	}
}

// verifyingKeyID registers the item's key unless this Submitter already
// did, and returns its id.
func (s Submitter) verifyingKeyID(ctx context.Context, it Item) (string, error) {
	sum := sha256.Sum256(it.VK)
	if id, ok := s.vkIDs.Load(sum); ok {
		return id.(string), nil
	}
	vk, err := retry(ctx, "RegisterVerifyingKey", s.OnRetry, func() (*connect.Response[lightkeeperv1.RegisterVerifyingKeyResponse], error) {
		return s.VKs.RegisterVerifyingKey(ctx, connect.NewRequest(&lightkeeperv1.RegisterVerifyingKeyRequest{
			Scheme: lightkeeperv1.Scheme(it.Scheme), Curve: lightkeeperv1.Curve(it.Curve), Key: it.VK,
		}))
	})
	if err != nil {
		return "", err
	}
	id := vk.Msg.GetVerifyingKey().GetId()
	s.vkIDs.Store(sum, id)
	return id, nil
}

// Submit registers the item's key and submits it; nonce makes repeated
// submissions of the same item distinct rounds.
func (s Submitter) Submit(ctx context.Context, it Item, nonce string) (*lightkeeperv1.Round, error) {
	vkID, err := s.verifyingKeyID(ctx, it)
	if err != nil {
		return nil, fmt.Errorf("verifying key refused: %w", err)
	}
	res, err := s.SubmitRound(ctx, &lightkeeperv1.SubmitRoundRequest{
		Request: &lightkeeperv1.RoundRequest{
			Payload: &lightkeeperv1.RoundRequest_Proof{Proof: &lightkeeperv1.ProofRequest{
				Scheme:         lightkeeperv1.Scheme(it.Scheme),
				Curve:          lightkeeperv1.Curve(it.Curve),
				VerifyingKeyId: vkID,
				Proof:          it.Proof,
				PublicInputs:   it.Public,
			}},
			ClientNonce: nonce,
		},
	})
	if err != nil {
		return nil, fmt.Errorf("round refused: %w", err)
	}
	return res.GetRound(), nil
}

// SubmitRound sends req, retrying while the coordinator is unavailable
// (see Retryable). A retry carries the same client nonce, so it names the
// same round: a submission acknowledged before a crash is answered with
// that round (created false), never opened twice.
func (s Submitter) SubmitRound(ctx context.Context, req *lightkeeperv1.SubmitRoundRequest) (*lightkeeperv1.SubmitRoundResponse, error) {
	res, err := retry(ctx, "SubmitRound", s.OnRetry, func() (*connect.Response[lightkeeperv1.SubmitRoundResponse], error) {
		return s.Rounds.SubmitRound(ctx, connect.NewRequest(req))
	})
	if err != nil {
		return nil, err
	}
	return res.Msg, nil
}

// WaitDecided follows a round until it is decided, watching again after a
// broken stream or a restarting coordinator.
func (s Submitter) WaitDecided(ctx context.Context, roundID string) (*lightkeeperv1.Round, error) {
	return retry(ctx, "WatchRound", s.OnRetry, func() (*lightkeeperv1.Round, error) {
		stream, err := s.Rounds.WatchRound(ctx, connect.NewRequest(&lightkeeperv1.WatchRoundRequest{RoundId: roundID}))
		if err != nil {
			return nil, err
		}
		defer stream.Close()
		for stream.Receive() {
			if r := stream.Msg().GetRound(); r.GetPhase() != lightkeeperv1.RoundPhase_ROUND_PHASE_VOTING {
				return r, nil
			}
		}
		if err := stream.Err(); err != nil {
			return nil, err
		}
		// The stream ended without a decision: the coordinator stopped.
		return nil, connect.NewError(connect.CodeUnavailable, fmt.Errorf("watch of round %s ended before a decision", roundID))
	})
}

// Matches reports whether a decided round's outcome is what the item
// expected.
func (it Item) Matches(r *lightkeeperv1.Round) bool {
	switch it.Want {
	case Approved:
		return r.GetOutcome() == lightkeeperv1.Outcome_OUTCOME_APPROVED
	case Rejected:
		return r.GetOutcome() == lightkeeperv1.Outcome_OUTCOME_REJECTED
	}
	return false
}
