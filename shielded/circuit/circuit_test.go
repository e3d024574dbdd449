package circuit

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	mrand "math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/consensys/gnark-crypto/ecc"
	"github.com/consensys/gnark/backend/groth16"
	groth16bn254 "github.com/consensys/gnark/backend/groth16/bn254"
	"github.com/consensys/gnark/constraint"
	"github.com/consensys/gnark/frontend"

	"github.com/lightkeeper-net/lightkeeper/protocol"
	"github.com/lightkeeper-net/lightkeeper/shielded"
	"github.com/lightkeeper-net/lightkeeper/verifier"
)

// wantConstraints pins the circuit's size: a change means the circuit (or
// gnark's compiler) changed, and with it every key. Update it together
// with docs/withdrawals.md.
const wantConstraints = 15290

// The keys Setup makes from testSeed (see TestSetupKeys).
const (
	wantTestVKHash = "c5b6587dda059024d1cb14974da592d3c9d8d24315136aaa81c5ce1ceaf1a58e"
	wantTestPKHash = "143f20266cc16f14e242c516401557958d0dbf3e2a3a7c8c5f1bef4804cf2df6"
)

// testSeed makes Setup reproducible in tests. Never use a known seed for
// real keys.
var testSeed = [32]byte{'l', 'i', 'g', 'h', 't', 'k', 'e', 'e', 'p', 'e', 'r'}

type keys struct {
	pk, vk []byte
	prover *Prover
	setup  time.Duration
	viaMPC bool
}

var (
	keysOnce sync.Once
	keysVal  *keys
	keysErr  error
)

// testKeys returns one key pair per test binary: from Setup (the real,
// MPC-pipeline setup, ~1 min on a busy 2-core machine) normally, or from
// gnark's faster groth16.Setup under -short. Proofs behave the same with
// either; TestSetupKeys checks which one ran.
func testKeys(tb testing.TB) *keys {
	tb.Helper()
	keysOnce.Do(func() {
		k := &keys{viaMPC: !testing.Short()}
		start := time.Now()
		if k.viaMPC {
			k.pk, k.vk, keysErr = Setup(mrand.NewChaCha8(testSeed))
		} else {
			k.pk, k.vk, keysErr = fastSetup()
		}
		k.setup = time.Since(start)
		if keysErr != nil {
			return
		}
		k.prover, keysErr = NewProver(k.pk)
		keysVal = k
	})
	if keysErr != nil {
		tb.Fatal(keysErr)
	}
	return keysVal
}

// fastSetup is gnark's own Setup (toxic waste from crypto/rand): for -short
// runs only.
func fastSetup() (pk, vk []byte, err error) {
	ccs, err := Compile()
	if err != nil {
		return nil, nil, err
	}
	p, v, err := groth16.Setup(ccs)
	if err != nil {
		return nil, nil, err
	}
	var a, b bytes.Buffer
	if _, err := p.WriteTo(&a); err != nil {
		return nil, nil, err
	}
	if _, err := v.WriteTo(&b); err != nil {
		return nil, nil, err
	}
	return a.Bytes(), b.Bytes(), nil
}

// scenario is a pool with some deposits, the test note among them, and the
// state machine's Tree and a wallet's WalletTree fed the same leaves.
type scenario struct {
	note   shielded.Note
	index  uint64
	tree   *shielded.Tree
	wallet *shielded.WalletTree
	leaves []shielded.Scalar
	notes  []shielded.Note // notes[i] owns leaves[i]
}

func newScenario(t testing.TB, seed uint64, before, after int) *scenario {
	t.Helper()
	rnd := mrand.NewChaCha8([32]byte{byte(seed), byte(seed >> 8), 'n'})
	s := &scenario{tree: shielded.NewDefaultTree()}
	var err error
	if s.wallet, err = shielded.NewWalletTree(Depth); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < before+1+after; i++ {
		n, err := shielded.NewNote(rnd, uint64(1000+i))
		if err != nil {
			t.Fatal(err)
		}
		// The state machine's side of a deposit: the depositor sends the
		// precommitment and pays the amount; the leaf is computed here.
		leaf := shielded.Commitment(n.Precommitment(), n.Amount)
		idx, root, err := s.tree.Append(leaf)
		if err != nil {
			t.Fatal(err)
		}
		widx, wroot, _ := s.wallet.Append(leaf)
		if widx != idx || wroot != root {
			t.Fatal("wallet tree and state tree disagree")
		}
		s.leaves = append(s.leaves, leaf)
		s.notes = append(s.notes, n)
		if i == before {
			s.note, s.index = n, idx
		}
	}
	return s
}

func (s *scenario) witness(t testing.TB, recipient []byte) Witness {
	t.Helper()
	path, err := s.wallet.Path(s.index)
	if err != nil {
		t.Fatal(err)
	}
	return Witness{Note: s.note, Path: path, Root: s.wallet.Root(), Recipient: shielded.RecipientFromAddress(recipient)}
}

func compiled(t testing.TB) constraint.ConstraintSystem {
	t.Helper()
	ccs, err := Compile()
	if err != nil {
		t.Fatal(err)
	}
	return ccs
}

func solved(ccs constraint.ConstraintSystem, a *Circuit) error {
	w, err := frontend.NewWitness(a, ecc.BN254.ScalarField())
	if err != nil {
		return err
	}
	return ccs.IsSolved(w)
}

func TestConstraintCount(t *testing.T) {
	ccs := compiled(t)
	if n := ccs.GetNbConstraints(); n != wantConstraints {
		t.Fatalf("circuit has %d constraints, want %d (update wantConstraints and docs/withdrawals.md if the change is intended)", n, wantConstraints)
	}
	if ccs.GetNbPublicVariables() != 1+shielded.NumPublicInputs {
		t.Fatalf("%d public variables, want 1 + %d", ccs.GetNbPublicVariables(), shielded.NumPublicInputs)
	}
	t.Logf("constraints: %d (domain %d)", ccs.GetNbConstraints(), ecc.NextPowerOfTwo(uint64(ccs.GetNbConstraints())))
}

// The circuit's hashes are package shielded's: a witness built with the
// native code satisfies the circuit.
func TestNativeMatchesCircuit(t *testing.T) {
	ccs := compiled(t)
	for i, sc := range []*scenario{
		newScenario(t, 1, 0, 0), // the first and only leaf
		newScenario(t, 2, 5, 3),
		newScenario(t, 3, 12, 0),
	} {
		w := sc.witness(t, []byte("recipient"))
		if err := w.Check(); err != nil {
			t.Fatal(err)
		}
		a, err := assignment(&w, w.PublicInputs())
		if err != nil {
			t.Fatal(err)
		}
		if err := solved(ccs, a); err != nil {
			t.Fatalf("scenario %d: a native witness does not satisfy the circuit: %v", i, err)
		}
	}
}

// Bad witnesses: the circuit is unsatisfiable, so no proof can be made
// (the prover fails); TestVerifierRejectsChangedPublicInputs covers the
// other side (a valid proof presented with other public inputs).
func TestCircuitRejectsBadWitnesses(t *testing.T) {
	ccs := compiled(t)
	sc := newScenario(t, 4, 6, 4)
	w := sc.witness(t, []byte("alice"))
	good, _ := assignment(&w, w.PublicInputs())
	if err := solved(ccs, good); err != nil {
		t.Fatal(err)
	}
	other := sc.notes[2] // another depositor's note, at index 2
	otherPath, _ := sc.wallet.Path(2)
	olderRoot := sc.tree.Roots()[0] // known, but from before the note was deposited
	mutate := func(f func(a *Circuit)) *Circuit {
		a, _ := assignment(&w, w.PublicInputs())
		f(a)
		return a
	}
	cases := map[string]*Circuit{
		"wrong root (random)": mutate(func(a *Circuit) { a.Root = shielded.ScalarFromUint64(12345).BigInt() }),
		"wrong root (an older known root)": mutate(func(a *Circuit) {
			a.Root = olderRoot.BigInt()
		}),
		"nullifier of another index": mutate(func(a *Circuit) { a.Nullifier = w.Note.Nullifier(sc.index + 1).BigInt() }),
		"nullifier of another key": mutate(func(a *Circuit) {
			a.Nullifier = shielded.Nullifier(other.NullifierKey, sc.index).BigInt()
		}),
		"nullifier of another note": mutate(func(a *Circuit) { a.Nullifier = other.Nullifier(2).BigInt() }),
		"amount + 1":                mutate(func(a *Circuit) { a.Amount = w.Note.Amount + 1 }),
		"amount of another note":    mutate(func(a *Circuit) { a.Amount = other.Amount }),
		"another leaf's path": mutate(func(a *Circuit) {
			for l := range Depth {
				a.Path[l] = otherPath.Siblings[l].BigInt()
				a.IndexBits[l] = otherPath.Index >> l & 1
			}
		}),
		"another leaf's path, own index bits": mutate(func(a *Circuit) {
			for l := range Depth {
				a.Path[l] = otherPath.Siblings[l].BigInt()
			}
		}),
		"own path, another index (and its nullifier)": mutate(func(a *Circuit) {
			for l := range Depth {
				a.IndexBits[l] = otherPath.Index >> l & 1
			}
			a.Nullifier = w.Note.Nullifier(otherPath.Index).BigInt()
		}),
		"wrong secret":        mutate(func(a *Circuit) { a.Secret = other.Secret.BigInt() }),
		"wrong nullifier key": mutate(func(a *Circuit) { a.NullifierKey = other.NullifierKey.BigInt() }),
		"non-boolean index bit": mutate(func(a *Circuit) {
			a.IndexBits[0] = 2
		}),
	}
	// Sanity: the other note is provable at its own position.
	wo := Witness{Note: other, Path: otherPath, Root: w.Root, Recipient: w.Recipient}
	ao, _ := assignment(&wo, wo.PublicInputs())
	if err := solved(ccs, ao); err != nil {
		t.Fatalf("the other note's own witness: %v", err)
	}
	for name, a := range cases {
		if err := solved(ccs, a); err == nil {
			t.Errorf("%s: the circuit accepted it", name)
		}
	}
	// The recipient is the prover's free choice (the note's owner decides
	// where the money goes): any recipient is provable. What it cannot be
	// is changed after proving; see TestVerifierRejectsChangedPublicInputs.
	if err := solved(ccs, mutate(func(a *Circuit) {
		a.Recipient = shielded.RecipientFromAddress([]byte("bob")).BigInt()
	})); err != nil {
		t.Fatalf("another recipient: %v", err)
	}
}

// The native pre-check refuses what the circuit would refuse, with a
// readable error, before any proving work.
func TestWitnessCheck(t *testing.T) {
	sc := newScenario(t, 5, 3, 2)
	w := sc.witness(t, []byte("alice"))
	if err := w.Check(); err != nil {
		t.Fatal(err)
	}
	bad := []Witness{w, w, w, w}
	bad[0].Root = sc.tree.Roots()[0]
	bad[1].Note.Amount++
	p, _ := sc.wallet.Path(1)
	bad[2].Path = p
	bad[3].Path.Siblings = bad[3].Path.Siblings[:Depth-1]
	for i, b := range bad {
		if b.Check() == nil {
			t.Errorf("bad witness %d passed Check", i)
		}
	}
}

func TestWithdrawalProofVerifies(t *testing.T) {
	k := testKeys(t)
	sc := newScenario(t, 6, 9, 0)
	w := sc.witness(t, []byte("lk-recipient-address"))
	start := time.Now()
	proof, public, err := k.prover.Prove(w)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("proved in %v; proof %d bytes, public inputs %d bytes", time.Since(start), len(proof), len(public))

	// The public witness gnark wrote is byte for byte PublicInputs'
	// encoding, and decodes back to the statement.
	want := w.PublicInputs()
	enc, _ := want.MarshalBinary()
	if !bytes.Equal(public, enc) {
		t.Fatalf("gnark's public witness\n %x\ndiffers from PublicInputs.MarshalBinary\n %x", public, enc)
	}
	got, err := shielded.DecodePublicInputs(public)
	if err != nil || got != want {
		t.Fatalf("decoded %+v (%v), want %+v", got, err, want)
	}
	if got.Nullifier != shielded.Nullifier(w.Note.NullifierKey, sc.index) || got.Amount != w.Note.Amount {
		t.Fatal("public inputs do not carry the note's nullifier and amount")
	}

	// The keeper's check: verifier.VerifyProof on the registered key.
	n, err := verifier.CheckVerifyingKey(verifier.SchemeGroth16, verifier.CurveBN254, k.vk, protocol.DefaultLimits())
	if err != nil || n != shielded.NumPublicInputs {
		t.Fatalf("CheckVerifyingKey: %d inputs, %v", n, err)
	}
	job := verifier.ProofJob{Scheme: verifier.SchemeGroth16, Curve: verifier.CurveBN254, VerifyingKey: k.vk, Proof: proof, PublicInputs: public}
	start = time.Now()
	v := verifier.VerifyProof(job, protocol.DefaultLimits())
	t.Logf("verified in %v: %s", time.Since(start), v)
	if v.Vote != protocol.VoteApprove {
		t.Fatalf("valid withdrawal: %s", v)
	}
	if v := Verify(k.vk, proof, got); v.Vote != protocol.VoteApprove {
		t.Fatalf("Verify: %s", v)
	}
	if j := Job(k.vk, proof, got); !bytes.Equal(j.PublicInputs, public) || j.Scheme != verifier.SchemeGroth16 || j.Curve != verifier.CurveBN254 {
		t.Fatal("Job does not rebuild the same job")
	}

	// The state machine's side: the root is known, the nullifier unspent.
	if !sc.tree.KnownRoot(got.Root) {
		t.Fatal("the proof's root is not a known root")
	}
	// More deposits arrive while the withdrawal waits: its root stays
	// valid for root_history appends, then expires.
	rnd := mrand.New(mrand.NewPCG(1, 2))
	for i := 1; i <= shielded.DefaultRootHistory; i++ {
		sc.tree.Append(shielded.ScalarFromUint64(rnd.Uint64()))
		if known := sc.tree.KnownRoot(got.Root); known != (i < shielded.DefaultRootHistory) {
			t.Fatalf("after %d more deposits KnownRoot = %v", i, known)
		}
	}
	// The proof itself does not expire; the state machine's root check does.
	if v := Verify(k.vk, proof, got); v.Vote != protocol.VoteApprove {
		t.Fatalf("re-verify: %s", v)
	}
}

// A valid proof presented with any other public input is rejected by the
// verifier: a front-runner cannot redirect (recipient), inflate (amount),
// re-spend under another nullifier or move it to another root.
func TestVerifierRejectsChangedPublicInputs(t *testing.T) {
	k := testKeys(t)
	sc := newScenario(t, 7, 4, 3)
	w := sc.witness(t, []byte("alice"))
	proof, _, err := k.prover.Prove(w)
	if err != nil {
		t.Fatal(err)
	}
	pub := w.PublicInputs()
	if v := Verify(k.vk, proof, pub); v.Vote != protocol.VoteApprove {
		t.Fatal(v)
	}
	change := func(f func(p *shielded.PublicInputs)) shielded.PublicInputs { p := pub; f(&p); return p }
	for name, p := range map[string]shielded.PublicInputs{
		"another known root":          change(func(p *shielded.PublicInputs) { p.Root = sc.tree.Roots()[0] }),
		"nullifier of the next index": change(func(p *shielded.PublicInputs) { p.Nullifier = w.Note.Nullifier(sc.index + 1) }),
		"amount + 1":                  change(func(p *shielded.PublicInputs) { p.Amount++ }),
		"amount − 1":                  change(func(p *shielded.PublicInputs) { p.Amount-- }),
		"another recipient":           change(func(p *shielded.PublicInputs) { p.Recipient = shielded.RecipientFromAddress([]byte("mallory")) }),
	} {
		v := Verify(k.vk, proof, p)
		if v.Vote != protocol.VoteReject || v.Reason != verifier.ReasonInvalidProof {
			t.Errorf("%s: %s, want reject(invalid_proof)", name, v)
		}
	}
	// Another withdrawal's valid proof does not verify for this statement.
	w2 := Witness{Note: sc.notes[1], Root: w.Root, Recipient: w.Recipient}
	w2.Path, _ = sc.wallet.Path(1)
	proof2, _, err := k.prover.Prove(w2)
	if err != nil {
		t.Fatal(err)
	}
	if v := Verify(k.vk, proof2, pub); v.Vote != protocol.VoteReject {
		t.Errorf("another note's proof: %s", v)
	}
	if v := Verify(k.vk, proof2, w2.PublicInputs()); v.Vote != protocol.VoteApprove {
		t.Errorf("the other note's own proof: %s", v)
	}
}

// The prover refuses bad witnesses: Prove by its native check, and gnark's
// solver when the check is bypassed.
func TestProverRejectsBadWitnesses(t *testing.T) {
	k := testKeys(t)
	sc := newScenario(t, 8, 2, 2)
	w := sc.witness(t, []byte("alice"))
	bad := w
	bad.Root = sc.tree.Roots()[0]
	if _, _, err := k.prover.Prove(bad); err == nil || !strings.Contains(err.Error(), "not in the tree") {
		t.Fatalf("Prove with a wrong root: %v", err)
	}
	a, _ := assignment(&w, w.PublicInputs())
	a.Amount = w.Note.Amount + 1
	if _, _, err := k.prover.prove(a); err == nil {
		t.Fatal("gnark proved an unsatisfied witness")
	}
	other, _ := sc.wallet.Path(0)
	a, _ = assignment(&w, w.PublicInputs())
	for l := range Depth {
		a.Path[l] = other.Siblings[l].BigInt()
		a.IndexBits[l] = other.Index >> l & 1
	}
	if _, _, err := k.prover.prove(a); err == nil {
		t.Fatal("gnark proved a note on another leaf's path")
	}
}

// Every public input has a non-identity point in the verifying key, i.e.
// every one is bound by the proof (the recipient included).
func TestVerifyingKeyBindsEveryInput(t *testing.T) {
	k := testKeys(t)
	var vk groth16bn254.VerifyingKey
	if _, err := vk.ReadFrom(bytes.NewReader(k.vk)); err != nil {
		t.Fatal(err)
	}
	if len(vk.G1.K) != 1+shielded.NumPublicInputs || len(vk.CommitmentKeys) != 0 {
		t.Fatalf("vk has %d K points and %d commitment keys", len(vk.G1.K), len(vk.CommitmentKeys))
	}
	for i := range vk.G1.K {
		if vk.G1.K[i].IsInfinity() {
			t.Errorf("vk.K[%d] is the identity: public input %d is not bound", i, i-1)
		}
	}
}

func TestSetupKeys(t *testing.T) {
	k := testKeys(t)
	t.Logf("setup (%s) took %v: proving key %d bytes, verifying key %d bytes",
		map[bool]string{true: "Setup, MPC pipeline", false: "gnark groth16.Setup, -short"}[k.viaMPC], k.setup, len(k.pk), len(k.vk))
	if !k.viaMPC {
		t.Skip("-short: the keys came from gnark's groth16.Setup, not Setup")
	}
	// Setup is a deterministic function of its randomness: the test seed
	// always gives these keys (a gnark upgrade that changes them shows up
	// here, and means a new setup for the network too).
	pkSum, vkSum := sha256.Sum256(k.pk), sha256.Sum256(k.vk)
	t.Logf("sha256(pk) = %x, sha256(vk) = %x", pkSum, vkSum)
	if got := hex.EncodeToString(vkSum[:]); got != wantTestVKHash {
		t.Errorf("Setup(test seed) gave a verifying key with SHA-256 %s, want %s", got, wantTestVKHash)
	}
	if got := hex.EncodeToString(pkSum[:]); got != wantTestPKHash {
		t.Errorf("Setup(test seed) gave a proving key with SHA-256 %s, want %s", got, wantTestPKHash)
	}
	if _, _, err := Setup(bytes.NewReader(make([]byte, 40))); err == nil {
		t.Error("Setup with a short reader succeeded")
	}
	if _, _, err := Setup(nil); err == nil {
		t.Error("Setup with no reader succeeded")
	}
	if _, err := NewProver(k.pk[:len(k.pk)-1]); err == nil {
		t.Error("a truncated proving key was accepted")
	}
	if _, err := NewProver(append(bytes.Clone(k.pk), 0)); err == nil {
		t.Error("a proving key with a trailing byte was accepted")
	}
}
