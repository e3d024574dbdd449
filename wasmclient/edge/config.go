package main

import (
	"crypto/ed25519"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/lightkeeper-net/lightkeeper/keeper"
)

// Settings come from the worker's environment (wrangler.toml [vars] and
// secrets), read afresh on every event: the runtime may start a new Go
// instance for each event, so nothing is kept between them.
const (
	envKey         = "LIGHTKEEPER_KEY"         // secret: the keeper's 32-byte ed25519 seed, hex
	envCoordinator = "LIGHTKEEPER_COORDINATOR" // the coordinators' base URLs, comma-separated
	envSession     = "LIGHTKEEPER_SESSION_SECONDS"
	envPullWait    = "LIGHTKEEPER_PULL_WAIT_SECONDS"
	envMaxTasks    = "LIGHTKEEPER_MAX_TASKS"
)

// Config is one event's settings.
type Config struct {
	Key ed25519.PrivateKey
	// Coordinators are the base URLs of the chain's coordinators, in
	// order of preference: each event starts with the first and moves on
	// when one cannot be reached (keeper.NewList).
	Coordinators []string
	// Session is how long one scheduled event keeps long-polling. With a
	// cron every minute, 50 s keeps the keeper online (the coordinator
	// keeps a pulling keeper online for pull_grace, 30 s, after each
	// pull) while leaving the next event room to start. Long-polling
	// costs wall time, not CPU time.
	Session time.Duration
	// PullWait is how long one PullTasks waits for a task (the
	// coordinator caps it at max_pull_wait, 20 s by default).
	PullWait time.Duration
	// MaxTasks bounds the tasks taken, and so the CPU spent verifying, per
	// pull. It is a count, not a time budget, because deployed Workers do
	// not advance the clock while code runs (a Spectre mitigation: Date.now
	// moves only across I/O), so elapsed time cannot see verification.
	MaxTasks int
}

// Defaults.
const (
	defaultSession  = 50 * time.Second
	defaultPullWait = 20 * time.Second
	defaultMaxTasks = 8
)

// loadConfig reads and checks the settings; getenv returns "" for unset.
// Errors name the variable to fix.
func loadConfig(getenv func(string) string) (Config, error) {
	var errs []error
	c := Config{Session: defaultSession, PullWait: defaultPullWait, MaxTasks: defaultMaxTasks}
	seedHex := strings.TrimSpace(getenv(envKey))
	switch seed, err := hex.DecodeString(seedHex); {
	case seedHex == "":
		errs = append(errs, fmt.Errorf("%s is not set (wrangler secret put %s)", envKey, envKey))
	case err != nil || len(seed) != ed25519.SeedSize:
		errs = append(errs, fmt.Errorf("%s: want a %d-byte seed in hex, as in a lightkeeper .key file", envKey, ed25519.SeedSize))
	default:
		c.Key = ed25519.NewKeyFromSeed(seed)
	}
	if list, err := keeper.ParseCoordinators(getenv(envCoordinator)); err != nil {
		errs = append(errs, fmt.Errorf("%s: %w (want the coordinators' http:// or https:// URLs, comma-separated)", envCoordinator, err))
	} else {
		c.Coordinators = list
	}
	seconds := func(name string, def time.Duration, lo, hi int) time.Duration {
		s := strings.TrimSpace(getenv(name))
		if s == "" {
			return def
		}
		n, err := strconv.Atoi(s)
		if err != nil || n < lo || n > hi {
			errs = append(errs, fmt.Errorf("%s %q: want whole seconds in %d..%d", name, s, lo, hi))
			return def
		}
		return time.Duration(n) * time.Second
	}
	c.Session = seconds(envSession, c.Session, 0, 840) // Cloudflare stops a cron event after 15 min
	c.PullWait = seconds(envPullWait, c.PullWait, 0, 60)
	if s := strings.TrimSpace(getenv(envMaxTasks)); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 1024 {
			errs = append(errs, fmt.Errorf("%s %q: want 1..1024", envMaxTasks, s))
		} else {
			c.MaxTasks = n
		}
	}
	return c, errors.Join(errs...)
}

// KeeperID is the hex public key.
func (c Config) KeeperID() string {
	if c.Key == nil {
		return ""
	}
	return hex.EncodeToString(c.Key.Public().(ed25519.PublicKey))
}
