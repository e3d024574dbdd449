package challenge

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/lightkeeper-net/lightkeeper/coordinator/challenge/keys"
	"github.com/lightkeeper-net/lightkeeper/internal/atomicfile"
)

// Keys on disk. A trusted setup draws fresh randomness each time, so a
// coordinator that restarted without its files would have new verifying
// keys, and the ones it registered would have no prover. Each circuit's
// compiled constraint system and keys live in one file (keys.Fixture.Save: a
// checksummed container of gnark's own encodings), written to a temporary
// file and renamed so that a crash never leaves half a file behind.

// fileName is the file of circuit c in Dir: its name with "/" as "_".
func fileName(c Circuit) string {
	return strings.ReplaceAll(c.Name(), "/", "_") + ".keys"
}

// fromFile says where a circuit's keys came from, for errors.
func fromFile(dir string, c Circuit, loaded bool) string {
	if !loaded {
		return ""
	}
	return fmt.Sprintf(" (keys from %s; remove the file to make new ones, which must then be registered again)",
		filepath.Join(dir, fileName(c)))
}

// loadOrSetup loads circuit c's keys from dir, or sets the circuit up and
// saves it there (dir "" keeps it in memory only).
func loadOrSetup(dir string, c Circuit) (*keys.Fixture, Key, error) {
	cfg := keys.Config{Scheme: c.Scheme, Curve: c.Curve, Constraints: c.Constraints, Commit: c.Commit}
	start := time.Now()
	var (
		f      *keys.Fixture
		loaded bool
	)
	path := ""
	if dir != "" {
		path = filepath.Join(dir, fileName(c))
		b, err := os.ReadFile(path)
		switch {
		case err == nil:
			if f, err = keys.Load(bytes.NewReader(b), cfg); err != nil {
				return nil, Key{}, fmt.Errorf("challenge: circuit %s: %s: %w (remove the file to make new keys, which must then be registered again)", c.Name(), path, err)
			}
			loaded = true
		case !errors.Is(err, fs.ErrNotExist):
			return nil, Key{}, fmt.Errorf("challenge: circuit %s: %w", c.Name(), err)
		}
	}
	if f == nil {
		var err error
		if f, err = keys.NewFromConfig(cfg); err != nil {
			return nil, Key{}, fmt.Errorf("challenge: circuit %s: setup: %w", c.Name(), err)
		}
		if path != "" {
			if err := save(path, f); err != nil {
				return nil, Key{}, fmt.Errorf("challenge: circuit %s: saving its keys: %w", c.Name(), err)
			}
		}
	}
	return f, Key{
		Scheme:       f.Scheme,
		Curve:        f.Curve,
		VerifyingKey: f.VerifyingKey,
		NumPublic:    f.NumPublic,
		Name:         c.Name(),
		Loaded:       loaded,
		Setup:        time.Since(start),
	}, nil
}

// save writes f to path atomically (temporary file, sync, rename). The
// files hold proving keys of single-party setups; they are not secret, but
// nobody else needs to write them.
func save(path string, f *keys.Fixture) error {
	return atomicfile.Write(path, 0o600, f.Save)
}
