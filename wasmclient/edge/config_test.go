package main

import (
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
	if c.Coordinator != "http://127.0.0.1:8080" || c.Session != defaultSession || c.PullWait != defaultPullWait || c.MaxTasks != defaultMaxTasks {
		t.Errorf("defaults: %+v", c)
	}
	if len(c.KeeperID()) != 64 {
		t.Errorf("keeper id %q", c.KeeperID())
	}

	c, err = loadConfig(env(map[string]string{envKey: seed, envCoordinator: "https://c.example", envSession: "5", envPullWait: "2", envMaxTasks: "3"}))
	if err != nil || c.Session != 5*time.Second || c.PullWait != 2*time.Second || c.MaxTasks != 3 {
		t.Errorf("explicit: %+v %v", c, err)
	}

	for _, tc := range []struct {
		env  map[string]string
		want []string // every variable the error must name
	}{
		{map[string]string{}, []string{envKey, envCoordinator}},
		{map[string]string{envKey: "abc", envCoordinator: "ftp://x"}, []string{envKey, envCoordinator}},
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
