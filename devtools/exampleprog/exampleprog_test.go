package exampleprog

import (
	"bytes"
	"context"
	"slices"
	"testing"
)

func TestBuild(t *testing.T) {
	want := []string{"floats", "primes", "sandbox", "sha256sum", "spin", "wordcount"}
	if got := Names(); !slices.Equal(got, want) {
		t.Fatalf("Names() = %v, want %v", got, want)
	}
	mods, err := Modules(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range want {
		if m := mods[name]; !bytes.HasPrefix(m, []byte("\x00asm")) {
			t.Errorf("%s: %d bytes, not a WebAssembly module", name, len(m))
		}
	}
}
