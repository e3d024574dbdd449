package config

import (
	"errors"
	"strings"
	"testing"
)

// TestAbuseLimitKeys: each abuse limit of docs/limits.md is a [limits]
// key with a range; an out-of-range value is refused naming the key.
func TestAbuseLimitKeys(t *testing.T) {
	for _, tc := range []struct{ text, key string }{
		{"bad_vote_rate = 0.0", "limits.bad_vote_rate"},
		{"bad_vote_burst = 0", "limits.bad_vote_burst"},
		{"max_sessions_per_keeper = 0", "limits.max_sessions_per_keeper"},
		{"max_streams_per_address = 0", "limits.max_streams_per_address"},
		{"max_streams = 10", "limits.max_streams"},
		{"max_unbonded_keepers = -1", "limits.max_unbonded_keepers"},
		{"registration_bytes_per_hour = 0", "limits.registration_bytes_per_hour"},
		{"max_registered_bytes = 0", "limits.max_registered_bytes"},
	} {
		_, err := Parse("[limits]\n" + tc.text + "\n")
		if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tc.key) {
			t.Errorf("%s: %v, want an error naming %s", tc.text, err, tc.key)
		}
	}
	c, err := Parse("[limits]\nmax_unbonded_keepers = 0\nbad_vote_rate = 0.5\n")
	if err != nil || c.Limits.MaxUnbondedKeepers != 0 || c.Limits.BadVoteRate != 0.5 {
		t.Fatalf("in range: %+v, %v", c.Limits, err)
	}
}
