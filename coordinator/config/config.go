// Package config reads the coordinator's config.toml (docs/design.md §13):
// the node's own settings (listen address, network and rate limits,
// challenge policy). The chain's rules are not here: they are genesis.json's
// params (protocol.DefaultParams gives their defaults). Every key has a
// default; an unknown key, a chain-parameter section left from before they
// moved, or an out-of-range value is an error at start that names the key.
package config

import (
	"errors"
	"fmt"
	"math"
	"os"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
)

// ErrInvalid is wrapped by every validation error.
var ErrInvalid = errors.New("invalid configuration")

// Config is the whole config.toml.
type Config struct {
	Limits     Limits     `toml:"limits"`
	Network    Network    `toml:"network"`
	Challenges Challenges `toml:"challenges"`
}

// movedSections are the config.toml sections that held chain parameters
// before they moved into genesis.json ("params"). A config that still has
// one is refused, naming it: a node must not look as if it could choose
// its chain's rules.
var movedSections = []string{"consensus", "leader_selection", "reputation", "staking", "rewards", "slashing", "compute"}

// movedLimits are the [limits] keys that became the chain's size limits
// (genesis.json's params.size_limits).
var movedLimits = []string{"max_verifying_key_bytes", "max_proof_bytes", "max_public_input_bytes", "max_public_inputs"}

// Challenges configures the coordinator's random challenges (GPoW,
// docs/challenges.md). They are the node's own policy, not chain
// parameters: the machine judges a challenge by the answer it carries,
// however it was scheduled.
type Challenges struct {
	Enabled bool `toml:"enabled"`
	// Rate is how many challenges are opened per client round (a
	// fraction; 0.1 mixes in one for every ten).
	Rate float64 `toml:"rate"`
	// Interval is the longest stretch, in seconds, without a challenge
	// while keepers are online: an idle network is still tested (the
	// wait is drawn uniformly from half to one and a half of it).
	Interval int64 `toml:"interval"`
	// CPUBudget is the fraction of one core that generating fresh
	// challenge proofs ahead of time may use.
	CPUBudget float64 `toml:"cpu_budget"`
	// ComputeShare is the fraction of challenges that are compute jobs
	// (when clients have run programs to draw from).
	ComputeShare float64 `toml:"compute_share"`
}

// IntervalDuration is Interval as a duration.
func (c Challenges) IntervalDuration() time.Duration { return seconds(c.Interval) }

// Limits protects the coordinator from oversized or abusive requests.
type Limits struct {
	MaxRequestBytes int     `toml:"max_request_bytes"`
	SubmitRate      float64 `toml:"submit_rate"` // requests per second per client address
	SubmitBurst     int     `toml:"submit_burst"`
	MaxOpenRounds   int     `toml:"max_open_rounds"`
	// The abuse limits (docs/limits.md).
	BadVoteRate              float64 `toml:"bad_vote_rate"` // refused votes per second per client address
	BadVoteBurst             int     `toml:"bad_vote_burst"`
	MaxSessionsPerKeeper     int     `toml:"max_sessions_per_keeper"`
	MaxStreamsPerAddress     int     `toml:"max_streams_per_address"`
	MaxStreams               int     `toml:"max_streams"`
	MaxUnbondedKeepers       int     `toml:"max_unbonded_keepers"`
	RegistrationBytesPerHour int64   `toml:"registration_bytes_per_hour"` // per client address
	MaxRegisteredBytes       int64   `toml:"max_registered_bytes"`
}

// Network holds the service's connection settings.
type Network struct {
	Listen         string `toml:"listen"`
	PullGrace      int64  `toml:"pull_grace"`    // seconds
	MaxPullWait    int64  `toml:"max_pull_wait"` // seconds
	SessionSkew    int64  `toml:"session_skew"`  // seconds
	MaxTxsPerBlock int    `toml:"max_txs_per_block"`
	// TLS: PEM files of the certificate (chain) and its key. Both set: the
	// API is served over HTTPS (HTTP/2 by ALPN, and HTTP/1.1); both
	// empty: plain HTTP and h2c. Relative paths are relative to the
	// config file.
	TLSCert string `toml:"tls_cert"`
	TLSKey  string `toml:"tls_key"`
}

// Default returns the configuration with every key at its default.
func Default() Config {
	return Config{
		Limits: Limits{
			MaxRequestBytes:      4 << 20,
			SubmitRate:           200,
			SubmitBurst:          400,
			MaxOpenRounds:        10000,
			BadVoteRate:          10,
			BadVoteBurst:         100,
			MaxSessionsPerKeeper: 4,
			MaxStreamsPerAddress: 1024,
			MaxStreams:           16384,
			MaxUnbondedKeepers:   1000,
			// 64 MiB an hour per address, 4 GiB in all.
			RegistrationBytesPerHour: 64 << 20,
			MaxRegisteredBytes:       4 << 30,
		},
		Challenges: Challenges{
			Enabled:      true,
			Rate:         0.1,
			Interval:     30,
			CPUBudget:    0.1,
			ComputeShare: 0.25,
		},
		Network: Network{
			Listen:         "127.0.0.1:8080",
			PullGrace:      30,
			MaxPullWait:    20,
			SessionSkew:    300,
			MaxTxsPerBlock: 2000,
		},
	}
}

// Load reads a config file over the defaults.
func Load(path string) (Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Config{}, err
	}
	c, err := Parse(string(b))
	if err != nil {
		return Config{}, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}

// Parse reads TOML text over the defaults and validates it.
func Parse(text string) (Config, error) {
	c := Default()
	md, err := toml.Decode(text, &c)
	if err != nil {
		return Config{}, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	if err := checkMoved(md); err != nil {
		return Config{}, err
	}
	if und := md.Undecoded(); len(und) > 0 {
		keys := make([]string, len(und))
		for i, k := range und {
			keys[i] = k.String()
		}
		return Config{}, fmt.Errorf("%w: unknown key %s", ErrInvalid, strings.Join(keys, ", "))
	}
	if err := c.Validate(); err != nil {
		return Config{}, err
	}
	return c, nil
}

// checkMoved refuses a config that still sets chain parameters.
func checkMoved(md toml.MetaData) error {
	for _, sec := range movedSections {
		if md.IsDefined(sec) {
			return fmt.Errorf("%w: [%s] holds chain parameters, which moved to genesis.json (\"params\"): delete the section from config.toml (a new chain reads them from genesis.json, an existing one keeps those stored in its data directory)", ErrInvalid, sec)
		}
	}
	for _, k := range movedLimits {
		if md.IsDefined("limits", k) {
			return fmt.Errorf("%w: limits.%s is a chain parameter now, genesis.json's params.size_limits.%s: delete it from config.toml", ErrInvalid, k, k)
		}
	}
	return nil
}

func rangeErr(key string, format string, args ...any) error {
	return fmt.Errorf("%w: %s: %s", ErrInvalid, key, fmt.Sprintf(format, args...))
}

// Validate checks every value's range and names the first bad key.
func (c Config) Validate() error {
	l := c.Limits
	switch {
	case l.MaxRequestBytes < 1<<10 || l.MaxRequestBytes > 256<<20:
		return rangeErr("limits.max_request_bytes", "%d is outside 1 KiB..256 MiB", l.MaxRequestBytes)
	case l.SubmitRate <= 0 || math.IsInf(l.SubmitRate, 0) || math.IsNaN(l.SubmitRate):
		return rangeErr("limits.submit_rate", "%v must be a positive number", l.SubmitRate)
	case l.SubmitBurst < 1:
		return rangeErr("limits.submit_burst", "%d must be at least 1", l.SubmitBurst)
	case l.MaxOpenRounds < 1:
		return rangeErr("limits.max_open_rounds", "%d must be at least 1", l.MaxOpenRounds)
	case !(l.BadVoteRate > 0) || math.IsInf(l.BadVoteRate, 0):
		return rangeErr("limits.bad_vote_rate", "%v must be a positive number", l.BadVoteRate)
	case l.BadVoteBurst < 1:
		return rangeErr("limits.bad_vote_burst", "%d must be at least 1", l.BadVoteBurst)
	case l.MaxSessionsPerKeeper < 1:
		return rangeErr("limits.max_sessions_per_keeper", "%d must be at least 1", l.MaxSessionsPerKeeper)
	case l.MaxStreamsPerAddress < 1:
		return rangeErr("limits.max_streams_per_address", "%d must be at least 1", l.MaxStreamsPerAddress)
	case l.MaxStreams < l.MaxStreamsPerAddress:
		return rangeErr("limits.max_streams", "%d is below max_streams_per_address (%d)", l.MaxStreams, l.MaxStreamsPerAddress)
	case l.MaxUnbondedKeepers < 0:
		return rangeErr("limits.max_unbonded_keepers", "%d is negative", l.MaxUnbondedKeepers)
	case l.RegistrationBytesPerHour < 1:
		return rangeErr("limits.registration_bytes_per_hour", "%d must be at least 1", l.RegistrationBytesPerHour)
	case l.MaxRegisteredBytes < 1:
		return rangeErr("limits.max_registered_bytes", "%d must be at least 1", l.MaxRegisteredBytes)
	}
	n := c.Network
	switch {
	case n.Listen == "":
		return rangeErr("network.listen", "must not be empty")
	case n.PullGrace < 1:
		return rangeErr("network.pull_grace", "%d seconds must be at least 1", n.PullGrace)
	case n.MaxPullWait < 1 || n.MaxPullWait >= n.PullGrace:
		return rangeErr("network.max_pull_wait", "%d seconds must be in 1..pull_grace-1", n.MaxPullWait)
	case n.SessionSkew < 1:
		return rangeErr("network.session_skew", "%d seconds must be at least 1", n.SessionSkew)
	case n.MaxTxsPerBlock < 1:
		return rangeErr("network.max_txs_per_block", "%d must be at least 1", n.MaxTxsPerBlock)
	case n.TLSCert != "" && n.TLSKey == "":
		return rangeErr("network.tls_key", "must be set with network.tls_cert")
	case n.TLSKey != "" && n.TLSCert == "":
		return rangeErr("network.tls_cert", "must be set with network.tls_key")
	}
	ch := c.Challenges
	switch {
	case !(ch.Rate >= 0 && ch.Rate <= 10):
		return rangeErr("challenges.rate", "%v is outside 0..10", ch.Rate)
	case ch.Interval < 1 || ch.Interval > 86400:
		return rangeErr("challenges.interval", "%d seconds is outside 1..86400", ch.Interval)
	case !(ch.CPUBudget > 0 && ch.CPUBudget <= 1):
		return rangeErr("challenges.cpu_budget", "%v is outside (0, 1]", ch.CPUBudget)
	case !(ch.ComputeShare >= 0 && ch.ComputeShare <= 1):
		return rangeErr("challenges.compute_share", "%v is outside 0..1", ch.ComputeShare)
	}
	return nil
}

// PullGraceDuration is network.pull_grace as a duration.
func (n Network) PullGraceDuration() time.Duration { return seconds(n.PullGrace) }

// MaxPullWaitDuration is network.max_pull_wait as a duration.
func (n Network) MaxPullWaitDuration() time.Duration { return seconds(n.MaxPullWait) }

// SessionSkewDuration is network.session_skew as a duration.
func (n Network) SessionSkewDuration() time.Duration { return seconds(n.SessionSkew) }

func seconds(s int64) time.Duration { return time.Duration(s) * time.Second }
