package config

import (
	"errors"
	"strings"
	"testing"
)

// TestMovedSectionsRefused: a config.toml written before the chain
// parameters moved to genesis.json is refused, naming the section (or
// [limits] key) and where it went, rather than silently ignored.
func TestMovedSectionsRefused(t *testing.T) {
	for _, sec := range movedSections {
		_, err := Parse("[network]\nlisten = \"127.0.0.1:9\"\n[" + sec + "]\nx = 1\n")
		if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "["+sec+"]") || !strings.Contains(err.Error(), "genesis.json") {
			t.Errorf("[%s]: %v, want an error naming the section and genesis.json", sec, err)
		}
	}
	for _, k := range movedLimits {
		_, err := Parse("[limits]\n" + k + " = 1\n")
		if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "limits."+k) || !strings.Contains(err.Error(), "params.size_limits."+k) {
			t.Errorf("limits.%s: %v, want an error naming the key and its genesis path", k, err)
		}
	}
	// An old config.toml as `lightkeeper init` wrote it.
	_, err := Parse("[consensus]\nthreshold = 7\ntotal_validators = 10\n\n[limits]\nmax_request_bytes = 4194304\n")
	if err == nil || !strings.Contains(err.Error(), "[consensus]") {
		t.Fatalf("old config: %v", err)
	}
}
