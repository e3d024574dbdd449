package poolkeys

import (
	"bytes"
	"crypto/rand"
	"os"
	"path/filepath"

	"github.com/consensys/gnark/backend/groth16"

	"github.com/lightkeeper-net/lightkeeper/shielded/circuit"
)

// File names of a key pair in a directory.
const (
	ProvingKeyFile   = "pool.pk"
	VerifyingKeyFile = "pool.vk"
)

// Fast is gnark's own groth16.Setup of the withdrawal circuit: a few
// seconds where circuit.Setup (the MPC pipeline) takes about a minute. Its
// toxic waste came from crypto/rand inside one process and was never in
// the caller's hands: keys for devnets, demos, tests and benchmarks, never
// for a network holding real value. The keys are gnark's WriteTo
// encodings, as circuit.Setup returns them.
func Fast() (pk, vk []byte, err error) {
	ccs, err := circuit.Compile()
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

// LoadOrMake returns the key pair in dir (ProvingKeyFile, VerifyingKeyFile)
// when both files exist; otherwise it makes one (replacing a lone file) — circuit.Setup with
// crypto/rand, or Fast when fast is set — and writes it there, creating
// dir. made tells which happened: the files are the cache of a setup.
func LoadOrMake(dir string, fast bool) (pk, vk []byte, made bool, err error) {
	pkPath, vkPath := filepath.Join(dir, ProvingKeyFile), filepath.Join(dir, VerifyingKeyFile)
	_, e1 := os.Stat(pkPath)
	_, e2 := os.Stat(vkPath)
	if e1 == nil && e2 == nil {
		if pk, err = os.ReadFile(pkPath); err != nil {
			return nil, nil, false, err
		}
		if vk, err = os.ReadFile(vkPath); err != nil {
			return nil, nil, false, err
		}
		return pk, vk, false, nil
	}
	if fast {
		pk, vk, err = Fast()
	} else {
		pk, vk, err = circuit.Setup(rand.Reader)
	}
	if err != nil {
		return nil, nil, false, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, nil, false, err
	}
	if err := os.WriteFile(pkPath, pk, 0o644); err != nil {
		return nil, nil, false, err
	}
	if err := os.WriteFile(vkPath, vk, 0o644); err != nil {
		return nil, nil, false, err
	}
	return pk, vk, true, nil
}
