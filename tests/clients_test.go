//go:build clients

// The clients in other languages against a real coordinator on loopback
// (-tags clients, `make test-clients`): circom/snarkjs material made at
// test time (npm's circom2 and snarkjs, clients/snarkjs/make-material.sh),
// decided by a devnet with Byzantine keepers, three of whose honest
// keepers verify in the wasip1 module; the same proofs through the CLI,
// the TypeScript client (clients/ts, in Node) and the Python gRPC client
// (clients/python, Debian's python3-grpcio).

package tests

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/lightkeeper-net/lightkeeper/devtools/byzantine"
	"github.com/lightkeeper-net/lightkeeper/devtools/devnet"
	"github.com/lightkeeper-net/lightkeeper/keeper"
	lightkeeperv1 "github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1"
	"github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1/lightkeeperv1connect"
	"github.com/lightkeeper-net/lightkeeper/protocol"
	wasmhost "github.com/lightkeeper-net/lightkeeper/wasmclient/host"
)

// repoRoot is the repository (tests/ is one level down).
func repoRoot(t *testing.T) string {
	t.Helper()
	d, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// needTool skips (outside CI) or fails (in CI) when a dependency is absent.
func needTool(t *testing.T, ok bool, what string) {
	t.Helper()
	if ok {
		return
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("%s is missing, and CI is set: .ci/run installs it", what)
	}
	t.Skipf("%s is missing (CI is not set, so skipping): %s", what, "see .ci/run")
}

var (
	materialOnce sync.Once
	materialDir  string
	materialErr  error
)

// snarkjsMaterial makes the circom/snarkjs material once per test run, in
// a temporary directory ($LIGHTKEEPER_SNARKJS_DIR reuses one).
func snarkjsMaterial(t *testing.T) string {
	t.Helper()
	root := repoRoot(t)
	_, err := os.Stat(filepath.Join(root, "clients", "ts", "node_modules", ".bin", "snarkjs"))
	needTool(t, err == nil, "clients/ts/node_modules (npm ci in clients/ts)")
	materialOnce.Do(func() {
		if d := os.Getenv("LIGHTKEEPER_SNARKJS_DIR"); d != "" {
			materialDir = d
			if _, err := os.Stat(filepath.Join(d, "range_public.json")); err == nil {
				return
			}
		} else if materialDir, materialErr = os.MkdirTemp("", "lightkeeper-snarkjs-"); materialErr != nil {
			return
		}
		start := time.Now()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, "bash", filepath.Join(root, "clients", "snarkjs", "make-material.sh"), materialDir)
		out, err := cmd.CombinedOutput()
		if err != nil {
			materialErr = fmt.Errorf("make-material.sh: %v\n%s", err, out)
			return
		}
		fmt.Fprintf(os.Stderr, "circom/snarkjs material made in %v\n", time.Since(start).Round(time.Millisecond))
	})
	if materialErr != nil {
		t.Fatal(materialErr)
	}
	if os.Getenv("LIGHTKEEPER_SNARKJS_DIR") == "" {
		t.Cleanup(func() { os.RemoveAll(materialDir) }) // one test uses it
	}
	return materialDir
}

func readJSON(t *testing.T, path string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// verdictEngine records what the wasip1 module said about each round.
type verdictEngine struct {
	keeper.Engine
	mu    sync.Mutex
	votes map[string]lightkeeperv1.VoteKind
}

func (e *verdictEngine) Check(ctx context.Context, task *lightkeeperv1.Task) keeper.Verdict {
	v := e.Engine.Check(ctx, task)
	e.mu.Lock()
	e.votes[task.GetRoundId()] = v.Kind
	e.mu.Unlock()
	return v
}

func (e *verdictEngine) vote(round string) (lightkeeperv1.VoteKind, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	v, ok := e.votes[round]
	return v, ok
}

type snarkjsCase struct {
	name          string
	vk            string // which circuit's verification_key.json
	proof, public []byte
	want          lightkeeperv1.Outcome // UNSPECIFIED: refused with InvalidArgument
	field         string                // for a refusal: the field the error must name
}

func snarkjsCases(t *testing.T, dir string) []snarkjsCase {
	read := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	tampered := readJSON(t, filepath.Join(dir, "mul_proof.json"))
	tampered["pi_a"] = []string{"1", "2", "1"} // on the curve, not the proof's point
	offCurve := readJSON(t, filepath.Join(dir, "mul_proof.json"))
	offCurve["pi_c"] = []string{"1", "3", "1"}
	approved, rejected := lightkeeperv1.Outcome_OUTCOME_APPROVED, lightkeeperv1.Outcome_OUTCOME_REJECTED
	return []snarkjsCase{
		{name: "mul valid", vk: "mul", proof: read("mul_proof.json"), public: read("mul_public.json"), want: approved},
		{name: "range valid", vk: "range", proof: read("range_proof.json"), public: read("range_public.json"), want: approved},
		{name: "wrong public input", vk: "mul", proof: read("mul_proof.json"), public: []byte(`["34"]`), want: rejected},
		{name: "tampered proof point", vk: "mul", proof: mustJSON(tampered), public: read("mul_public.json"), want: rejected},
		{name: "proof for another key", vk: "mul", proof: read("range_proof.json"), public: read("range_public.json"), want: rejected},
		{name: "wrong input count", vk: "mul", proof: read("mul_proof.json"), public: []byte(`["33","1"]`), field: "public_inputs: 2 values"},
		{name: "point off the curve", vk: "mul", proof: mustJSON(offCurve), public: read("mul_public.json"), field: "pi_c"},
		{name: "public input above the field", vk: "mul", proof: read("mul_proof.json"),
			public: []byte(`["21888242871839275222246405745257275088548364400416034343698204186575808495618"]`), field: "public.json: [0]"},
	}
}

// TestClientsSnarkjs is the whole client story on one devnet: 10 keepers,
// the last three Byzantine (approve-all, reject-all, equivocate), the first
// three checking in the wasip1 module.
func TestClientsSnarkjs(t *testing.T) {
	dir := snarkjsMaterial(t)
	root := repoRoot(t)

	ctx := context.Background()
	module := wasmModule(t)
	h, err := wasmhost.Load(ctx, module, wasmhost.NewConfig().WithCompilationCacheDir(t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close(ctx) })
	eng := &verdictEngine{Engine: h.Engine(), votes: map[string]lightkeeperv1.VoteKind{}}
	cfg := testConfig()
	params := protocol.DefaultParams()
	params.VerificationTimeout = durationpb.New(20 * time.Second)
	d := startDevnet(t, devnet.Options{
		Keepers: 10, Config: &cfg, Params: params, WasmKeepers: 3, WasmEngine: eng,
		Byzantine: []byzantine.Strategy{byzantine.ApproveAll, byzantine.RejectAll, byzantine.Equivocate},
	})

	vks := lightkeeperv1connect.NewVerifyingKeyServiceClient(http.DefaultClient, d.URL)
	rc := lightkeeperv1connect.NewRoundServiceClient(http.DefaultClient, d.URL)
	lc := lightkeeperv1connect.NewLedgerServiceClient(http.DefaultClient, d.URL)
	info, err := lc.GetChainInfo(ctx, connect.NewRequest(&lightkeeperv1.GetChainInfoRequest{}))
	if err != nil {
		t.Fatal(err)
	}
	params = info.Msg.GetParams()
	keyID := map[string]string{}
	for _, c := range []string{"mul", "range"} {
		b, _ := os.ReadFile(filepath.Join(dir, c+"_vk.json"))
		res, err := vks.RegisterVerifyingKey(ctx, connect.NewRequest(&lightkeeperv1.RegisterVerifyingKeyRequest{
			Scheme: lightkeeperv1.Scheme_SCHEME_GROTH16, Curve: lightkeeperv1.Curve_CURVE_BN254, Key: b, Format: lightkeeperv1.ProofFormat_PROOF_FORMAT_SNARKJS,
		}))
		if err != nil {
			t.Fatalf("%s key: %v", c, err)
		}
		keyID[c] = res.Msg.GetVerifyingKey().GetId()
	}

	t.Run("api", func(t *testing.T) {
		start := time.Now()
		decided := 0
		for _, c := range snarkjsCases(t, dir) {
			res, err := rc.SubmitRound(ctx, connect.NewRequest(&lightkeeperv1.SubmitRoundRequest{
				ProofFormat: lightkeeperv1.ProofFormat_PROOF_FORMAT_SNARKJS,
				Request: &lightkeeperv1.RoundRequest{ClientNonce: c.name, Payload: &lightkeeperv1.RoundRequest_Proof{Proof: &lightkeeperv1.ProofRequest{
					VerifyingKeyId: keyID[c.vk], Proof: c.proof, PublicInputs: c.public,
				}}},
			}))
			if c.want == lightkeeperv1.Outcome_OUTCOME_UNSPECIFIED {
				if connect.CodeOf(err) != connect.CodeInvalidArgument || !strings.Contains(err.Error(), c.field) {
					t.Errorf("%s: %v, want InvalidArgument naming %q", c.name, err, c.field)
				}
				continue
			}
			if err != nil {
				t.Fatalf("%s: %v", c.name, err)
			}
			r := waitRound(t, rc, res.Msg.GetRound().GetId())
			if r.GetOutcome() != c.want {
				t.Errorf("%s: %v, want %v (%d approve, %d reject)", c.name, r.GetOutcome(), c.want, r.GetApprovals(), r.GetRejections())
			}
			cert, err := rc.GetCertificate(ctx, connect.NewRequest(&lightkeeperv1.GetCertificateRequest{RoundId: r.GetId()}))
			if err != nil {
				t.Fatal(err)
			}
			blk, err := lc.GetBlock(ctx, connect.NewRequest(&lightkeeperv1.GetBlockRequest{Height: cert.Msg.GetCertificate().GetHeight()}))
			if err != nil {
				t.Fatal(err)
			}
			if err := protocol.VerifyCertificateInBlock(cert.Msg.GetCertificate(), params, blk.Msg.GetBlock()); err != nil {
				t.Errorf("%s: certificate: %v", c.name, err)
			}
			// The wasip1 module, like the native keepers, saw the gnark form
			// the API converted and judged it the same way.
			want := lightkeeperv1.VoteKind_VOTE_KIND_APPROVE
			if c.want == lightkeeperv1.Outcome_OUTCOME_REJECTED {
				want = lightkeeperv1.VoteKind_VOTE_KIND_REJECT
			}
			deadline := time.Now().Add(time.Minute)
			v, ok := eng.vote(r.GetId())
			for ; !ok && time.Now().Before(deadline); v, ok = eng.vote(r.GetId()) {
				time.Sleep(50 * time.Millisecond)
			}
			if v != want {
				t.Errorf("%s: the wasip1 keepers voted %v (checked: %v), want %v", c.name, v, ok, want)
			}
			decided++
		}
		t.Logf("%d snarkjs rounds decided by the devnet (native + wasip1 keepers, 3 Byzantine) in %v", decided, time.Since(start).Round(time.Millisecond))
	})

	t.Run("cli", func(t *testing.T) {
		tctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
		defer cancel()
		out, errOut, code := run(t, tctx, "submit", "proof", "--format", "snarkjs", "--coordinator", d.URL,
			"--vk", filepath.Join(dir, "range_vk.json"), "--proof", filepath.Join(dir, "range_proof.json"),
			"--public", filepath.Join(dir, "range_public.json"), "--wait", "--json")
		if code != 0 {
			t.Fatalf("exit %d: %s%s", code, out, errOut)
		}
		var got struct {
			Outcome        string `json:"outcome"`
			VerifyingKeyID string `json:"verifying_key_id"`
		}
		if err := json.Unmarshal([]byte(out), &got); err != nil {
			t.Fatalf("%v: %s", err, out)
		}
		// The CLI converts locally with the same package: the same key id
		// as the API's conversion.
		if got.Outcome != "APPROVED" || got.VerifyingKeyID != keyID["range"] {
			t.Errorf("CLI: %s, want APPROVED with key %s", out, keyID["range"])
		}
		_, errOut, code = run(t, tctx, "submit", "proof", "--format", "snarkjs", "--coordinator", d.URL,
			"--vk", filepath.Join(dir, "range_proof.json"), "--proof", filepath.Join(dir, "range_proof.json"),
			"--public", filepath.Join(dir, "range_public.json"))
		if code == 0 || !strings.Contains(errOut, "verification_key.json: nPublic: missing") {
			t.Errorf("a proof given as the key: exit %d, %s", code, errOut)
		}
	})

	t.Run("typescript", func(t *testing.T) {
		ts := filepath.Join(root, "clients", "ts")
		_, err := os.Stat(filepath.Join(ts, "node_modules", ".bin", "tsc"))
		needTool(t, err == nil, "clients/ts/node_modules")
		tctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
		defer cancel()
		start := time.Now()
		// make test-clients has just compiled it (test-clients-ts).
		if os.Getenv("LIGHTKEEPER_TS_BUILT") == "" {
			build := exec.CommandContext(tctx, filepath.Join(ts, "node_modules", ".bin", "tsc"), "-p", ts)
			if out, err := build.CombinedOutput(); err != nil {
				t.Fatalf("tsc: %v\n%s", err, out)
			}
		}
		tsc := time.Since(start)
		cmd := exec.CommandContext(tctx, "node", "--test", "--test-reporter=spec", filepath.Join(ts, "dist", "test", "live.test.js"))
		cmd.Env = append(os.Environ(), "LIGHTKEEPER_URL="+d.URL, "LIGHTKEEPER_SNARKJS_DIR="+dir)
		out, err := cmd.CombinedOutput()
		t.Logf("node --test live.test.js (tsc %v, tests %v):\n%s", tsc.Round(time.Millisecond), (time.Since(start) - tsc).Round(time.Millisecond), out)
		if err != nil {
			t.Fatalf("TypeScript client tests: %v", err)
		}
		// The spec reporter's summary: every test ran (none skipped) and passed.
		if s := string(out); !strings.Contains(s, "skipped 0") || !strings.Contains(s, "fail 0") || !strings.Contains(s, "pass 4") {
			t.Errorf("TypeScript client tests: not all 4 ran and passed")
		}
	})

	t.Run("python-grpc", func(t *testing.T) {
		py := "/usr/bin/python3"
		grpcOK := exec.Command(py, "-c", "import grpc, google.protobuf").Run() == nil
		_, perr := exec.LookPath("grpc_python_plugin")
		_, cerr := exec.LookPath("protoc")
		needTool(t, grpcOK && perr == nil && cerr == nil, "python3-grpcio, python3-protobuf, protobuf-compiler or protobuf-compiler-grpc")
		u, err := url.Parse(d.URL)
		if err != nil {
			t.Fatal(err)
		}
		tctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
		defer cancel()
		start := time.Now()
		cmd := exec.CommandContext(tctx, py, filepath.Join(root, "clients", "python", "lightkeeper_grpc.py"),
			"--coordinator", u.Host, "--vk", filepath.Join(dir, "mul_vk.json"),
			"--proof", filepath.Join(dir, "mul_proof.json"), "--public", filepath.Join(dir, "mul_public.json"))
		var stderr strings.Builder
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("python client: %v\n%s", err, stderr.String())
		}
		t.Logf("python gRPC client in %v: %s", time.Since(start).Round(time.Millisecond), out)
		var got struct {
			RoundID        string   `json:"round_id"`
			VerifyingKeyID string   `json:"verifying_key_id"`
			Outcome        string   `json:"outcome"`
			Phases         []string `json:"phases"`
			Certificate    struct {
				RoundID string `json:"round_id"`
				Outcome string `json:"outcome"`
			} `json:"certificate"`
		}
		if err := json.Unmarshal(out, &got); err != nil {
			t.Fatalf("%v: %s", err, out)
		}
		if got.Outcome != "OUTCOME_APPROVED" || got.Certificate.Outcome != "OUTCOME_APPROVED" || got.Certificate.RoundID != got.RoundID ||
			got.VerifyingKeyID != keyID["mul"] || len(got.Phases) == 0 {
			t.Errorf("python client: %s", out)
		}
		// The certificate it fetched is the chain's, and checks in Go.
		cert, err := rc.GetCertificate(ctx, connect.NewRequest(&lightkeeperv1.GetCertificateRequest{RoundId: got.RoundID}))
		if err != nil {
			t.Fatal(err)
		}
		if err := protocol.VerifyCertificate(cert.Msg.GetCertificate(), params); err != nil {
			t.Error(err)
		}
	})
}

// waitRound follows WatchRound until the round is decided.
func waitRound(t *testing.T, rc lightkeeperv1connect.RoundServiceClient, id string) *lightkeeperv1.Round {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	s, err := rc.WatchRound(ctx, connect.NewRequest(&lightkeeperv1.WatchRoundRequest{RoundId: id}))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for s.Receive() {
		r := s.Msg().GetRound()
		if p := r.GetPhase(); p == lightkeeperv1.RoundPhase_ROUND_PHASE_DECIDED || p == lightkeeperv1.RoundPhase_ROUND_PHASE_CLOSED {
			return r
		}
	}
	err = s.Err()
	if err == nil {
		err = errors.New("stream ended before a decision")
	}
	t.Fatalf("round %s: %v", id, err)
	return nil
}
