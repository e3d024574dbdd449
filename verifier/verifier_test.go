package verifier_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/consensys/gnark-crypto/ecc"
	bls12381 "github.com/consensys/gnark-crypto/ecc/bls12-381"
	"github.com/consensys/gnark-crypto/ecc/bn254"

	"github.com/lightkeeper-net/lightkeeper/devtools/proofgen"
	"github.com/lightkeeper-net/lightkeeper/protocol"
	"github.com/lightkeeper-net/lightkeeper/verifier"
)

const (
	approve = protocol.VoteApprove
	reject  = protocol.VoteReject
)

type vcase struct {
	name   string
	job    verifier.ProofJob
	limits protocol.Limits
	vote   protocol.VoteKind
	reason verifier.RejectReason
}

func TestVerifyProof(t *testing.T) {
	lim := protocol.DefaultLimits()
	for _, c := range combos {
		t.Run(c.String(), func(t *testing.T) {
			k := getKit(t, c)
			f, p := k.f, k.p
			modulus := curveID(c.curve).ScalarField()
			valid := f.Job(p)
			mod := func(fn func(j *verifier.ProofJob)) verifier.ProofJob {
				j := f.Job(p)
				fn(&j)
				return j
			}
			withInputs := func(values ...*big.Int) verifier.ProofJob {
				return mod(func(j *verifier.ProofJob) { j.PublicInputs = proofgen.EncodeWitness(values) })
			}
			pub := f.Public(3)
			other := c.curve
			if other == verifier.CurveBN254 {
				other = verifier.CurveBLS12_381
			} else {
				other = verifier.CurveBN254
			}
			otherScheme := verifier.SchemePlonk
			if c.scheme == verifier.SchemePlonk {
				otherScheme = verifier.SchemeGroth16
			}
			otherKit := getKit(t, combo{otherScheme, c.curve})
			// A key labelled with the other curve is malformed for it, or
			// unsupported where the build leaves that curve out.
			otherCurveReason := verifier.ReasonMalformedVerifyingKey
			if !verifier.Supported(c.scheme, other) {
				otherCurveReason = verifier.ReasonUnsupported
			}

			tests := []vcase{
				{"valid/binary", valid, lim, approve, verifier.ReasonNone},
				{"valid/json", f.JSONJob(p), lim, approve, verifier.ReasonNone},
				{"valid/json-whitespace", mod(func(j *verifier.ProofJob) {
					j.PublicInputs = []byte(" \n[ \"35\" ,\t\"16\" ]\n")
				}), lim, approve, verifier.ReasonNone},
				{"valid/zero-limits-mean-defaults", valid, protocol.Limits{}, approve, verifier.ReasonNone},
				{"valid/committed", k.committed.Job(k.pc), lim, approve, verifier.ReasonNone},
				{"valid/committed-json", k.committed.JSONJob(k.pc), lim, approve, verifier.ReasonNone},
				{"valid/uncompressed", rawJob(t, valid), lim, approve, verifier.ReasonNone},
				{"valid/committed-uncompressed", rawJob(t, k.committed.Job(k.pc)), lim, approve, verifier.ReasonNone},
				{"uncompressed/flipped-bit", rawJob(t, f.Job(proofgen.FlipBit(p))), lim, reject, verifier.ReasonInvalidProof},
				{"uncompressed/vk-truncated", mod(func(j *verifier.ProofJob) {
					*j = rawJob(t, *j)
					j.VerifyingKey = j.VerifyingKey[:len(j.VerifyingKey)-1]
				}), lim, reject, verifier.ReasonMalformedVerifyingKey},

				{"wrong-input/binary", f.Job(proofgen.WrongPublicInput(p, c.curve)), lim, reject, verifier.ReasonInvalidProof},
				{"wrong-input/json", f.JSONJob(proofgen.WrongPublicInput(p, c.curve)), lim, reject, verifier.ReasonInvalidProof},
				{"wrong-input/second", withInputs(pub[0], new(big.Int).Add(pub[1], big.NewInt(1))), lim, reject, verifier.ReasonInvalidProof},
				{"wrong-input/swapped", withInputs(pub[1], pub[0]), lim, reject, verifier.ReasonInvalidProof},
				{"wrong-input/committed", k.committed.Job(proofgen.WrongPublicInput(k.pc, c.curve)), lim, reject, verifier.ReasonInvalidProof},
				{"other-secret-inputs", f.Job(proofgen.Proof{Proof: p.Proof, PublicInputs: proofgen.EncodeWitness(f.Public(4))}), lim, reject, verifier.ReasonInvalidProof},
				{"flipped-bit", f.Job(proofgen.FlipBit(p)), lim, reject, verifier.ReasonInvalidProof},
				{"flipped-bit/committed", k.committed.Job(proofgen.FlipBit(k.pc)), lim, reject, verifier.ReasonInvalidProof},
				{"other-circuit-key", k.other.Job(p), lim, reject, verifier.ReasonInvalidProof},
				{"committed-key-plain-proof", k.committed.Job(p), lim, reject, verifier.ReasonInvalidProof},
				{"plain-key-committed-proof", f.Job(k.pc), lim, reject, verifier.ReasonInvalidProof},

				{"truncated-proof", f.Job(proofgen.Truncate(p)), lim, reject, verifier.ReasonMalformedProof},
				{"empty-proof", mod(func(j *verifier.ProofJob) { j.Proof = nil }), lim, reject, verifier.ReasonMalformedProof},
				{"proof-trailing-byte", mod(func(j *verifier.ProofJob) { j.Proof = append(j.Proof, 0) }), lim, reject, verifier.ReasonMalformedProof},
				{"proof-of-other-scheme", mod(func(j *verifier.ProofJob) { j.Proof = otherKit.p.Proof }), lim, reject, verifier.ReasonMalformedProof},
				{"proof-off-curve", mod(func(j *verifier.ProofJob) {
					j.Proof = splice(j.Proof, 0, g1Size(c.curve), offCurveG1(c.curve))
				}), lim, reject, verifier.ReasonMalformedProof},
				{"proof-uncompressed-first-point", mod(func(j *verifier.ProofJob) {
					j.Proof = splice(j.Proof, 0, g1Size(c.curve), firstPointUncompressed(c.curve, j.Proof))
				}), lim, approve, verifier.ReasonNone},
				{"vk-off-curve", mod(func(j *verifier.ProofJob) {
					off := 0 // groth16: [α]1 first
					if c.scheme == verifier.SchemePlonk {
						off = 8 + 8 + 8 + 32 + 32 + 8 + 32 // S[0] after the scalars
					}
					j.VerifyingKey = splice(j.VerifyingKey, off, g1Size(c.curve), offCurveG1(c.curve))
				}), lim, reject, verifier.ReasonMalformedVerifyingKey},
				{"wrong-count/one", withInputs(pub[0]), lim, reject, verifier.ReasonWrongInputCount},
				{"wrong-count/three", withInputs(pub[0], pub[1], big.NewInt(1)), lim, reject, verifier.ReasonWrongInputCount},
				{"wrong-count/none", withInputs(), lim, reject, verifier.ReasonWrongInputCount},
				{"wrong-count/json", mod(func(j *verifier.ProofJob) { j.PublicInputs = []byte(`["35"]`) }), lim, reject, verifier.ReasonWrongInputCount},

				{"inputs/modulus", withInputs(pub[0], modulus), lim, reject, verifier.ReasonMalformedPublicInputs},
				{"inputs/json-modulus", mod(func(j *verifier.ProofJob) {
					j.PublicInputs = []byte(`["35","` + modulus.String() + `"]`)
				}), lim, reject, verifier.ReasonMalformedPublicInputs},
				{"inputs/json-number", mod(func(j *verifier.ProofJob) { j.PublicInputs = []byte(`[35,16]`) }), lim, reject, verifier.ReasonMalformedPublicInputs},
				{"inputs/json-negative", mod(func(j *verifier.ProofJob) { j.PublicInputs = []byte(`["-35","16"]`) }), lim, reject, verifier.ReasonMalformedPublicInputs},
				{"inputs/json-hex", mod(func(j *verifier.ProofJob) { j.PublicInputs = []byte(`["0x23","16"]`) }), lim, reject, verifier.ReasonMalformedPublicInputs},
				{"inputs/json-leading-zero", mod(func(j *verifier.ProofJob) { j.PublicInputs = []byte(`["035","16"]`) }), lim, reject, verifier.ReasonMalformedPublicInputs},
				{"inputs/json-trailing", mod(func(j *verifier.ProofJob) { j.PublicInputs = []byte(`["35","16"]x`) }), lim, reject, verifier.ReasonMalformedPublicInputs},
				{"inputs/json-unclosed", mod(func(j *verifier.ProofJob) { j.PublicInputs = []byte(`["35","16"`) }), lim, reject, verifier.ReasonMalformedPublicInputs},
				{"inputs/empty", mod(func(j *verifier.ProofJob) { j.PublicInputs = nil }), lim, reject, verifier.ReasonMalformedPublicInputs},
				{"inputs/truncated", mod(func(j *verifier.ProofJob) { j.PublicInputs = j.PublicInputs[:len(j.PublicInputs)-1] }), lim, reject, verifier.ReasonMalformedPublicInputs},
				{"inputs/trailing", mod(func(j *verifier.ProofJob) { j.PublicInputs = append(j.PublicInputs, 0) }), lim, reject, verifier.ReasonMalformedPublicInputs},
				{"inputs/full-witness", mod(func(j *verifier.ProofJob) {
					j.PublicInputs[7] = 1 // nbSecret = 1
				}), lim, reject, verifier.ReasonMalformedPublicInputs},

				{"vk/garbage", mod(func(j *verifier.ProofJob) { j.VerifyingKey = bytes.Repeat([]byte{0xa5}, 300) }), lim, reject, verifier.ReasonMalformedVerifyingKey},
				{"vk/empty", mod(func(j *verifier.ProofJob) { j.VerifyingKey = nil }), lim, reject, verifier.ReasonMalformedVerifyingKey},
				{"vk/truncated", mod(func(j *verifier.ProofJob) { j.VerifyingKey = j.VerifyingKey[:len(j.VerifyingKey)-1] }), lim, reject, verifier.ReasonMalformedVerifyingKey},
				{"vk/trailing", mod(func(j *verifier.ProofJob) { j.VerifyingKey = append(j.VerifyingKey, 0) }), lim, reject, verifier.ReasonMalformedVerifyingKey},
				{"vk/other-scheme", mod(func(j *verifier.ProofJob) { j.VerifyingKey = otherKit.f.VerifyingKey }), lim, reject, verifier.ReasonMalformedVerifyingKey},
				{"vk/other-curve", mod(func(j *verifier.ProofJob) { j.Curve = other }), lim, reject, otherCurveReason},

				{"oversized/vk", valid, protocol.Limits{MaxVerifyingKeyBytes: len(valid.VerifyingKey) - 1}, reject, verifier.ReasonOversized},
				{"oversized/proof", valid, protocol.Limits{MaxProofBytes: len(valid.Proof) - 1}, reject, verifier.ReasonOversized},
				{"oversized/inputs", valid, protocol.Limits{MaxPublicInputBytes: len(valid.PublicInputs) - 1}, reject, verifier.ReasonOversized},
				{"oversized/input-count", valid, protocol.Limits{MaxPublicInputs: 1}, reject, verifier.ReasonOversized},
				{"oversized/input-count-json", f.JSONJob(p), protocol.Limits{MaxPublicInputs: 1}, reject, verifier.ReasonOversized},
				{"oversized/before-parsing", mod(func(j *verifier.ProofJob) {
					j.VerifyingKey = nil // malformed, but the size check comes first
					j.Proof = make([]byte, lim.MaxProofBytes+1)
				}), lim, reject, verifier.ReasonOversized},

				{"unsupported/scheme", mod(func(j *verifier.ProofJob) { j.Scheme = 9 }), lim, reject, verifier.ReasonUnsupported},
				{"unsupported/curve", mod(func(j *verifier.ProofJob) { j.Curve = 0 }), lim, reject, verifier.ReasonUnsupported},
			}
			if c.scheme == verifier.SchemePlonk {
				// gnark still reads keys written before it versioned the
				// encoding: the same fields without the marker and version.
				legacy := func(j *verifier.ProofJob) { j.VerifyingKey = j.VerifyingKey[16:] }
				tests = append(tests,
					vcase{"valid/legacy-key", mod(legacy), lim, approve, verifier.ReasonNone},
					vcase{"valid/legacy-committed-key", func() verifier.ProofJob {
						j := k.committed.Job(k.pc)
						legacy(&j)
						return j
					}(), lim, approve, verifier.ReasonNone},
					vcase{"vk/version-2", mod(func(j *verifier.ProofJob) { j.VerifyingKey[15] = 2 }), lim, reject, verifier.ReasonMalformedVerifyingKey},
				)
			}
			// Points on the curve but outside the prime-order subgroup exist
			// in G1 of BLS12-381 and in G2 of both curves (BN254's G1 has
			// cofactor 1).
			switch {
			case c.curve == verifier.CurveBLS12_381:
				tests = append(tests, vcase{"proof-not-in-subgroup", mod(func(j *verifier.ProofJob) {
					j.Proof = splice(j.Proof, 0, g1Size(c.curve), nonSubgroupG1BLS())
				}), lim, reject, verifier.ReasonMalformedProof})
			case c.scheme == verifier.SchemeGroth16:
				tests = append(tests, vcase{"proof-not-in-subgroup", mod(func(j *verifier.ProofJob) {
					j.Proof = splice(j.Proof, bn254.SizeOfG1AffineCompressed, bn254.SizeOfG2AffineCompressed, nonSubgroupG2BN254())
				}), lim, reject, verifier.ReasonMalformedProof})
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					wantVerdict(t, tt.job, tt.limits, tt.vote, tt.reason)
				})
			}
		})
	}
}

// TestBitFlips flips bits all over the proof and the key, one at a time, and
// checks the verdicts: a corrupted proof is never approved, a corrupted key
// only where the flip hits a field that verification does not use, and
// every rejection carries a reason that fits the corrupted object.
func TestBitFlips(t *testing.T) {
	if testing.Short() {
		t.Skip("slow")
	}
	lim := protocol.DefaultLimits()
	for _, c := range combos {
		t.Run(c.String(), func(t *testing.T) {
			k := getKit(t, c)
			for _, base := range []struct {
				name string
				job  verifier.ProofJob
			}{{"plain", k.f.Job(k.p)}, {"committed", k.committed.Job(k.pc)}} {
				t.Run(base.name+"/proof", func(t *testing.T) {
					checkFlips(t, c, base.job, lim, false, 0, len(base.job.Proof), 97)
				})
				t.Run(base.name+"/vk", func(t *testing.T) {
					checkFlips(t, c, base.job, lim, true, 0, len(base.job.VerifyingKey), 97)
				})
				if c.scheme == verifier.SchemePlonk {
					// PLONK keys are mostly pairing lines; hit the head
					// (scalars, commitments, KZG points) more densely.
					t.Run(base.name+"/vk-head", func(t *testing.T) {
						checkFlips(t, c, base.job, lim, true, 0, 600, 97)
					})
				}
			}
		})
	}
}

// checkFlips flips about n evenly spread bits of bytes [from, to) of the
// proof or the key, one at a time.
func checkFlips(t *testing.T, c combo, job verifier.ProofJob, lim protocol.Limits, inKey bool, from, to, n int) {
	target := job.Proof
	if inKey {
		target = job.VerifyingKey
	}
	bitsTotal := (to - from) * 8
	step := max(1, bitsTotal/n)
	var approved, malformed, invalid int
	for bit := from*8 + step/2; bit < to*8; bit += step {
		j := job
		b := bytes.Clone(target)
		b[bit/8] ^= 1 << (bit % 8)
		if inKey {
			j.VerifyingKey = b
		} else {
			j.Proof = b
		}
		got := verifier.VerifyProof(j, lim)
		switch {
		case got.Vote == approve:
			approved++
			if !inKey {
				t.Errorf("bit %d: approved a corrupted proof", bit)
			} else if !unusedKeyByte(c, job.VerifyingKey, bit/8) {
				t.Errorf("bit %d: approved with a key corrupted in a field verification uses", bit)
			}
		case got.Vote != reject:
			t.Fatalf("bit %d: verdict %v", bit, got)
		case got.Reason == verifier.ReasonInvalidProof:
			invalid++
		case !inKey && got.Reason == verifier.ReasonMalformedProof,
			inKey && got.Reason == verifier.ReasonMalformedVerifyingKey:
			malformed++
		case inKey && (got.Reason == verifier.ReasonUnsupported || got.Reason == verifier.ReasonOversized):
			// A count grown past maxCommitments or the input limit,
			// refused before the points are decoded.
			malformed++
		default:
			t.Fatalf("bit %d: unexpected reason %v", bit, got)
		}
	}
	t.Logf("%d flips: %d malformed, %d invalid, %d approved", bitsTotal/step, malformed, invalid, approved)
}

func TestCheckVerifyingKey(t *testing.T) {
	lim := protocol.DefaultLimits()
	for _, c := range combos {
		t.Run(c.String(), func(t *testing.T) {
			k := getKit(t, c)
			for _, f := range []*proofgen.Fixture{k.f, k.other, k.committed} {
				n, err := verifier.CheckVerifyingKey(c.scheme, c.curve, f.VerifyingKey, lim)
				if err != nil || n != f.NumPublic {
					t.Fatalf("CheckVerifyingKey = %d, %v; want %d", n, err, f.NumPublic)
				}
			}
			vk := k.f.VerifyingKey
			cases := []struct {
				name   string
				scheme verifier.Scheme
				curve  verifier.Curve
				vk     []byte
				limits protocol.Limits
				want   *verifier.Error
			}{
				{"garbage", c.scheme, c.curve, bytes.Repeat([]byte{7}, 100), lim, verifier.ErrMalformedVerifyingKey},
				{"truncated", c.scheme, c.curve, vk[:len(vk)/2], lim, verifier.ErrMalformedVerifyingKey},
				{"trailing", c.scheme, c.curve, append(bytes.Clone(vk), 1), lim, verifier.ErrMalformedVerifyingKey},
				{"oversized", c.scheme, c.curve, vk, protocol.Limits{MaxVerifyingKeyBytes: 10}, verifier.ErrOversized},
				{"too-many-inputs", c.scheme, c.curve, vk, protocol.Limits{MaxPublicInputs: 1}, verifier.ErrOversized},
				{"bad-scheme", 0, c.curve, vk, lim, verifier.ErrUnsupported},
				{"bad-curve", c.scheme, 3, vk, lim, verifier.ErrUnsupported},
			}
			for _, tc := range cases {
				t.Run(tc.name, func(t *testing.T) {
					n, err := verifier.CheckVerifyingKey(tc.scheme, tc.curve, tc.vk, tc.limits)
					if !errors.Is(err, tc.want) || n != 0 {
						t.Fatalf("got %d, %v; want %v", n, err, tc.want)
					}
					var ve *verifier.Error
					if !errors.As(err, &ve) || ve.Reason != tc.want.Reason || ve.Detail == "" {
						t.Fatalf("error %#v lacks reason or detail", err)
					}
				})
			}
		})
	}
}

// TestPlonkKeyConsistency corrupts fields that gnark decodes without
// checking and that this package checks.
func TestPlonkKeyConsistency(t *testing.T) {
	k := getKit(t, combo{verifier.SchemePlonk, verifier.CurveBN254})
	vk := k.f.VerifyingKey
	// Versioned layout: marker(8) version(8) size(8) sizeInv(32) generator(32) nbPublic(8) ...
	cases := map[string]func(b []byte){
		"size":       func(b []byte) { b[23] ^= 2 },
		"sizeInv":    func(b []byte) { b[24+31] ^= 1 },
		"generator":  func(b []byte) { b[56+31] ^= 1 },
		"nbPublic":   func(b []byte) { b[88+7] = 0xff },
		"version":    func(b []byte) { b[15] = 2 },
		"lines":      func(b []byte) { b[len(b)-100] ^= 1 },
		"lastLimb":   func(b []byte) { b[len(b)-12] ^= 0x80 },
		"commitIdxs": func(b []byte) { b[len(b)-1] = 1 }, // length prefix of the last slice
	}
	for name, corrupt := range cases {
		t.Run(name, func(t *testing.T) {
			b := bytes.Clone(vk)
			corrupt(b)
			if _, err := verifier.CheckVerifyingKey(verifier.SchemePlonk, verifier.CurveBN254, b, protocol.DefaultLimits()); !errors.Is(err, verifier.ErrMalformedVerifyingKey) {
				t.Fatalf("got %v", err)
			}
		})
	}
}

func TestCheckPublicInputs(t *testing.T) {
	lim := protocol.DefaultLimits()
	rBN := ecc.BN254.ScalarField()
	rBLS := ecc.BLS12_381.ScalarField()
	minus1 := func(r *big.Int) *big.Int { return new(big.Int).Sub(r, big.NewInt(1)) }
	cases := []struct {
		name  string
		curve verifier.Curve
		in    []byte
		n     int
		want  *verifier.Error
	}{
		{"json", verifier.CurveBN254, []byte(`["35","7"]`), 2, nil},
		{"json-empty", verifier.CurveBN254, []byte(`[]`), 0, nil},
		{"json-zero", verifier.CurveBN254, []byte(`["0"]`), 1, nil},
		{"json-max-bn254", verifier.CurveBN254, []byte(`["` + minus1(rBN).String() + `"]`), 1, nil},
		{"json-bn254-modulus", verifier.CurveBN254, []byte(`["` + rBN.String() + `"]`), 0, verifier.ErrMalformedPublicInputs},
		// rBN < rBLS: the BN254 modulus is a valid BLS12-381 scalar.
		{"json-bn254-modulus-on-bls", verifier.CurveBLS12_381, []byte(`["` + rBN.String() + `"]`), 1, nil},
		{"json-bls-modulus", verifier.CurveBLS12_381, []byte(`["` + rBLS.String() + `"]`), 0, verifier.ErrMalformedPublicInputs},
		{"json-2^256", verifier.CurveBLS12_381, []byte(`["` + new(big.Int).Lsh(big.NewInt(1), 256).String() + `"]`), 0, verifier.ErrMalformedPublicInputs},
		{"json-null", verifier.CurveBN254, []byte(`[null]`), 0, verifier.ErrMalformedPublicInputs},
		{"json-empty-string", verifier.CurveBN254, []byte(`[""]`), 0, verifier.ErrMalformedPublicInputs},
		{"json-space-in-string", verifier.CurveBN254, []byte(`[" 1"]`), 0, verifier.ErrMalformedPublicInputs},
		{"json-object", verifier.CurveBN254, []byte(`{"a":"1"}`), 0, verifier.ErrMalformedPublicInputs},
		{"binary", verifier.CurveBN254, proofgen.EncodeWitness([]*big.Int{big.NewInt(35), big.NewInt(7)}), 2, nil},
		{"binary-empty", verifier.CurveBLS12_381, proofgen.EncodeWitness(nil), 0, nil},
		{"binary-modulus", verifier.CurveBN254, proofgen.EncodeWitness([]*big.Int{rBN}), 0, verifier.ErrMalformedPublicInputs},
		{"binary-short", verifier.CurveBN254, []byte{0, 0, 0}, 0, verifier.ErrMalformedPublicInputs},
		{"binary-huge-count", verifier.CurveBN254, []byte{0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff}, 0, verifier.ErrMalformedPublicInputs},
		{"binary-huge-count-consistent", verifier.CurveBN254, []byte{0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff}, 0, verifier.ErrOversized},
		{"too-many", verifier.CurveBN254, proofgen.EncodeWitness(make1025()), 0, verifier.ErrOversized},
		{"too-big", verifier.CurveBN254, make([]byte, lim.MaxPublicInputBytes+1), 0, verifier.ErrOversized},
		{"bad-curve", 7, []byte(`[]`), 0, verifier.ErrUnsupported},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.curve.Valid() {
				skipUnbuilt(t, verifier.SchemeGroth16, tc.curve)
			}
			n, err := verifier.CheckPublicInputs(tc.curve, tc.in, lim)
			if tc.want == nil {
				if err != nil || n != tc.n {
					t.Fatalf("got %d, %v; want %d", n, err, tc.n)
				}
				return
			}
			if !errors.Is(err, tc.want) || n != 0 {
				t.Fatalf("got %d, %v; want %v", n, err, tc.want)
			}
		})
	}
}

func make1025() []*big.Int {
	v := make([]*big.Int, 1025)
	for i := range v {
		v[i] = big.NewInt(int64(i))
	}
	return v
}

func TestVerifyProofNeverMutatesJob(t *testing.T) {
	k := getKit(t, combo{verifier.SchemeGroth16, verifier.CurveBN254})
	job := k.committed.Job(k.pc)
	before := k.committed.Job(k.pc)
	verifier.VerifyProof(job, protocol.DefaultLimits())
	if !bytes.Equal(job.VerifyingKey, before.VerifyingKey) || !bytes.Equal(job.Proof, before.Proof) || !bytes.Equal(job.PublicInputs, before.PublicInputs) {
		t.Fatal("VerifyProof modified its input")
	}
}

// TestHostileLengthPrefixes makes sure huge length prefixes are refused by
// the pre-check, before gnark's ReadFrom sees the bytes: gnark's decoders
// allocate whatever a prefix says, so a prefix the pre-check missed would
// stop this test binary with "fatal error: out of memory", which recover
// cannot catch.
func TestHostileLengthPrefixes(t *testing.T) {
	lim := protocol.DefaultLimits()
	for _, c := range combos {
		t.Run(c.String(), func(t *testing.T) {
			k := getKit(t, c)
			job := k.f.Job(k.p)
			// Write 0xffffffff at every offset, one at a time, so that every
			// length prefix gets hit at some point. Keys only need parsing.
			vk := job.VerifyingKey
			limit := len(vk) - 3
			if c.scheme == verifier.SchemePlonk {
				limit = 700 // the rest is fixed-size pairing lines
			}
			for off := 0; off < limit; off++ {
				b := bytes.Clone(vk)
				copy(b[off:], []byte{0xff, 0xff, 0xff, 0xff})
				// Any outcome but a crash is fine: some fields ([β]1, [δ]1
				// in Groth16 keys) are decoded but never used.
				verifier.CheckVerifyingKey(c.scheme, c.curve, b, lim)
			}
			for off := 0; off < len(job.Proof)-3; off++ {
				j := job
				j.Proof = bytes.Clone(job.Proof)
				copy(j.Proof[off:], []byte{0xff, 0xff, 0xff, 0xff})
				if got := verifier.VerifyProof(j, lim); got.Vote != reject {
					t.Fatalf("proof offset %d: %v", off, got)
				}
			}
			// The tail of plonk keys holds the last slice's prefix.
			if c.scheme == verifier.SchemePlonk {
				b := bytes.Clone(job.VerifyingKey)
				copy(b[len(b)-4:], []byte{0xff, 0xff, 0xff, 0xff})
				j := job
				j.VerifyingKey = b
				wantVerdict(t, j, lim, reject, verifier.ReasonMalformedVerifyingKey)
			}
		})
	}
}

// TestReadFromOutOfMemoryInputs feeds the two smallest inputs that make
// gnark v0.16.1's ReadFrom allocate a slice of 2^32-1 points (a Groth16 BN254
// key of 292 bytes, 256 GiB of K points; a proof of 132 bytes, 256 GiB of
// commitments): the six fixed key points or the three fixed proof points of
// a real key or proof, then the length prefix 0xffffffff. They must be
// refused as malformed without a crash.
func TestReadFromOutOfMemoryInputs(t *testing.T) {
	lim := protocol.DefaultLimits()
	k := getKit(t, combo{verifier.SchemeGroth16, verifier.CurveBN254})
	job := k.f.Job(k.p)
	const fixedKey = 3*bn254.SizeOfG1AffineCompressed + 3*bn254.SizeOfG2AffineCompressed
	const fixedProof = 2*bn254.SizeOfG1AffineCompressed + bn254.SizeOfG2AffineCompressed
	vk := append(bytes.Clone(job.VerifyingKey[:fixedKey]), 0xff, 0xff, 0xff, 0xff)
	proof := append(bytes.Clone(job.Proof[:fixedProof]), 0xff, 0xff, 0xff, 0xff)
	if len(vk) != 292 || len(proof) != 132 {
		t.Fatalf("key %d bytes, proof %d bytes", len(vk), len(proof))
	}
	if _, err := verifier.CheckVerifyingKey(job.Scheme, job.Curve, vk, lim); !errors.Is(err, verifier.ErrMalformedVerifyingKey) {
		t.Fatalf("key: %v", err)
	}
	j := job
	j.VerifyingKey = vk
	wantVerdict(t, j, lim, reject, verifier.ReasonMalformedVerifyingKey)
	j = job
	j.Proof = proof
	wantVerdict(t, j, lim, reject, verifier.ReasonMalformedProof)
}

// TestGroth16CommittedWires corrupts the committed-wire list of a Groth16
// key with a commitment. gnark's Verify indexes the public witness with
// these numbers unchecked (a panic, which would make the keeper abstain);
// the pre-check refuses the key instead.
func TestGroth16CommittedWires(t *testing.T) {
	lim := protocol.DefaultLimits()
	for _, c := range combos[:2] {
		t.Run(c.String(), func(t *testing.T) {
			k := getKit(t, c)
			g1 := g1Size(c.curve)
			off := 3*g1 + 3*2*g1 // K's length prefix
			nK := int(binary.BigEndian.Uint32(k.committed.VerifyingKey[off:]))
			off += 4 + nK*g1 // [][]u64: u32 lists, u32 length of list 0, its values
			if n := binary.BigEndian.Uint32(k.committed.VerifyingKey[off:]); n != 1 {
				t.Fatalf("%d committed-wire lists", n)
			}
			for _, w := range []uint64{0, uint64(nK), 1 << 40, 1<<64 - 1} {
				j := k.committed.Job(k.pc)
				binary.BigEndian.PutUint64(j.VerifyingKey[off+8:], w)
				if v := wantVerdict(t, j, lim, reject, verifier.ReasonMalformedVerifyingKey); !strings.Contains(v.Detail, "commits to wire") {
					t.Fatalf("wire %d: %v", w, v)
				}
			}
			j := k.committed.Job(k.pc)
			binary.BigEndian.PutUint32(j.VerifyingKey[len(j.VerifyingKey)-2*2*g1-4:], 2) // commitment key count, before one key of two G2 points
			wantVerdict(t, j, lim, reject, verifier.ReasonMalformedVerifyingKey)
		})
	}
}

// firstPointUncompressed re-encodes the first (compressed G1) point of a
// proof uncompressed: gnark's decoders accept both forms point by point.
func firstPointUncompressed(c verifier.Curve, proof []byte) []byte {
	if c == verifier.CurveBN254 {
		var p bn254.G1Affine
		if _, err := p.SetBytes(proof[:bn254.SizeOfG1AffineCompressed]); err != nil {
			panic(err)
		}
		b := p.RawBytes()
		return b[:]
	}
	var p bls12381.G1Affine
	if _, err := p.SetBytes(proof[:bls12381.SizeOfG1AffineCompressed]); err != nil {
		panic(err)
	}
	b := p.RawBytes()
	return b[:]
}

// TestHostileCounts checks that keys announcing huge numbers of points are
// refused before the points are decoded (decoding costs a square root and,
// on BLS12-381, a subgroup check per point: ~170 µs each).
func TestHostileCounts(t *testing.T) {
	lim := protocol.DefaultLimits()
	for _, c := range combos {
		t.Run(c.String(), func(t *testing.T) {
			k := getKit(t, c)
			vk := k.f.VerifyingKey
			g1 := g1Size(c.curve)
			var off int // offset of the slice's length prefix
			var point []byte
			var want *verifier.Error
			var count int
			if c.scheme == verifier.SchemeGroth16 {
				off = 3*g1 + 3*2*g1 // K after [α]1 [β]1 [β]2 [γ]2 [δ]1 [δ]2
				point = vk[off+4 : off+4+g1]
				count = (lim.MaxVerifyingKeyBytes - len(vk)) / g1
				want = verifier.ErrOversized
			} else {
				off = 8 + 8 + 8 + 32 + 32 + 8 + 32 + 8*g1 // Qcp after S and Q*
				point = vk[off-g1 : off]                  // Qk, a valid point
				count = 65
				want = verifier.ErrUnsupported
			}
			n := int(binary.BigEndian.Uint32(vk[off:]))
			b := append([]byte{}, vk[:off]...)
			b = binary.BigEndian.AppendUint32(b, uint32(n+count))
			b = append(b, vk[off+4:off+4+n*g1]...)
			for range count {
				b = append(b, point...)
			}
			b = append(b, vk[off+4+n*g1:]...)
			start := time.Now()
			_, err := verifier.CheckVerifyingKey(c.scheme, c.curve, b, lim)
			if !errors.Is(err, want) {
				t.Fatalf("got %v, want %v", err, want)
			}
			if d := time.Since(start); d > 50*time.Millisecond {
				t.Errorf("refusal took %v", d)
			}
			j := k.f.Job(k.p)
			j.VerifyingKey = b
			wantVerdict(t, j, lim, reject, want.Reason)
		})
	}
}
