package config

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestTemplateMatchesDefault(t *testing.T) {
	c, err := Parse(Template)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(c, Default()) {
		t.Fatalf("template parses to\n%+v\nwant the defaults\n%+v", c, Default())
	}
	// Every key of the template must be a real key: removing any one line
	// still parses (defaults fill it), so check the reverse by counting.
	if got, want := strings.Count(Template, " = "), reflect.TypeOf(Config{}).NumField(); got < want {
		t.Fatalf("template has %d keys, fewer than %d sections", got, want)
	}
}

func TestDefaultParams(t *testing.T) {
	p := Default().Params()
	if p.StakeWeightBps != 7000 || p.ReputationWeightBps != 3000 {
		t.Fatalf("weights = %d/%d bps, want 7000/3000", p.StakeWeightBps, p.ReputationWeightBps)
	}
	if p.Threshold != 7 || p.TotalValidators != 10 || p.VerificationTimeout.AsDuration().Seconds() != 30 {
		t.Fatalf("consensus params = %v", p)
	}
}

func TestParseErrorsNameTheKey(t *testing.T) {
	for _, tc := range []struct{ text, key string }{
		{"[consensus]\nthreshold = 11\n", "consensus.threshold"},
		{"[consensus]\nthreshold = 0\n", "consensus.threshold"},
		{"[consensus]\ntotal_validators = 0\n", "consensus.total_validators"},
		{"[consensus]\nverification_timeout = 0\n", "consensus.verification_timeout"},
		{"[consensus]\nreputation_bounds = [500, 100]\n", "consensus.reputation_bounds"},
		{"[consensus]\nmin_reputation = 50\n", "consensus.min_reputation"},
		{"[consensus]\nthresold = 7\n", "consensus.thresold"},
		{"[bogus]\nx = 1\n", "bogus.x"},
		{"[leader_selection]\nstake_weight = 0.8\n", "leader_selection"},
		{"[leader_selection]\nstake_weight = 1.5\nreputation_weight = -0.5\n", "leader_selection.stake_weight"},
		{"[reputation]\nincorrect = -1\n", "reputation.incorrect"},
		{"[reputation]\ndaily_decay_ppm = 2000000\n", "reputation.daily_decay_ppm"},
		{"[limits]\nmax_proof_bytes = 0\n", "limits.max_proof_bytes"},
		{"[limits]\nsubmit_rate = 0.0\n", "limits.submit_rate"},
		{"[network]\nmax_pull_wait = 40\n", "network.max_pull_wait"},
		{"[network]\nlisten = \"\"\n", "network.listen"},
		{"[consensus\n", ""},
	} {
		_, err := Parse(tc.text)
		if !errors.Is(err, ErrInvalid) {
			t.Errorf("%q: err = %v, want ErrInvalid", tc.text, err)
			continue
		}
		if !strings.Contains(err.Error(), tc.key) {
			t.Errorf("%q: error %q does not name %q", tc.text, err, tc.key)
		}
	}
}

func TestParseOverrides(t *testing.T) {
	c, err := Parse("[consensus]\nthreshold = 2\ntotal_validators = 3\n[leader_selection]\nstake_weight = 0.5\nreputation_weight = 0.5\n")
	if err != nil {
		t.Fatal(err)
	}
	p := c.Params()
	if p.Threshold != 2 || p.TotalValidators != 3 || p.StakeWeightBps != 5000 {
		t.Fatalf("params = %v", p)
	}
	if c.Consensus.MinReputation != 200 {
		t.Fatal("unset keys must keep their defaults")
	}
}

// FuzzParse: any text either parses into a configuration that validates,
// or fails with ErrInvalid; it never panics.
func FuzzParse(f *testing.F) {
	f.Add(Template)
	f.Add("[consensus]\nthreshold = 11\n")
	f.Add("[leader_selection]\nstake_weight = 0.5\nreputation_weight = 0.5\n")
	f.Add("[network]\nlisten = 3\n")
	f.Add("[[consensus]]\n")
	f.Add("")
	f.Fuzz(func(t *testing.T, text string) {
		c, err := Parse(text)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error %v does not wrap ErrInvalid", err)
			}
			return
		}
		if err := c.Validate(); err != nil {
			t.Fatalf("parsed config does not validate: %v", err)
		}
	})
}
