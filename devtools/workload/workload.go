package workload

import (
	"context"
	"fmt"

	"connectrpc.com/connect"

	"github.com/lightkeeper-net/lightkeeper/client"
	"github.com/lightkeeper-net/lightkeeper/devtools/proofgen"
	lightkeeperv1 "github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1"
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

// Submitter is the client package's Submitter, with the workload's items
// as a proof type.
type Submitter struct{ client.Submitter }

// NewSubmitter returns a Submitter for the coordinator at url.
func NewSubmitter(h connect.HTTPClient, url string) Submitter {
	return Submitter{client.NewSubmitter(h, url)}
}

// AsProof is the item's proof as the client submits it.
func (it Item) AsProof() client.Proof {
	return client.Proof{Scheme: it.Scheme, Curve: it.Curve, VK: it.VK, Proof: it.Proof, Public: it.Public}
}

// Submit registers the item's key and submits it; nonce makes repeated
// submissions of the same item distinct rounds.
func (s Submitter) Submit(ctx context.Context, it Item, nonce string) (*lightkeeperv1.Round, error) {
	return s.SubmitProof(ctx, it.AsProof(), nonce)
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
