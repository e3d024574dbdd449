package pebbledb

import (
	"bytes"
	"errors"
	"testing"

	lightkeeperv1 "github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1"
)

// TestPrograms: a program's metadata and its module are stored apart, so
// Programs (what a restart reads) never loads module bytes, and Program
// returns the module only when asked.
func TestPrograms(t *testing.T) {
	dir := t.TempDir()
	s := openT(t, dir)
	module := bytes.Repeat([]byte{0, 'a', 's', 'm'}, 1000)
	p1 := &lightkeeperv1.Program{Id: id(2), Module: module, Size: uint64(len(module)), MeteredHash: make([]byte, 32),
		Imports: []string{"fd_write"}, RegisteredHeight: 7}
	p0 := &lightkeeperv1.Program{Id: id(1), Size: 9}
	commit(t, s, func(b *Batch) error {
		if err := b.PutProgram(p1); err != nil {
			return err
		}
		return b.PutProgram(p0) // no module: metadata only
	})
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openT(t, dir)
	list, err := s.Programs()
	if err != nil || len(list) != 2 || list[0].Id != id(1) || list[1].Id != id(2) {
		t.Fatalf("Programs = %v, %v", list, err)
	}
	for _, p := range list {
		if len(p.Module) != 0 {
			t.Errorf("Programs returned module bytes of %s", p.Id)
		}
	}
	meta, err := s.Program(id(2), false)
	if err != nil || len(meta.Module) != 0 || meta.RegisteredHeight != 7 || meta.Imports[0] != "fd_write" {
		t.Fatalf("Program(false) = %v, %v", meta, err)
	}
	full, err := s.Program(id(2), true)
	if err != nil || !bytes.Equal(full.Module, module) || full.Size != uint64(len(module)) {
		t.Fatalf("Program(true): %d bytes, %v", len(full.GetModule()), err)
	}
	if _, err := s.Program(id(1), true); !errors.Is(err, ErrNotFound) {
		t.Errorf("module of a metadata-only record: %v, want ErrNotFound", err)
	}
	if _, err := s.Program(id(3), false); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown program: %v, want ErrNotFound", err)
	}
	if _, err := s.Program("XYZ", false); !errors.Is(err, ErrInvalidID) {
		t.Errorf("bad id: %v, want ErrInvalidID", err)
	}
	b := s.NewBatch()
	defer b.Close()
	if err := b.PutProgram(nil); !errors.Is(err, ErrInvalidRecord) {
		t.Errorf("PutProgram(nil): %v", err)
	}
	if err := b.PutProgram(&lightkeeperv1.Program{Id: "nope"}); !errors.Is(err, ErrInvalidID) {
		t.Errorf("PutProgram(bad id): %v", err)
	}
}
