package main

import (
	"slices"
	"strings"
	"testing"
	"time"
)

func TestLoadConfig(t *testing.T) {
	seed := strings.Repeat("07", 32)
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

	c, err := loadConfig(env(map[string]string{envKey: seed, envCoordinator: "http://127.0.0.1:8080/"}))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(c.Coordinators, []string{"http://127.0.0.1:8080"}) || c.Session != defaultSession || c.PullWait != defaultPullWait || c.MaxTasks != defaultMaxTasks {
		t.Errorf("defaults: %+v", c)
	}
	if len(c.KeeperID()) != 64 {
		t.Errorf("keeper id %q", c.KeeperID())
	}

	c, err = loadConfig(env(map[string]string{envKey: seed, envCoordinator: "https://c.example", envSession: "5", envPullWait: "2", envMaxTasks: "3"}))
	if err != nil || c.Session != 5*time.Second || c.PullWait != 2*time.Second || c.MaxTasks != 3 {
		t.Errorf("explicit: %+v %v", c, err)
	}

	// A list: comma-separated, in order, empty entries skipped.
	for in, want := range map[string][]string{
		"https://a.example, https://b.example:8443/lk/": {"https://a.example", "https://b.example:8443/lk"},
		"http://a,,http://b,":                           {"http://a", "http://b"},
		" , http://only ":                               {"http://only"},
	} {
		c, err := loadConfig(env(map[string]string{envKey: seed, envCoordinator: in}))
		if err != nil || !slices.Equal(c.Coordinators, want) {
			t.Errorf("%s %q: %q, %v; want %q", envCoordinator, in, c.Coordinators, err, want)
		}
	}

	for _, tc := range []struct {
		env  map[string]string
		want []string // every variable (and bad URL) the error must name
	}{
		{map[string]string{}, []string{envKey, envCoordinator}},
		{map[string]string{envKey: "abc", envCoordinator: "ftp://x"}, []string{envKey, envCoordinator}},
		{map[string]string{envKey: seed, envCoordinator: "https://a.example,ftp://b.example,https://c.example"}, []string{envCoordinator, `"ftp://b.example"`}},
		{map[string]string{envKey: seed, envCoordinator: "https://a.example,c.example:8080"}, []string{envCoordinator, `"c.example:8080"`}},
		{map[string]string{envKey: seed, envCoordinator: " , ,"}, []string{envCoordinator, "no coordinator URL"}},
		{map[string]string{envKey: seed, envCoordinator: "http://x", envSession: "-1", envPullWait: "x", envMaxTasks: "0"}, []string{envSession, envPullWait, envMaxTasks}},
	} {
		_, err := loadConfig(env(tc.env))
		if err == nil {
			t.Errorf("%v: no error", tc.env)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%v: error %q does not name %s", tc.env, err, w)
			}
		}
	}
}
