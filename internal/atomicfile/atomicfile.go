// Package atomicfile writes a file so that a crash leaves either the old
// content or the new one, never a mix: a temporary file in the same
// directory, synced, then renamed over the target.
package atomicfile

import (
	"io"
	"os"
	"path/filepath"
)

// Write creates path's directory if needed (mode 0700) and replaces path
// with what write produces, atomically, with permissions perm.
func Write(path string, perm os.FileMode, write func(io.Writer) error) (err error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if err = write(tmp); err != nil {
		return err
	}
	if err = tmp.Chmod(perm); err != nil {
		return err
	}
	if err = tmp.Sync(); err != nil {
		return err
	}
	if err = tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
