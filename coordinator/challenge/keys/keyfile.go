package keys

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/consensys/gnark/backend/groth16"
	"github.com/consensys/gnark/backend/plonk"

	"github.com/lightkeeper-net/lightkeeper/verifier"
)

// Saved fixtures. Setup draws fresh toxic waste every time, so a program
// that registered a fixture's verifying key somewhere (the coordinator's
// random challenges) must keep the compiled circuit and both keys to go on
// proving for that key after a restart.
//
// Encoding (integers big-endian):
//
//	fixtureMagic
//	u32 scheme, u32 curve, u32 chain, u8 commit
//	u64 n, n bytes: the constraint system (gnark WriteTo)
//	u64 n, n bytes: the proving key (gnark WriteRawTo)
//	u64 n, n bytes: the verifying key (gnark WriteTo, = VerifyingKey)
//	SHA-256 of everything above
//
// The checksum is verified before gnark sees a byte: gnark's decoders
// allocate whatever a length prefix says (see verifier/decode.go), so a
// damaged file must be refused before it reaches them. The proving key is
// written raw and read back without subgroup checks for speed; the
// checksum, not those checks, is what guards it.

const fixtureMagic = "lightkeeper/proofgen/fixture/v1\n"

// MaxSavedFixtureBytes bounds what Load reads.
const MaxSavedFixtureBytes = 1 << 30

// Save writes the fixture (circuit, proving key, verifying key) so that
// Load can restore it.
func (f *Fixture) Save(w io.Writer) error {
	var b bytes.Buffer
	b.WriteString(fixtureMagic)
	var hdr [13]byte
	binary.BigEndian.PutUint32(hdr[0:], uint32(f.Scheme))
	binary.BigEndian.PutUint32(hdr[4:], uint32(f.Curve))
	binary.BigEndian.PutUint32(hdr[8:], uint32(f.chain))
	if f.commit {
		hdr[12] = 1
	}
	b.Write(hdr[:])
	section := func(write func(io.Writer) (int64, error), what string) error {
		var s bytes.Buffer
		if _, err := write(&s); err != nil {
			return fmt.Errorf("keys: saving the %s: %w", what, err)
		}
		b.Write(binary.BigEndian.AppendUint64(nil, uint64(s.Len())))
		b.Write(s.Bytes())
		return nil
	}
	if err := section(f.ccs.WriteTo, "constraint system"); err != nil {
		return err
	}
	var pk interface {
		WriteRawTo(io.Writer) (int64, error)
	}
	switch f.Scheme {
	case verifier.SchemeGroth16:
		pk = f.groth16PK
	case verifier.SchemePlonk:
		pk = f.plonkPK
	}
	if pk == nil {
		return errors.New("keys: the fixture has no proving key")
	}
	if err := section(pk.WriteRawTo, "proving key"); err != nil {
		return err
	}
	if err := section(bytes.NewReader(f.VerifyingKey).WriteTo, "verifying key"); err != nil {
		return err
	}
	sum := sha256.Sum256(b.Bytes())
	b.Write(sum[:])
	_, err := w.Write(b.Bytes())
	return err
}

// Load reads a fixture written by Save. want names the circuit the caller
// expects; a saved fixture of another circuit is refused, as is a damaged
// or truncated one.
func Load(r io.Reader, want Config) (f *Fixture, err error) {
	b, err := io.ReadAll(io.LimitReader(r, MaxSavedFixtureBytes+1))
	if err != nil {
		return nil, fmt.Errorf("keys: reading a saved fixture: %w", err)
	}
	if len(b) > MaxSavedFixtureBytes {
		return nil, fmt.Errorf("keys: saved fixture larger than %d bytes", MaxSavedFixtureBytes)
	}
	if len(b) < len(fixtureMagic)+13+sha256.Size || string(b[:len(fixtureMagic)]) != fixtureMagic {
		return nil, errors.New("keys: not a saved fixture (bad header)")
	}
	body, sum := b[:len(b)-sha256.Size], b[len(b)-sha256.Size:]
	if s := sha256.Sum256(body); !bytes.Equal(s[:], sum) {
		return nil, errors.New("keys: saved fixture is damaged (checksum mismatch)")
	}
	hdr := body[len(fixtureMagic):]
	scheme := verifier.Scheme(binary.BigEndian.Uint32(hdr[0:]))
	curve := verifier.Curve(binary.BigEndian.Uint32(hdr[4:]))
	chain := int(binary.BigEndian.Uint32(hdr[8:]))
	commit := hdr[12] == 1
	wantChain := chainFor(want.Scheme, want.Constraints)
	if scheme != want.Scheme || curve != want.Curve || chain != wantChain || commit != want.Commit {
		return nil, fmt.Errorf("keys: saved fixture is %s/%s chain %d commit %v, want %s/%s chain %d commit %v",
			scheme, curve, chain, commit, want.Scheme, want.Curve, wantChain, want.Commit)
	}
	id, err := CurveID(curve)
	if err != nil {
		return nil, err
	}
	rest := hdr[13:]
	next := func(what string) ([]byte, error) {
		if len(rest) < 8 {
			return nil, fmt.Errorf("keys: saved fixture truncated before the %s", what)
		}
		n := binary.BigEndian.Uint64(rest)
		rest = rest[8:]
		if n > uint64(len(rest)) {
			return nil, fmt.Errorf("keys: saved fixture: %s of %d bytes, %d left", what, n, len(rest))
		}
		s := rest[:n]
		rest = rest[n:]
		return s, nil
	}
	ccsBytes, err := next("constraint system")
	if err != nil {
		return nil, err
	}
	pkBytes, err := next("proving key")
	if err != nil {
		return nil, err
	}
	vkBytes, err := next("verifying key")
	if err != nil {
		return nil, err
	}
	if len(rest) != 0 {
		return nil, fmt.Errorf("keys: saved fixture: %d bytes after the verifying key", len(rest))
	}

	// gnark's decoders panic on some inputs; this file passed its checksum,
	// so a panic means a bug or a gnark version that changed its
	// encodings, and is reported as an error.
	defer func() {
		if p := recover(); p != nil {
			f, err = nil, fmt.Errorf("keys: decoding a saved fixture: %v", p)
		}
	}()
	f = &Fixture{Scheme: scheme, Curve: curve, NumPublic: NumPublic, curveID: id, chain: chain, commit: commit,
		VerifyingKey: bytes.Clone(vkBytes)}
	var vk io.ReaderFrom
	switch scheme {
	case verifier.SchemeGroth16:
		f.ccs = groth16.NewCS(id)
		f.groth16PK = groth16.NewProvingKey(id)
		err = readSection(f.groth16PK.UnsafeReadFrom, pkBytes, "proving key")
		vk = groth16.NewVerifyingKey(id)
	case verifier.SchemePlonk:
		f.ccs = plonk.NewCS(id)
		f.plonkPK = plonk.NewProvingKey(id)
		err = readSection(f.plonkPK.UnsafeReadFrom, pkBytes, "proving key")
		vk = plonk.NewVerifyingKey(id)
	default:
		return nil, fmt.Errorf("keys: unsupported scheme %s", scheme)
	}
	if err != nil {
		return nil, err
	}
	if err := readSection(f.ccs.ReadFrom, ccsBytes, "constraint system"); err != nil {
		return nil, err
	}
	if err := readSection(vk.ReadFrom, vkBytes, "verifying key"); err != nil {
		return nil, err
	}
	f.constraints = f.ccs.GetNbConstraints()
	return f, nil
}

func readSection(read func(io.Reader) (int64, error), b []byte, what string) error {
	r := bytes.NewReader(b)
	if _, err := read(r); err != nil {
		return fmt.Errorf("keys: saved fixture: %s: %w", what, err)
	}
	if r.Len() != 0 {
		return fmt.Errorf("keys: saved fixture: %d bytes after the %s", r.Len(), what)
	}
	return nil
}
