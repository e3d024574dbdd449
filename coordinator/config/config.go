// Package config reads the coordinator's config.toml (DESIGN §7). Every key
// has a default; an unknown key or an out-of-range value is an error at
// start that names the key.
package config

import (
	"errors"
	"fmt"
	"math"
	"os"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
	"google.golang.org/protobuf/types/known/durationpb"

	lightkeeperv1 "github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1"
	"github.com/lightkeeper-net/lightkeeper/verifier"
)

// ErrInvalid is wrapped by every validation error.
var ErrInvalid = errors.New("invalid configuration")

// Config is the whole config.toml.
type Config struct {
	Consensus       Consensus       `toml:"consensus"`
	LeaderSelection LeaderSelection `toml:"leader_selection"`
	Reputation      Reputation      `toml:"reputation"`
	Limits          Limits          `toml:"limits"`
	Network         Network         `toml:"network"`
}

// Consensus holds the round rules.
type Consensus struct {
	Threshold           uint32   `toml:"threshold"`
	TotalValidators     uint32   `toml:"total_validators"`
	ComputeValidators   uint32   `toml:"compute_validators"`
	VerificationTimeout int64    `toml:"verification_timeout"` // seconds
	ReputationBounds    [2]int64 `toml:"reputation_bounds"`
	MinReputation       int64    `toml:"min_reputation"`
}

// LeaderSelection holds the committee weights. They are written as
// fractions for readability and turned into basis points at load, so no
// float reaches the state machine.
type LeaderSelection struct {
	StakeWeight      float64 `toml:"stake_weight"`
	ReputationWeight float64 `toml:"reputation_weight"`
}

// Reputation holds the reputation table.
type Reputation struct {
	Initial        int64 `toml:"initial"`
	Correct        int64 `toml:"correct"`
	ConsensusBonus int64 `toml:"consensus_bonus"`
	Incorrect      int64 `toml:"incorrect"`
	Timeout        int64 `toml:"timeout"`
	DailyDecayPPM  int64 `toml:"daily_decay_ppm"`
}

// Limits protects the coordinator from oversized or abusive requests.
type Limits struct {
	MaxRequestBytes      int     `toml:"max_request_bytes"`
	MaxVerifyingKeyBytes int     `toml:"max_verifying_key_bytes"`
	MaxProofBytes        int     `toml:"max_proof_bytes"`
	MaxPublicInputBytes  int     `toml:"max_public_input_bytes"`
	MaxPublicInputs      int     `toml:"max_public_inputs"`
	SubmitRate           float64 `toml:"submit_rate"` // requests per second per client address
	SubmitBurst          int     `toml:"submit_burst"`
	MaxOpenRounds        int     `toml:"max_open_rounds"`
}

// Network holds the service's connection settings.
type Network struct {
	Listen         string `toml:"listen"`
	PullGrace      int64  `toml:"pull_grace"`    // seconds
	MaxPullWait    int64  `toml:"max_pull_wait"` // seconds
	SessionSkew    int64  `toml:"session_skew"`  // seconds
	MaxTxsPerBlock int    `toml:"max_txs_per_block"`
}

// Default returns the configuration with every key at its default.
func Default() Config {
	lim := verifier.DefaultLimits()
	return Config{
		Consensus: Consensus{
			Threshold:           7,
			TotalValidators:     10,
			ComputeValidators:   3,
			VerificationTimeout: 30,
			ReputationBounds:    [2]int64{100, 10000},
			MinReputation:       200,
		},
		LeaderSelection: LeaderSelection{StakeWeight: 0.7, ReputationWeight: 0.3},
		Reputation: Reputation{
			Initial: 1000, Correct: 10, ConsensusBonus: 5, Incorrect: 50, Timeout: 30, DailyDecayPPM: 1000,
		},
		Limits: Limits{
			MaxRequestBytes:      4 << 20,
			MaxVerifyingKeyBytes: lim.MaxVerifyingKeyBytes,
			MaxProofBytes:        lim.MaxProofBytes,
			MaxPublicInputBytes:  lim.MaxPublicInputBytes,
			MaxPublicInputs:      lim.MaxPublicInputs,
			SubmitRate:           200,
			SubmitBurst:          400,
			MaxOpenRounds:        10000,
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

func rangeErr(key string, format string, args ...any) error {
	return fmt.Errorf("%w: %s: %s", ErrInvalid, key, fmt.Sprintf(format, args...))
}

// Validate checks every value's range and names the first bad key.
func (c Config) Validate() error {
	cs := c.Consensus
	switch {
	case cs.TotalValidators < 1 || cs.TotalValidators > 100:
		return rangeErr("consensus.total_validators", "%d is outside 1..100", cs.TotalValidators)
	case cs.Threshold < 1 || cs.Threshold > cs.TotalValidators:
		return rangeErr("consensus.threshold", "%d is outside 1..total_validators (%d)", cs.Threshold, cs.TotalValidators)
	case cs.ComputeValidators < 1 || cs.ComputeValidators > 100:
		return rangeErr("consensus.compute_validators", "%d is outside 1..100", cs.ComputeValidators)
	case cs.VerificationTimeout < 1 || cs.VerificationTimeout > 86400:
		return rangeErr("consensus.verification_timeout", "%d seconds is outside 1..86400", cs.VerificationTimeout)
	case cs.ReputationBounds[0] < 0 || cs.ReputationBounds[0] >= cs.ReputationBounds[1]:
		return rangeErr("consensus.reputation_bounds", "[%d, %d] must be increasing and not negative", cs.ReputationBounds[0], cs.ReputationBounds[1])
	case cs.MinReputation < cs.ReputationBounds[0] || cs.MinReputation > cs.ReputationBounds[1]:
		return rangeErr("consensus.min_reputation", "%d is outside reputation_bounds", cs.MinReputation)
	}
	ls := c.LeaderSelection
	if ls.StakeWeight < 0 || ls.StakeWeight > 1 {
		return rangeErr("leader_selection.stake_weight", "%v is outside 0..1", ls.StakeWeight)
	}
	if ls.ReputationWeight < 0 || ls.ReputationWeight > 1 {
		return rangeErr("leader_selection.reputation_weight", "%v is outside 0..1", ls.ReputationWeight)
	}
	if bps(ls.StakeWeight)+bps(ls.ReputationWeight) != 10000 {
		return rangeErr("leader_selection", "stake_weight + reputation_weight = %v, must be 1", ls.StakeWeight+ls.ReputationWeight)
	}
	r := c.Reputation
	switch {
	case r.Initial < cs.ReputationBounds[0] || r.Initial > cs.ReputationBounds[1]:
		return rangeErr("reputation.initial", "%d is outside consensus.reputation_bounds", r.Initial)
	case r.Correct < 0:
		return rangeErr("reputation.correct", "%d is negative", r.Correct)
	case r.ConsensusBonus < 0:
		return rangeErr("reputation.consensus_bonus", "%d is negative", r.ConsensusBonus)
	case r.Incorrect < 0:
		return rangeErr("reputation.incorrect", "%d is negative (it is subtracted)", r.Incorrect)
	case r.Timeout < 0:
		return rangeErr("reputation.timeout", "%d is negative (it is subtracted)", r.Timeout)
	case r.DailyDecayPPM < 0 || r.DailyDecayPPM > 1_000_000:
		return rangeErr("reputation.daily_decay_ppm", "%d is outside 0..1000000", r.DailyDecayPPM)
	}
	l := c.Limits
	switch {
	case l.MaxRequestBytes < 1<<10 || l.MaxRequestBytes > 256<<20:
		return rangeErr("limits.max_request_bytes", "%d is outside 1 KiB..256 MiB", l.MaxRequestBytes)
	case l.MaxVerifyingKeyBytes < 1 || l.MaxVerifyingKeyBytes > l.MaxRequestBytes:
		return rangeErr("limits.max_verifying_key_bytes", "%d is outside 1..max_request_bytes", l.MaxVerifyingKeyBytes)
	case l.MaxProofBytes < 1 || l.MaxProofBytes > l.MaxRequestBytes:
		return rangeErr("limits.max_proof_bytes", "%d is outside 1..max_request_bytes", l.MaxProofBytes)
	case l.MaxPublicInputBytes < 1 || l.MaxPublicInputBytes > l.MaxRequestBytes:
		return rangeErr("limits.max_public_input_bytes", "%d is outside 1..max_request_bytes", l.MaxPublicInputBytes)
	case l.MaxPublicInputs < 1:
		return rangeErr("limits.max_public_inputs", "%d must be at least 1", l.MaxPublicInputs)
	case l.SubmitRate <= 0 || math.IsInf(l.SubmitRate, 0) || math.IsNaN(l.SubmitRate):
		return rangeErr("limits.submit_rate", "%v must be a positive number", l.SubmitRate)
	case l.SubmitBurst < 1:
		return rangeErr("limits.submit_burst", "%d must be at least 1", l.SubmitBurst)
	case l.MaxOpenRounds < 1:
		return rangeErr("limits.max_open_rounds", "%d must be at least 1", l.MaxOpenRounds)
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
	}
	return nil
}

// bps turns a fraction into basis points, rounding to the nearest point so
// that 0.7 (0.69999… in binary) is 7000.
func bps(f float64) uint32 { return uint32(math.Round(f * 10000)) }

// Params returns the state machine's parameters.
func (c Config) Params() *lightkeeperv1.ConsensusParams {
	return &lightkeeperv1.ConsensusParams{
		Threshold:                c.Consensus.Threshold,
		TotalValidators:          c.Consensus.TotalValidators,
		ComputeValidators:        c.Consensus.ComputeValidators,
		VerificationTimeout:      durationpb.New(time.Duration(c.Consensus.VerificationTimeout) * time.Second),
		ReputationMin:            c.Consensus.ReputationBounds[0],
		ReputationMax:            c.Consensus.ReputationBounds[1],
		MinReputation:            c.Consensus.MinReputation,
		ReputationInitial:        c.Reputation.Initial,
		ReputationCorrect:        c.Reputation.Correct,
		ReputationConsensusBonus: c.Reputation.ConsensusBonus,
		ReputationIncorrect:      c.Reputation.Incorrect,
		ReputationTimeout:        c.Reputation.Timeout,
		ReputationDailyDecayPpm:  c.Reputation.DailyDecayPPM,
		StakeWeightBps:           bps(c.LeaderSelection.StakeWeight),
		ReputationWeightBps:      bps(c.LeaderSelection.ReputationWeight),
	}
}

// VerifierLimits returns the limits the coordinator checks requests against.
func (c Config) VerifierLimits() verifier.Limits {
	return verifier.Limits{
		MaxVerifyingKeyBytes: c.Limits.MaxVerifyingKeyBytes,
		MaxProofBytes:        c.Limits.MaxProofBytes,
		MaxPublicInputBytes:  c.Limits.MaxPublicInputBytes,
		MaxPublicInputs:      c.Limits.MaxPublicInputs,
	}
}

// PullGraceDuration is network.pull_grace as a duration.
func (n Network) PullGraceDuration() time.Duration { return seconds(n.PullGrace) }

// MaxPullWaitDuration is network.max_pull_wait as a duration.
func (n Network) MaxPullWaitDuration() time.Duration { return seconds(n.MaxPullWait) }

// SessionSkewDuration is network.session_skew as a duration.
func (n Network) SessionSkewDuration() time.Duration { return seconds(n.SessionSkew) }

func seconds(s int64) time.Duration { return time.Duration(s) * time.Second }
