package progress

import (
	"bytes"
	"os"
	"testing"
)

// Written to anything but a terminal, a bar and a counter draw nothing:
// no carriage returns in files and pipes.
func TestNothingWhenNotATerminal(t *testing.T) {
	var buf bytes.Buffer
	b := NewBar(&buf, "rounds:", 3)
	b.Add(2)
	b.Close()
	StartCounter(&buf, "setup").Stop()
	if buf.Len() != 0 {
		t.Fatalf("drew %q on a buffer", buf.String())
	}
	f, err := os.CreateTemp(t.TempDir(), "out")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if IsTerminal(f) {
		t.Fatal("a regular file counted as a terminal")
	}
	NewBar(f, "rounds:", 1).Add(1)
	if st, err := f.Stat(); err != nil || st.Size() != 0 {
		t.Fatalf("drew %d bytes into a file (%v)", st.Size(), err)
	}
}
