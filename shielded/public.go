package shielded

import (
	"encoding/binary"
	"fmt"
)

// PublicInputs are the withdrawal circuit's public inputs, in the circuit's
// order. They are everything the state machine checks outside the proof:
// Root must be a known root, Nullifier must be unspent, Amount is paid out
// and Recipient must equal RecipientFromAddress of the address paid.
type PublicInputs struct {
	Root      Scalar
	Nullifier Scalar
	Amount    uint64
	Recipient Scalar
}

// NumPublicInputs is the number of public inputs of the withdrawal circuit.
const NumPublicInputs = 4

// PublicInputsSize is the size of the encoding: gnark's public witness,
// u32 nbPublic (4) || u32 nbSecret (0) || u32 vector length (4) || 4 × 32
// big-endian bytes. verifier.VerifyProof accepts exactly these bytes.
const PublicInputsSize = 12 + NumPublicInputs*ScalarSize

// MarshalBinary returns gnark's binary public witness for p (what
// verifier.ProofJob.PublicInputs takes). Byte-identical to gnark's own
// witness.MarshalBinary of the circuit's public part.
func (p PublicInputs) MarshalBinary() ([]byte, error) { return p.AppendBinary(nil), nil }

// AppendBinary appends the MarshalBinary form to b.
func (p PublicInputs) AppendBinary(b []byte) []byte {
	b = binary.BigEndian.AppendUint32(b, NumPublicInputs)
	b = binary.BigEndian.AppendUint32(b, 0)
	b = binary.BigEndian.AppendUint32(b, NumPublicInputs)
	b = appendScalar(b, p.Root)
	b = appendScalar(b, p.Nullifier)
	b = appendScalar(b, ScalarFromUint64(p.Amount))
	b = appendScalar(b, p.Recipient)
	return b
}

// DecodePublicInputs parses MarshalBinary's form strictly: the exact length
// and header, canonical scalars (so a nullifier has exactly one encoding),
// and an amount below 2⁶⁴ (the circuit range-checks the amount, so no valid
// proof has a larger one). The JSON form the verifier also accepts is
// deliberately not accepted here: the state machine should build the bytes
// from the request's fields with MarshalBinary rather than trust a
// submitter's encoding.
func DecodePublicInputs(b []byte) (PublicInputs, error) {
	if len(b) != PublicInputsSize {
		return PublicInputs{}, fmt.Errorf("shielded: public inputs must be %d bytes, got %d", PublicInputsSize, len(b))
	}
	nbPublic := binary.BigEndian.Uint32(b[0:4])
	nbSecret := binary.BigEndian.Uint32(b[4:8])
	n := binary.BigEndian.Uint32(b[8:12])
	if nbPublic != NumPublicInputs || nbSecret != 0 || n != NumPublicInputs {
		return PublicInputs{}, fmt.Errorf("shielded: public witness header (%d public, %d secret, %d values) is not (4, 0, 4)", nbPublic, nbSecret, n)
	}
	var v [NumPublicInputs]Scalar
	for i := range v {
		s, err := ParseScalar(b[12+i*ScalarSize : 12+(i+1)*ScalarSize])
		if err != nil {
			return PublicInputs{}, fmt.Errorf("shielded: public input %d: %w", i, err)
		}
		v[i] = s
	}
	amount := v[2].Bytes()
	for _, c := range amount[:ScalarSize-8] {
		if c != 0 {
			return PublicInputs{}, fmt.Errorf("shielded: amount %s does not fit in 64 bits", v[2])
		}
	}
	return PublicInputs{
		Root:      v[0],
		Nullifier: v[1],
		Amount:    binary.BigEndian.Uint64(amount[ScalarSize-8:]),
		Recipient: v[3],
	}, nil
}
