// Package snarkjs converts circom/snarkjs Groth16 material on BN254
// (verification_key.json, proof.json and public.json, exactly as snarkjs
// writes them) into the form the rest of Lightkeeper verifies: gnark's
// binary Groth16 BN254 verifying key and proof (WriteTo) and a JSON list of
// canonical decimal public inputs.
//
// It is the one place where snarkjs's format is read. The CLI
// (lightkeeper submit proof --format snarkjs) and the coordinator's API
// (format = PROOF_FORMAT_SNARKJS on RegisterVerifyingKey and SubmitRound)
// both call it, so the chain stores and every keeper host (native, wasip1,
// browser, edge) verifies one canonical form with the same gnark verifier.
// The mapping is in docs/snarkjs.md.
//
// Every error is a *FieldError naming the offending field (for example
// "vk_beta_2[0][1]" or "pi_a[2]"). The package is pure Go and builds for
// js/wasm and wasip1/wasm like the verifier.
package snarkjs

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"strings"

	"github.com/consensys/gnark-crypto/ecc/bn254"
	"github.com/consensys/gnark-crypto/ecc/bn254/fp"
	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
	groth16 "github.com/consensys/gnark/backend/groth16/bn254"
)

// Bounds on what is parsed. A key with MaxPublicInputs inputs is about 200
// KiB of snarkjs JSON.
const (
	MaxVerifyingKeyJSON = 4 << 20
	MaxProofJSON        = 64 << 10
	MaxPublicJSON       = 256 << 10
	// MaxPublicInputs matches the verifier's default limit.
	MaxPublicInputs = 1024
	// maxDigits: the base field's modulus has 77 decimal digits.
	maxDigits = 78
)

// ErrMalformed is wrapped by every *FieldError.
var ErrMalformed = errors.New("snarkjs: malformed input")

// FieldError is a conversion error: File is "verification_key.json",
// "proof.json" or "public.json", Field the JSON path inside it.
type FieldError struct {
	File   string
	Field  string
	Detail string
}

func (e *FieldError) Error() string {
	if e.Field == "" {
		return fmt.Sprintf("snarkjs %s: %s", e.File, e.Detail)
	}
	return fmt.Sprintf("snarkjs %s: %s: %s", e.File, e.Field, e.Detail)
}

// Unwrap makes errors.Is(err, ErrMalformed) true.
func (e *FieldError) Unwrap() error { return ErrMalformed }

const (
	fileVK     = "verification_key.json"
	fileProof  = "proof.json"
	filePublic = "public.json"
)

type vkJSON struct {
	Protocol string            `json:"protocol"`
	Curve    string            `json:"curve"`
	NPublic  *int              `json:"nPublic"`
	Alpha1   json.RawMessage   `json:"vk_alpha_1"`
	Beta2    json.RawMessage   `json:"vk_beta_2"`
	Gamma2   json.RawMessage   `json:"vk_gamma_2"`
	Delta2   json.RawMessage   `json:"vk_delta_2"`
	IC       []json.RawMessage `json:"IC"`
}

type proofJSON struct {
	Protocol string          `json:"protocol"`
	Curve    string          `json:"curve"`
	A        json.RawMessage `json:"pi_a"`
	B        json.RawMessage `json:"pi_b"`
	C        json.RawMessage `json:"pi_c"`
}

// decode unmarshals b into v, turning type errors into a FieldError naming
// the field.
func decode(file string, b []byte, max int, v any) error {
	if len(b) > max {
		return &FieldError{File: file, Detail: fmt.Sprintf("%d bytes, more than the %d accepted", len(b), max)}
	}
	if err := json.Unmarshal(b, v); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field != "" {
			return &FieldError{File: file, Field: te.Field, Detail: fmt.Sprintf("a JSON %s where %s was expected", te.Value, te.Type)}
		}
		return &FieldError{File: file, Detail: "not valid JSON: " + err.Error()}
	}
	return nil
}

func checkHeader(file, protocol, curve string) error {
	switch protocol {
	case "groth16":
	case "":
		return &FieldError{File: file, Field: "protocol", Detail: `missing (want "groth16")`}
	case "plonk", "fflonk":
		return &FieldError{File: file, Field: "protocol", Detail: fmt.Sprintf("%q is not supported: only Groth16 (snarkjs's PLONK and fflonk are other protocols than gnark's PLONK, see docs/snarkjs.md)", protocol)}
	default:
		return &FieldError{File: file, Field: "protocol", Detail: fmt.Sprintf("%.40q is not supported (want \"groth16\")", protocol)}
	}
	switch strings.ToLower(curve) {
	case "bn128", "bn254":
	case "":
		return &FieldError{File: file, Field: "curve", Detail: `missing (want "bn128")`}
	default:
		return &FieldError{File: file, Field: "curve", Detail: fmt.Sprintf("%.40q is not supported (want \"bn128\", i.e. BN254)", curve)}
	}
	return nil
}

// number parses one canonical decimal string below modulus.
func number(file, field string, raw json.RawMessage, modulus *big.Int) (*big.Int, error) {
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return nil, &FieldError{File: file, Field: field, Detail: "not a string of decimal digits"}
	}
	if s == "" || len(s) > maxDigits || (len(s) > 1 && s[0] == '0') {
		return nil, &FieldError{File: file, Field: field, Detail: fmt.Sprintf("%.80q is not a canonical decimal number", s)}
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return nil, &FieldError{File: file, Field: field, Detail: fmt.Sprintf("%.80q is not a canonical decimal number", s)}
		}
	}
	v, _ := new(big.Int).SetString(s, 10)
	if v.Cmp(modulus) >= 0 {
		return nil, &FieldError{File: file, Field: field, Detail: "not below the field modulus"}
	}
	return v, nil
}

// list unmarshals raw as a JSON array of exactly n elements.
func list(file, field string, raw json.RawMessage, n int) ([]json.RawMessage, error) {
	if len(raw) == 0 {
		return nil, &FieldError{File: file, Field: field, Detail: "missing"}
	}
	var l []json.RawMessage
	if err := json.Unmarshal(raw, &l); err != nil || l == nil {
		return nil, &FieldError{File: file, Field: field, Detail: fmt.Sprintf("not a list of %d elements", n)}
	}
	if len(l) != n {
		return nil, &FieldError{File: file, Field: field, Detail: fmt.Sprintf("%d elements, want %d", len(l), n)}
	}
	return l, nil
}

var (
	baseModulus   = fp.Modulus()
	scalarModulus = fr.Modulus()
)

func fpElement(file, field string, raw json.RawMessage) (fp.Element, error) {
	var e fp.Element
	v, err := number(file, field, raw, baseModulus)
	if err != nil {
		return e, err
	}
	e.SetBigInt(v)
	return e, nil
}

// g1 reads a G1 point as snarkjs writes it: projective [x, y, z] with z = 1,
// or the point at infinity [0, 1, 0]. The point must be on the curve (the
// prime-order group is all of BN254's G1).
func g1(file, field string, raw json.RawMessage) (bn254.G1Affine, error) {
	var p bn254.G1Affine
	l, err := list(file, field, raw, 3)
	if err != nil {
		return p, err
	}
	var c [3]fp.Element
	for i := range c {
		if c[i], err = fpElement(file, fmt.Sprintf("%s[%d]", field, i), l[i]); err != nil {
			return p, err
		}
	}
	switch {
	case c[2].IsOne():
		p.X, p.Y = c[0], c[1]
		if !p.IsOnCurve() {
			return p, &FieldError{File: file, Field: field, Detail: "not a point of BN254's G1"}
		}
	case c[2].IsZero() && c[0].IsZero() && c[1].IsOne():
		// infinity: the zero affine point
	default:
		return p, &FieldError{File: file, Field: field + "[2]", Detail: "z must be 1 (or the point at infinity [0, 1, 0])"}
	}
	return p, nil
}

// g2 reads a G2 point: [[x.c0, x.c1], [y.c0, y.c1], [z.c0, z.c1]] with
// z = [1, 0] (or infinity [[0,0],[1,0],[0,0]]), where c0 + c1·u is
// gnark's E2{A0: c0, A1: c1}. The point must be on the twist and in the
// prime-order subgroup.
func g2(file, field string, raw json.RawMessage) (bn254.G2Affine, error) {
	var p bn254.G2Affine
	l, err := list(file, field, raw, 3)
	if err != nil {
		return p, err
	}
	var c [3][2]fp.Element
	for i := range c {
		pair, err := list(file, fmt.Sprintf("%s[%d]", field, i), l[i], 2)
		if err != nil {
			return p, err
		}
		for j := range 2 {
			if c[i][j], err = fpElement(file, fmt.Sprintf("%s[%d][%d]", field, i, j), pair[j]); err != nil {
				return p, err
			}
		}
	}
	switch {
	case c[2][0].IsOne() && c[2][1].IsZero():
		p.X.A0, p.X.A1 = c[0][0], c[0][1]
		p.Y.A0, p.Y.A1 = c[1][0], c[1][1]
		if !p.IsOnCurve() {
			return p, &FieldError{File: file, Field: field, Detail: "not a point of BN254's G2 twist"}
		}
		if !p.IsInSubGroup() {
			return p, &FieldError{File: file, Field: field, Detail: "not in G2's prime-order subgroup"}
		}
	case c[2][0].IsZero() && c[2][1].IsZero() && c[0][0].IsZero() && c[0][1].IsZero() && c[1][0].IsOne() && c[1][1].IsZero():
		// infinity
	default:
		return p, &FieldError{File: file, Field: field + "[2]", Detail: "z must be [1, 0] (or the point at infinity)"}
	}
	return p, nil
}

// VerifyingKey converts verification_key.json into gnark's binary Groth16
// BN254 verifying key (VerifyingKey.WriteTo, compressed points): α, β, γ,
// δ and K = IC. gnark's [β]1 and [δ]1, which snarkjs does not export and
// Verify does not use, are the point at infinity. vk_alphabeta_12 is
// ignored (gnark recomputes e(α, β)). The result is deterministic: the same
// JSON gives the same bytes, hence the same verifying-key id.
func VerifyingKey(b []byte) ([]byte, error) {
	var v vkJSON
	if err := decode(fileVK, b, MaxVerifyingKeyJSON, &v); err != nil {
		return nil, err
	}
	if err := checkHeader(fileVK, v.Protocol, v.Curve); err != nil {
		return nil, err
	}
	if v.NPublic == nil {
		return nil, &FieldError{File: fileVK, Field: "nPublic", Detail: "missing"}
	}
	n := *v.NPublic
	if n < 0 || n > MaxPublicInputs {
		return nil, &FieldError{File: fileVK, Field: "nPublic", Detail: fmt.Sprintf("%d not in 0..%d", n, MaxPublicInputs)}
	}
	if len(v.IC) != n+1 {
		return nil, &FieldError{File: fileVK, Field: "IC", Detail: fmt.Sprintf("%d points, want nPublic + 1 = %d", len(v.IC), n+1)}
	}
	var vk groth16.VerifyingKey
	var err error
	if vk.G1.Alpha, err = g1(fileVK, "vk_alpha_1", v.Alpha1); err != nil {
		return nil, err
	}
	if vk.G2.Beta, err = g2(fileVK, "vk_beta_2", v.Beta2); err != nil {
		return nil, err
	}
	if vk.G2.Gamma, err = g2(fileVK, "vk_gamma_2", v.Gamma2); err != nil {
		return nil, err
	}
	if vk.G2.Delta, err = g2(fileVK, "vk_delta_2", v.Delta2); err != nil {
		return nil, err
	}
	vk.G1.K = make([]bn254.G1Affine, len(v.IC))
	for i, raw := range v.IC {
		if vk.G1.K[i], err = g1(fileVK, fmt.Sprintf("IC[%d]", i), raw); err != nil {
			return nil, err
		}
	}
	var buf bytes.Buffer
	if _, err := vk.WriteTo(&buf); err != nil {
		return nil, fmt.Errorf("snarkjs: encoding the verifying key: %w", err)
	}
	return buf.Bytes(), nil
}

// Proof converts proof.json into gnark's binary Groth16 BN254 proof
// (Proof.WriteTo): Ar = pi_a, Bs = pi_b, Krs = pi_c, no commitments.
func Proof(b []byte) ([]byte, error) {
	var v proofJSON
	if err := decode(fileProof, b, MaxProofJSON, &v); err != nil {
		return nil, err
	}
	if err := checkHeader(fileProof, v.Protocol, v.Curve); err != nil {
		return nil, err
	}
	var p groth16.Proof
	var err error
	if p.Ar, err = g1(fileProof, "pi_a", v.A); err != nil {
		return nil, err
	}
	if p.Bs, err = g2(fileProof, "pi_b", v.B); err != nil {
		return nil, err
	}
	if p.Krs, err = g1(fileProof, "pi_c", v.C); err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if _, err := p.WriteTo(&buf); err != nil {
		return nil, fmt.Errorf("snarkjs: encoding the proof: %w", err)
	}
	return buf.Bytes(), nil
}

// Public checks public.json (a JSON list of decimal strings, each below
// BN254's scalar modulus) and returns it in the verifier's canonical JSON
// form: compact, ["1","2",…].
func Public(b []byte) ([]byte, error) {
	var l []json.RawMessage
	if err := decode(filePublic, b, MaxPublicJSON, &l); err != nil {
		return nil, err
	}
	if l == nil {
		return nil, &FieldError{File: filePublic, Detail: "not a JSON list of decimal strings"}
	}
	if len(l) > MaxPublicInputs {
		return nil, &FieldError{File: filePublic, Detail: fmt.Sprintf("%d inputs, more than the %d accepted", len(l), MaxPublicInputs)}
	}
	out := make([]string, len(l))
	for i, raw := range l {
		v, err := number(filePublic, fmt.Sprintf("[%d]", i), raw, scalarModulus)
		if err != nil {
			return nil, err
		}
		out[i] = v.String()
	}
	return json.Marshal(out)
}

// Material is one converted proof: what a ProofRequest carries.
type Material struct {
	VerifyingKey []byte // gnark binary
	Proof        []byte // gnark binary
	Public       []byte // JSON list of decimal strings
}

// Convert converts the three files at once. vk may be nil (the key was
// registered already); then Material.VerifyingKey is nil too.
func Convert(vk, proof, public []byte) (*Material, error) {
	var m Material
	var err error
	if vk != nil {
		if m.VerifyingKey, err = VerifyingKey(vk); err != nil {
			return nil, err
		}
	}
	if m.Proof, err = Proof(proof); err != nil {
		return nil, err
	}
	if m.Public, err = Public(public); err != nil {
		return nil, err
	}
	return &m, nil
}
