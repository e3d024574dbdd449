package state

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	lightkeeperv1 "github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1"
	"github.com/lightkeeper-net/lightkeeper/protocol"
	"github.com/lightkeeper-net/lightkeeper/verifier/compute"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// The property test of certificates (issue #9 finding 2): real
// certificates, made by the machine from real signed votes, are tampered
// with one JSON field at a time (every field, nested and repeated ones
// included: each vote's fields, eligible entries and eligible_hash, committee seats,
// thresholds, seed and seed block, outcome, kind, chain id, params hash,
// result and result hash) and in pairs, and every tampering must be
// refused: offline by protocol.VerifyCertificate under the chain's parameters,
// except for the few fields only the deciding block binds
// (offlineLimits), which protocol.CertificateInBlock must refuse.
//
// The vectors are written to testdata/certs/*.json (go test -run
// TestCertificateTampering -update) for checkers in other languages: the
// chain's parameters, the valid certificate and its deciding block (proto
// field names, protojson), and each tampering as an RFC 6902 JSON Patch
// against the certificate with who must refuse it ("offline" or "block")
// and the Go verifier's reason.

type patchOp struct {
	Op    string `json:"op"`
	Path  string `json:"path"`
	Value any    `json:"value,omitempty"`
}

type tampering struct {
	Name      string    `json:"name"`
	Patch     []patchOp `json:"patch"`
	RefusedBy string    `json:"refused_by"`
	Reason    string    `json:"reason"`
}

type certVectors struct {
	Comment     string          `json:"comment"`
	Params      json.RawMessage `json:"params"`
	Certificate json.RawMessage `json:"certificate"`
	Block       json.RawMessage `json:"block"`
	Tamperings  []tampering     `json:"tamperings"`
}

type certCase struct {
	name   string
	params *lightkeeperv1.ConsensusParams
	cert   *lightkeeperv1.Certificate
	block  *lightkeeperv1.Block
}

// offlineLimits are the tamperings an offline check cannot see, by JSON
// pointer pattern (and, for kind, the relabelling it cannot tell): the
// deciding block's hash binds them. /challenge is attached by the API
// after the round closed and is informational (the closing block's
// reveal is the record), so nothing refuses it.
//
// The eligible list must hash to eligible_hash, which the deciding block
// commits to: no change of it gets past the offline check. Renaming a
// seat (with the member that holds it, if it did not vote) is still
// refused only by the block.
var offlineLimits = []*regexp.Regexp{
	regexp.MustCompile(`^/height$`),
	regexp.MustCompile(`^/committee/\d+$`),
	regexp.MustCompile(`^/votes$`), // a TIMEOUT certificate without its votes
	// Nothing of the eligible list: it must hash to eligible_hash, which
	// the deciding block commits to (an entry of weight 0, or a weight
	// changed so little that the draw picks the same committee, got past
	// the offline check while the list itself was the only record).
	regexp.MustCompile(`^/decided_at(/|$)`),
	regexp.MustCompile(`^/votes/\d+/reason$`),
	regexp.MustCompile(`^/votes/\d+$`),                // dropping a vote the tally does not need
	regexp.MustCompile(`^/votes/\d+/compute/output$`), // never in certificates; not signed
	regexp.MustCompile(`^/kind=ROUND_KIND_(PROOF|WITHDRAWAL)$`),
	regexp.MustCompile(`^/challenge(/|$)`),
}

func inLimits(key string) bool {
	for _, re := range offlineLimits {
		if re.MatchString(key) {
			return true
		}
	}
	return false
}

func entropyFor(s string) []byte { e := sha256.Sum256([]byte(s)); return e[:] }

func submitEntropy(h *harness, req *lightkeeperv1.RoundRequest) *lightkeeperv1.Round {
	h.t.Helper()
	res, err := noted(h.m.ApplyBlock(BlockInput{TimeUnixMilli: h.now(), Txs: []*lightkeeperv1.Transaction{submitTx(req)}, Entropy: entropyFor(req.ClientNonce)}))
	if err != nil {
		h.t.Fatal(err)
	}
	return h.ok(res).TxResults[0].Round
}

func decidedIn(t *testing.T, res *Result, name string, p *lightkeeperv1.ConsensusParams) certCase {
	t.Helper()
	if len(res.Block.Certificates) != 1 {
		t.Fatalf("%s: %d certificates", name, len(res.Block.Certificates))
	}
	// As the API serves it: with the eligible list its hash names.
	c := certCase{name: name, params: p, cert: served(res.Block.Certificates[0]), block: res.Block}
	if err := protocol.VerifyCertificate(c.cert, p); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if err := protocol.CertificateInBlock(c.cert, c.block); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return c
}

func certCases(t *testing.T) []certCase {
	var out []certCase
	h := newHarness(t, 12, 100, nil)
	r := submitEntropy(h, proofRequest(h.vk, "approved"))
	res := h.ok(h.apply(time.Second, append(append(votes(r, h, reject, 7), votes(r, h, abstain, 8)...), votes(r, h, approve, seatRange(0, 7)...)...)...))
	out = append(out, decidedIn(t, res, "proof_approved", h.m.Params()))

	r = submitEntropy(h, proofRequest(h.vk, "rejected"))
	res = h.ok(h.apply(time.Second, append(votes(r, h, approve, 0), votes(r, h, reject, seatRange(1, 5)...)...)...))
	out = append(out, decidedIn(t, res, "proof_rejected", h.m.Params()))

	r = submitEntropy(h, proofRequest(h.vk, "timeout"))
	h.ok(h.apply(time.Second, append(votes(r, h, approve, 0, 1, 2), votes(r, h, reject, 3, 4)...)...))
	res = h.ok(h.apply(31 * time.Second))
	out = append(out, decidedIn(t, res, "proof_timeout", h.m.Params()))

	hc, prog := computeHarness(t, 5, nil)
	r = submitEntropy(hc, computeRequest(prog, "in", 5_000_000, "compute"))
	good := compute.Result{Output: []byte("ok"), FuelUsed: 1234, ExitCode: 7}
	res = hc.ok(hc.apply(time.Second, hc.cvote(r, 0, good, true), hc.cvote(r, 1, good, false)))
	out = append(out, decidedIn(t, res, "compute_approved", hc.m.Params()))
	return out
}

var pjson = protojson.MarshalOptions{UseProtoNames: true}

func jsonTree(t *testing.T, m proto.Message) any {
	b, err := pjson.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

// enumValues maps each enum value name a certificate can hold to the other
// values of its enum.
func enumValues() map[string][]string {
	out := map[string][]string{}
	for _, e := range []protoreflect.EnumDescriptor{
		lightkeeperv1.RoundKind(0).Descriptor(), lightkeeperv1.Outcome(0).Descriptor(),
		lightkeeperv1.VoteKind(0).Descriptor(), lightkeeperv1.RejectReason(0).Descriptor(),
	} {
		var names []string
		for i := 0; i < e.Values().Len(); i++ {
			names = append(names, string(e.Values().Get(i).Name()))
		}
		for _, n := range names {
			for _, o := range names {
				if o != n {
					out[n] = append(out[n], o)
				}
			}
		}
	}
	return out
}

var hexID = regexp.MustCompile(`^[0-9a-f]{64}$`)

// leafVariants returns other values for one JSON leaf.
func leafVariants(v any, ids []string) []any {
	switch x := v.(type) {
	case bool:
		return []any{!x}
	case json.Number:
		n, _ := strconv.ParseInt(string(x), 10, 64)
		out := []any{json.Number(strconv.FormatInt(n+1, 10))}
		if n != 0 {
			out = append(out, json.Number("0"))
		}
		return out
	case string:
		if others, ok := enumValues()[x]; ok {
			out := make([]any, len(others))
			for i, o := range others {
				out[i] = o
			}
			return out
		}
		if n, err := strconv.ParseUint(x, 10, 64); err == nil {
			return []any{strconv.FormatUint(n+1, 10)}
		}
		if ts, err := time.Parse(time.RFC3339Nano, x); err == nil {
			return []any{ts.Add(time.Millisecond).UTC().Format(time.RFC3339Nano)}
		}
		if hexID.MatchString(x) {
			last := "0"
			if x[63] == '0' {
				last = "1"
			}
			out := []any{x[:63] + last}
			for _, id := range ids { // another real keeper in its place
				if id != x {
					out = append(out, id)
					break
				}
			}
			return out
		}
		if b, err := base64.StdEncoding.DecodeString(x); err == nil && len(b) > 0 {
			flip := bytes.Clone(b)
			flip[0] ^= 1
			return []any{base64.StdEncoding.EncodeToString(flip), base64.StdEncoding.EncodeToString(b[:len(b)-1])}
		}
		return []any{x + "x"}
	}
	return nil
}

func escapeKey(k string) string {
	return strings.ReplaceAll(strings.ReplaceAll(k, "~", "~0"), "/", "~1")
}

// singleTamperings walks the certificate's JSON and returns one-operation
// patches for every field: other leaf values, removed fields, and for
// arrays a dropped, a duplicated and two swapped elements.
func singleTamperings(node any, path string, ids []string) []tampering {
	var out []tampering
	add := func(name string, ops ...patchOp) { out = append(out, tampering{Name: name, Patch: ops}) }
	switch x := node.(type) {
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			p := path + "/" + escapeKey(k)
			add("remove "+p, patchOp{Op: "remove", Path: p})
			out = append(out, singleTamperings(x[k], p, ids)...)
		}
	case []any:
		if len(x) == 0 {
			return nil
		}
		add("drop "+path+"/0", patchOp{Op: "remove", Path: path + "/0"})
		if len(x) > 1 {
			add(fmt.Sprintf("drop %s/%d", path, len(x)-1), patchOp{Op: "remove", Path: fmt.Sprintf("%s/%d", path, len(x)-1)})
			add("swap "+path+"/0,1", patchOp{Op: "replace", Path: path + "/0", Value: x[1]}, patchOp{Op: "replace", Path: path + "/1", Value: x[0]})
		}
		add("duplicate "+path+"/0", patchOp{Op: "add", Path: path + "/-", Value: x[0]})
		for i, e := range x {
			out = append(out, singleTamperings(e, fmt.Sprintf("%s/%d", path, i), ids)...)
		}
	default:
		for _, v := range leafVariants(x, ids) {
			add(fmt.Sprintf("replace %s = %v", path, v), patchOp{Op: "replace", Path: path, Value: v})
		}
	}
	return out
}

// applyPatch applies ops to a deep copy of doc (replace, remove, add with
// "-" for appending to an array or a new object member).
func applyPatch(doc any, ops []patchOp) (any, error) {
	b, _ := json.Marshal(doc)
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var root any
	if err := d.Decode(&root); err != nil {
		return nil, err
	}
	for _, op := range ops {
		// A fresh copy of the value: the doc must not share maps with the
		// patch, or a later op of a pair edits the patch as written out.
		if op.Value != nil {
			vb, _ := json.Marshal(op.Value)
			vd := json.NewDecoder(bytes.NewReader(vb))
			vd.UseNumber()
			if err := vd.Decode(&op.Value); err != nil {
				return nil, err
			}
		}
		parts := strings.Split(op.Path, "/")[1:]
		for i, p := range parts {
			parts[i] = strings.ReplaceAll(strings.ReplaceAll(p, "~1", "/"), "~0", "~")
		}
		var set func(node any, parts []string) (any, error)
		set = func(node any, parts []string) (any, error) {
			key := parts[0]
			last := len(parts) == 1
			switch x := node.(type) {
			case map[string]any:
				if last {
					switch op.Op {
					case "remove":
						delete(x, key)
					default:
						x[key] = op.Value
					}
					return x, nil
				}
				child, ok := x[key]
				if !ok {
					return nil, fmt.Errorf("%s: no member %q", op.Path, key)
				}
				v, err := set(child, parts[1:])
				x[key] = v
				return x, err
			case []any:
				if last && key == "-" && op.Op == "add" {
					return append(x, op.Value), nil
				}
				i, err := strconv.Atoi(key)
				if err != nil || i < 0 || i >= len(x) {
					return nil, fmt.Errorf("%s: bad index %q", op.Path, key)
				}
				if last {
					switch op.Op {
					case "remove":
						return append(x[:i:i], x[i+1:]...), nil
					case "add":
						return slices.Insert(x, i, op.Value), nil
					default:
						x[i] = op.Value
						return x, nil
					}
				}
				v, err := set(x[i], parts[1:])
				x[i] = v
				return x, err
			}
			return nil, fmt.Errorf("%s: not a container", op.Path)
		}
		var err error
		if root, err = set(root, parts); err != nil {
			return nil, err
		}
	}
	return root, nil
}

// overlap reports whether two patches touch the same field or one a
// field inside the other's (a swap is two replaces): then the second could
// undo the first.
func overlap(a, b []patchOp) bool {
	for _, x := range a {
		for _, y := range b {
			if x.Path == y.Path || strings.HasPrefix(y.Path, x.Path+"/") || strings.HasPrefix(x.Path, y.Path+"/") {
				return true
			}
		}
	}
	return false
}

// limitKeys are what offlineLimits match, one per operation: its path,
// or "/kind=NEW" for a relabelled kind.
func limitKeys(ops []patchOp) []string {
	var out []string
	for _, op := range ops {
		if op.Path == "/kind" && op.Op == "replace" {
			out = append(out, fmt.Sprintf("/kind=%v", op.Value))
		} else {
			out = append(out, op.Path)
		}
	}
	return out
}

func allKeys(ops []patchOp, ok func(string) bool) bool {
	for _, k := range limitKeys(ops) {
		if !ok(k) {
			return false
		}
	}
	return true
}

func TestCertificateTampering(t *testing.T) {
	for _, cc := range certCases(t) {
		t.Run(cc.name, func(t *testing.T) {
			orig := jsonTree(t, cc.cert)
			var ids []string
			for _, e := range cc.cert.Eligible {
				ids = append(ids, e.KeeperId)
			}
			singles := singleTamperings(orig, "", ids)
			// Extra fields a certificate of this kind must not carry.
			extra := []tampering{
				{Name: "add a challenge", Patch: []patchOp{{Op: "add", Path: "/challenge", Value: map[string]any{"kind": "VOTE_KIND_APPROVE", "candidates": true}}}},
				{Name: "add a reason to a vote", Patch: []patchOp{{Op: "add", Path: "/votes/0/reason", Value: string(lightkeeperv1.RejectReason(1).Descriptor().Values().ByNumber(1).Name())}}},
				{Name: "add an eligible entry of weight 0", Patch: []patchOp{{Op: "add", Path: "/eligible/-", Value: map[string]any{"keeper_id": strings.Repeat("f", 64)}}}},
				{Name: "add an eligible entry of weight 1", Patch: []patchOp{{Op: "add", Path: "/eligible/-", Value: map[string]any{"keeper_id": strings.Repeat("f", 64), "weight": "1"}}}},
				{Name: "add seed_block.results_hash", Patch: []patchOp{{Op: "add", Path: "/seed_block/results_hash", Value: base64.StdEncoding.EncodeToString(make([]byte, 32))}}},
			}
			if cc.cert.Result == nil {
				extra = append(extra, tampering{Name: "add a result_hash", Patch: []patchOp{{Op: "add", Path: "/result_hash", Value: base64.StdEncoding.EncodeToString(make([]byte, 32))}}})
			}
			singles = append(singles, extra...)
			// Pairs: each single with another one further down the list
			// (deterministic), and the finding's own combinations.
			var pairs []tampering
			for i := range singles {
				j := (i*7 + len(singles)/3) % len(singles)
				a, b := singles[i], singles[j]
				if overlap(a.Patch, b.Patch) {
					continue
				}
				pairs = append(pairs, tampering{Name: a.Name + " & " + b.Name, Patch: append(slices.Clone(a.Patch), b.Patch...)})
			}
			for _, f := range []tampering{
				{Name: "finding 2: APPROVED with threshold 1", Patch: []patchOp{{Op: "replace", Path: "/outcome", Value: "OUTCOME_APPROVED"}, {Op: "replace", Path: "/threshold", Value: json.Number("1")}}},
				{Name: "finding 2: thresholds 1 and size", Patch: []patchOp{{Op: "replace", Path: "/threshold", Value: json.Number("1")}, {Op: "replace", Path: "/reject_threshold", Value: json.Number(strconv.Itoa(len(cc.cert.Committee)))}}},
				{Name: "a smaller committee with its thresholds", Patch: []patchOp{{Op: "remove", Path: fmt.Sprintf("/committee/%d", len(cc.cert.Committee)-1)}, {Op: "replace", Path: "/reject_threshold", Value: json.Number(strconv.Itoa(int(cc.cert.RejectThreshold) - 1))}}},
			} {
				pairs = append(pairs, f)
			}
			if cc.cert.Outcome == lightkeeperv1.Outcome_OUTCOME_APPROVED && cc.cert.Kind == lightkeeperv1.RoundKind_ROUND_KIND_PROOF {
				// Offline a PROOF and a WITHDRAWAL round look alike, so a
				// voided withdrawal needs its block (protocol.ErrNeedsBlock).
				pairs = append(pairs, tampering{Name: "relabelled as a voided withdrawal", Patch: []patchOp{
					{Op: "replace", Path: "/kind", Value: "ROUND_KIND_WITHDRAWAL"}, {Op: "replace", Path: "/outcome", Value: "OUTCOME_REJECTED"}}})
			}

			var kept []tampering
			offline, block, singlesKept := 0, 0, 0
			for i, tm := range append(singles, pairs...) {
				doc, err := applyPatch(orig, tm.Patch)
				if err != nil {
					t.Fatalf("%s: %v", tm.Name, err)
				}
				b, _ := json.Marshal(doc)
				c := new(lightkeeperv1.Certificate)
				if err := protojson.Unmarshal(b, c); err != nil {
					continue // not a certificate encoding (e.g. a number out of range)
				}
				if proto.Equal(c, cc.cert) {
					continue // no change (e.g. swapping equal elements)
				}
				offErr := protocol.VerifyCertificate(c, cc.params)
				switch {
				case offErr != nil && !errors.Is(offErr, protocol.ErrNeedsBlock):
					tm.RefusedBy, tm.Reason = "offline", offErr.Error()
					offline++
				case protocol.CertificateInBlock(c, cc.block) != nil:
					tm.RefusedBy, tm.Reason = "block", protocol.CertificateInBlock(c, cc.block).Error()
					block++
					if offErr == nil && !allKeys(tm.Patch, inLimits) {
						t.Errorf("%s: accepted offline", tm.Name)
					}
				default:
					if !allKeys(tm.Patch, func(k string) bool { return strings.HasPrefix(k, "/challenge") }) {
						t.Errorf("%s: accepted offline and in its block", tm.Name)
					}
					tm.RefusedBy, tm.Reason = "nobody (informational field)", ""
				}
				if i < len(singles) {
					singlesKept++
				}
				kept = append(kept, tm)
			}
			t.Logf("%s: %d tamperings (%d single, %d pairs): %d refused offline, %d only by the deciding block",
				cc.name, len(kept), singlesKept, len(kept)-singlesKept, offline, block)
			if singlesKept < 50 {
				t.Errorf("only %d single tamperings: the walk missed fields", singlesKept)
			}
			writeOrCompareVectors(t, cc, kept)
		})
	}
}

func writeOrCompareVectors(t *testing.T, cc certCase, ts []tampering) {
	t.Helper()
	raw := func(m proto.Message) json.RawMessage {
		b, err := pjson.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		if err := json.Compact(&buf, b); err != nil {
			t.Fatal(err)
		}
		return buf.Bytes()
	}
	v := certVectors{
		Comment: "Generated by coordinator/state TestCertificateTampering (-update). certificate is valid under params " +
			"(protocol.VerifyCertificate) and is in block (protocol.CertificateInBlock). Each tampering is an RFC 6902 patch of certificate " +
			"(proto field names, protojson) that a checker must refuse: refused_by offline = from the certificate and " +
			"params alone, block = only by comparing with the deciding block's certificates (hash of the deterministic protobuf). " +
			"reason is the Go verifier's message, for information.",
		Params:      raw(cc.params),
		Certificate: raw(cc.cert),
		Block:       raw(cc.block),
		Tamperings:  ts,
	}
	// One line per part and per tampering: diffable, and half the size of
	// an indented file.
	line := func(x any) string {
		b, err := json.Marshal(x)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	var sb strings.Builder
	fmt.Fprintf(&sb, "{\n\"comment\": %s,\n\"params\": %s,\n\"certificate\": %s,\n\"block\": %s,\n\"tamperings\": [\n",
		line(v.Comment), v.Params, v.Certificate, v.Block)
	for i, tm := range v.Tamperings {
		sep := ",\n"
		if i == len(v.Tamperings)-1 {
			sep = "\n"
		}
		sb.WriteString(line(tm) + sep)
	}
	sb.WriteString("]}\n")
	got := []byte(sb.String())
	if !json.Valid(got) {
		t.Fatal("vectors are not valid JSON")
	}
	path := filepath.Join("testdata", "certs", cc.name+".json")
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -run TestCertificateTampering -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s is out of date: run go test ./coordinator/state -run TestCertificateTampering -update", path)
	}
}
