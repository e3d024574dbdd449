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

func TestParseErrorsNameTheKey(t *testing.T) {
	for _, tc := range []struct{ text, key string }{
		{"[bogus]\nx = 1\n", "bogus.x"},
		{"[network]\nlisten_addr = \"x\"\n", "network.listen_addr"},
		{"[limits]\nmax_request_bytes = 0\n", "limits.max_request_bytes"},
		{"[challenges]\nrate = 11.0\n", "challenges.rate"},
		{"[limits]\nsubmit_rate = 0.0\n", "limits.submit_rate"},
		{"[network]\nmax_pull_wait = 40\n", "network.max_pull_wait"},
		{"[network]\nlisten = \"\"\n", "network.listen"},
		{"[network\n", ""},
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
	c, err := Parse("[network]\nlisten = \"0.0.0.0:9000\"\n[challenges]\nenabled = false\n")
	if err != nil {
		t.Fatal(err)
	}
	if c.Network.Listen != "0.0.0.0:9000" || c.Challenges.Enabled {
		t.Fatalf("config = %+v", c)
	}
	if c.Network.MaxPullWait != Default().Network.MaxPullWait {
		t.Fatal("unset keys must keep their defaults")
	}
}

// FuzzParse: any text either parses into a configuration that validates,
// or fails with ErrInvalid; it never panics.
func FuzzParse(f *testing.F) {
	f.Add(Template)
	f.Add("[consensus]\nthreshold = 11\n")
	f.Add("[limits]\nsubmit_rate = 0.5\n")
	f.Add("[network]\nlisten = 3\n")
	f.Add("[[network]]\n")
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
