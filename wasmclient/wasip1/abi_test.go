package main

import (
	"bytes"
	"crypto/ed25519"
	"encoding/binary"
	"strings"
	"testing"

	"github.com/lightkeeper-net/lightkeeper/protocol"
	"github.com/lightkeeper-net/lightkeeper/verifier"
)

// These tests run the ABI's framing natively; ../host's tests run the same
// code built for wasip1 under wazero against real proofs.

// put writes in into m's input buffer as the host would.
func put(t *testing.T, m *module, in []byte) uint32 {
	t.Helper()
	b := m.input(uint32(len(in)))
	if b == nil {
		t.Fatalf("input(%d) refused", len(in))
	}
	copy(b, in)
	return uint32(len(in))
}

func verifyInput(scheme, curve uint32, lim [4]uint32, vk, proof, pub []byte) []byte {
	le := binary.LittleEndian
	b := le.AppendUint32(nil, scheme)
	b = le.AppendUint32(b, curve)
	for _, l := range lim {
		b = le.AppendUint32(b, l)
	}
	b = le.AppendUint32(b, uint32(len(vk)))
	b = le.AppendUint32(b, uint32(len(proof)))
	b = le.AppendUint32(b, uint32(len(pub)))
	b = append(b, vk...)
	b = append(b, proof...)
	return append(b, pub...)
}

func verdict(t *testing.T, m *module) verifier.Verdict {
	t.Helper()
	if len(m.out) < 8 {
		t.Fatalf("output of %d bytes", len(m.out))
	}
	return verifier.Verdict{
		Vote:   protocol.VoteKind(int32(binary.LittleEndian.Uint32(m.out))),
		Reason: verifier.RejectReason(int32(binary.LittleEndian.Uint32(m.out[4:]))),
		Detail: string(m.out[8:]),
	}
}

func TestVerifyFraming(t *testing.T) {
	vk, proof, pub := []byte("key bytes"), []byte("proof"), []byte(`["1"]`)
	cases := []struct {
		name   string
		scheme uint32
		curve  uint32
		lim    [4]uint32
	}{
		{"groth16/bn254", 1, 1, [4]uint32{}},
		{"plonk/bls12_381", 2, 2, [4]uint32{}},
		{"unknown scheme", 9, 1, [4]uint32{}},
		{"negative curve", 1, 0xFFFFFFFF, [4]uint32{}},
		{"tiny key limit", 1, 1, [4]uint32{4, 0, 0, 0}},
		{"huge limits", 2, 1, [4]uint32{0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := newModule()
			n := put(t, m, verifyInput(c.scheme, c.curve, c.lim, vk, proof, pub))
			if st := m.verify(n); st != statusOK {
				t.Fatalf("status %d: %s", st, m.out)
			}
			lim := protocol.Limits{
				MaxVerifyingKeyBytes: int(c.lim[0]), MaxProofBytes: int(c.lim[1]),
				MaxPublicInputBytes: int(c.lim[2]), MaxPublicInputs: int(c.lim[3]),
			}
			want := verifier.VerifyProof(verifier.ProofJob{
				Scheme: verifier.Scheme(int32(c.scheme)), Curve: verifier.Curve(int32(c.curve)),
				VerifyingKey: vk, Proof: proof, PublicInputs: pub,
			}, lim)
			if got := verdict(t, m); got != want {
				t.Errorf("module verdict %v, native %v", got, want)
			}
		})
	}
}

func TestVerifyBadFraming(t *testing.T) {
	good := verifyInput(1, 1, [4]uint32{}, []byte("k"), []byte("p"), []byte("i"))
	cases := map[string]func() []byte{
		"empty":        func() []byte { return nil },
		"short header": func() []byte { return good[:20] },
		"payload short": func() []byte {
			return good[:len(good)-1]
		},
		"payload long": func() []byte { return append(bytes.Clone(good), 0) },
		"lengths overflow": func() []byte {
			b := bytes.Clone(good)
			binary.LittleEndian.PutUint32(b[24:], 0xFFFFFFFF)
			binary.LittleEndian.PutUint32(b[28:], 0xFFFFFFFF)
			return b
		},
	}
	for name, in := range cases {
		t.Run(name, func(t *testing.T) {
			m := newModule()
			n := put(t, m, in())
			if st := m.verify(n); st != statusBadInput {
				t.Fatalf("status %d (%s), want %d", st, m.out, statusBadInput)
			}
			if !strings.HasPrefix(string(m.out), "verify: ") {
				t.Errorf("message %q", m.out)
			}
		})
	}
	t.Run("n beyond buffer", func(t *testing.T) {
		m := newModule()
		if st := m.verify(uint32(len(m.in) + 1)); st != statusBadInput {
			t.Fatalf("status %d", st)
		}
	})
}

func TestInputBuffer(t *testing.T) {
	m := newModule()
	if m.input(maxInput+1) != nil {
		t.Error("input beyond maxInput was granted")
	}
	if b := m.input(0); len(b) == 0 {
		t.Error("empty input buffer: it would have no address")
	}
	if b := m.input(1 << 20); len(b) < 1<<20 {
		t.Errorf("input(1 MiB) has %d bytes", len(b))
	}
}

func TestGuard(t *testing.T) {
	m := newModule()
	st := func() (status int32) {
		defer m.guard(&status)
		panic("boom")
	}()
	if st != statusInternal || !strings.Contains(string(m.out), "boom") {
		t.Errorf("status %d, output %q", st, m.out)
	}
}

func TestSign(t *testing.T) {
	pub, key, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	round, result := [32]byte{1, 2, 3}, [32]byte{9}
	chain := "lightkeeper-test"

	for _, vote := range []protocol.VoteKind{protocol.VoteApprove, protocol.VoteReject, protocol.VoteAbstain} {
		m := newModule()
		in := binary.LittleEndian.AppendUint32(nil, uint32(vote))
		in = append(in, key...)
		in = append(in, round[:]...)
		in = append(in, result[:]...)
		in = append(in, chain...)
		n := put(t, m, in)
		if st := m.signVote(n); st != statusOK {
			t.Fatalf("%v: status %d: %s", vote, st, m.out)
		}
		if !protocol.VerifyVote(chain, round, pub, vote, result, m.out) {
			t.Errorf("%v: signature does not verify", vote)
		}
		if !bytes.Equal(m.in[4:68], make([]byte, 64)) {
			t.Errorf("%v: key left in the input buffer", vote)
		}
	}

	m := newModule()
	in := binary.LittleEndian.AppendUint64(nil, uint64(1700000000123))
	in = append(in, key...)
	in = append(in, chain...)
	if st := m.signSession(put(t, m, in)); st != statusOK || !protocol.VerifySession(chain, pub, 1700000000123, m.out) {
		t.Errorf("session: status %d, output %x", st, m.out)
	}
	if !bytes.Equal(m.in[8:72], make([]byte, 64)) {
		t.Error("session: key left in the input buffer")
	}

	in = append(append([]byte(nil), key...), chain...)
	if st := m.signRegistration(put(t, m, in)); st != statusOK || !protocol.VerifyRegistration(chain, pub, m.out) {
		t.Errorf("registration: status %d, output %x", st, m.out)
	}
	if !bytes.Equal(m.in[:64], make([]byte, 64)) {
		t.Error("registration: key left in the input buffer")
	}
}

func TestSignRefused(t *testing.T) {
	_, key, _ := ed25519.GenerateKey(nil)
	vote := func(kind uint32, chain string) []byte {
		in := binary.LittleEndian.AppendUint32(nil, kind)
		in = append(in, key...)
		in = append(in, make([]byte, 64)...)
		return append(in, chain...)
	}
	for name, c := range map[string]struct {
		in   []byte
		want int32
	}{
		"vote kind 0":       {vote(0, "c"), statusRefused},
		"vote kind 4":       {vote(4, "c"), statusRefused},
		"vote kind -1":      {vote(0xFFFFFFFF, "c"), statusRefused},
		"chain id too long": {vote(1, strings.Repeat("x", protocol.MaxSignedChainIDLen+1)), statusRefused},
		"short":             {vote(1, "")[:100], statusBadInput},
	} {
		m := newModule()
		if st := m.signVote(put(t, m, c.in)); st != c.want {
			t.Errorf("%s: status %d (%s), want %d", name, st, m.out, c.want)
		}
	}
	m := newModule()
	if st := m.signSession(put(t, m, make([]byte, 71))); st != statusBadInput {
		t.Errorf("short session input: status %d", st)
	}
	if st := m.signRegistration(put(t, m, make([]byte, 63))); st != statusBadInput {
		t.Errorf("short registration input: status %d", st)
	}
}
