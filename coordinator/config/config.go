// Package config reads the coordinator's config.toml (docs/design.md §13). Every key
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
	"github.com/lightkeeper-net/lightkeeper/protocol"
	"github.com/lightkeeper-net/lightkeeper/verifier/compute"
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
	Staking         Staking         `toml:"staking"`
	Rewards         Rewards         `toml:"rewards"`
	Slashing        Slashing        `toml:"slashing"`
	Compute         Compute         `toml:"compute"`
	Challenges      Challenges      `toml:"challenges"`
}

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

// Compute holds the consensus limits of COMPUTE rounds (docs/design.md §3,
// docs/compute.md). They are chain parameters, stored at genesis like
// [consensus]: every keeper must check and run programs under the same
// values.
type Compute struct {
	MaxModuleBytes   int64 `toml:"max_module_bytes"`
	MaxMemoryPages   int64 `toml:"max_memory_pages"`
	MaxTableElements int64 `toml:"max_table_elements"`
	MaxCallDepth     int64 `toml:"max_call_depth"`
	MaxOutputBytes   int64 `toml:"max_output_bytes"`
	MaxFuel          int64 `toml:"max_fuel"`
	MaxInputBytes    int64 `toml:"max_input_bytes"`
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

// Staking holds the economy's bonding, limit, group and election rules
// (docs/design.md §9). Durations are seconds; rates are basis points; amounts are
// in the smallest token unit.
type Staking struct {
	MinSelfBond              int64 `toml:"min_self_bond"`
	UnbondingPeriod          int64 `toml:"unbonding_period"` // seconds
	MaxUnbondingEntries      int64 `toml:"max_unbonding_entries"`
	MaxGuarantees            int64 `toml:"max_guarantees"`
	MaxGroupSize             int64 `toml:"max_group_size"`
	EpochLength              int64 `toml:"epoch_length"` // seconds
	MaxElected               int64 `toml:"max_elected"`
	ElectabilityThresholdBps int64 `toml:"electability_threshold_bps"`
	StakePerUnit             int64 `toml:"stake_per_unit"`
	InitialCapacity          int64 `toml:"initial_capacity"`
	CapacityEmaAlphaBps      int64 `toml:"capacity_ema_alpha_bps"`
	FeePerWorkUnit           int64 `toml:"fee_per_work_unit"`
	MinTxFee                 int64 `toml:"min_tx_fee"`
	WorkUnitsGroth16         int64 `toml:"work_units_groth16"`
	WorkUnitsPlonk           int64 `toml:"work_units_plonk"`
	FuelPerUnit              int64 `toml:"fuel_per_unit"`
}

// Rewards holds the epoch reward rules.
type Rewards struct {
	EpochIssuance     int64 `toml:"epoch_issuance"`
	IssuanceCap       int64 `toml:"issuance_cap"`
	UptimeGraceBps    int64 `toml:"uptime_grace_bps"`
	UptimeEmaAlphaBps int64 `toml:"uptime_ema_alpha_bps"`
	UptimeExponent    int64 `toml:"uptime_exponent"`
}

// Slashing holds the penalties.
type Slashing struct {
	SlashIncorrectBps     int64 `toml:"slash_incorrect_bps"`
	SlashEquivocationBps  int64 `toml:"slash_equivocation_bps"`
	SlashReporterShareBps int64 `toml:"slash_reporter_share_bps"`
	DowntimeWindow        int64 `toml:"downtime_window"`
	DowntimeMaxMissed     int64 `toml:"downtime_max_missed"`
	DowntimeJail          int64 `toml:"downtime_jail"`      // seconds
	ForgivenessPeriod     int64 `toml:"forgiveness_period"` // seconds
}

// Default returns the configuration with every key at its default.
func Default() Config {
	lim := protocol.DefaultLimits()
	cl := compute.DefaultLimits()
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
		Staking: Staking{
			MinSelfBond:              100,
			UnbondingPeriod:          3 * 86400,
			MaxUnbondingEntries:      100,
			MaxGuarantees:            16,
			MaxGroupSize:             5,
			EpochLength:              86400,
			MaxElected:               100,
			ElectabilityThresholdBps: 10,
			StakePerUnit:             1000,
			InitialCapacity:          1000,
			CapacityEmaAlphaBps:      5000,
			FeePerWorkUnit:           0,
			MinTxFee:                 0,
			WorkUnitsGroth16:         1,
			WorkUnitsPlonk:           2,
			FuelPerUnit:              1_000_000,
		},
		Rewards: Rewards{
			EpochIssuance:     100_000,
			IssuanceCap:       0,
			UptimeGraceBps:    500,
			UptimeEmaAlphaBps: 1000,
			UptimeExponent:    10,
		},
		Slashing: Slashing{
			SlashIncorrectBps:     100,
			SlashEquivocationBps:  500,
			SlashReporterShareBps: 1000,
			DowntimeWindow:        100,
			DowntimeMaxMissed:     50,
			DowntimeJail:          600,
			ForgivenessPeriod:     30 * 86400,
		},
		Compute: Compute{
			MaxModuleBytes:   int64(cl.MaxModuleBytes),
			MaxMemoryPages:   int64(cl.MaxMemoryPages),
			MaxTableElements: int64(cl.MaxTableElements),
			MaxCallDepth:     int64(cl.MaxCallDepth),
			MaxOutputBytes:   int64(cl.MaxOutputBytes),
			MaxFuel:          int64(cl.MaxFuel),
			MaxInputBytes:    1 << 20,
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
	return c.validateEconomy()
}

// validateEconomy checks the [staking], [rewards], [slashing] and [compute] keys: no
// key may be negative, durations are whole seconds of at most ten years,
// and the state machine's own validation (protocol.ValidateParams, which
// names the same keys) does the rest.
func (c Config) validateEconomy() error {
	for _, kv := range c.economyKeys() {
		if kv.v < 0 {
			return rangeErr(kv.key, "%d is negative", kv.v)
		}
		if kv.seconds && kv.v > 10*365*86400 {
			return rangeErr(kv.key, "%d seconds is more than ten years", kv.v)
		}
		if !kv.seconds && kv.v > 1<<62 {
			return rangeErr(kv.key, "%d is too large", kv.v)
		}
	}
	var pe *protocol.ParamError
	if err := protocol.ValidateParams(c.Params()); errors.As(err, &pe) {
		return rangeErr(pe.Field, "%s", pe.Reason)
	} else if err != nil {
		return fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	return nil
}

type keyValue struct {
	key     string
	v       int64
	seconds bool
}

func (c Config) economyKeys() []keyValue {
	s, r, sl := c.Staking, c.Rewards, c.Slashing
	return []keyValue{
		{"staking.min_self_bond", s.MinSelfBond, false},
		{"staking.unbonding_period", s.UnbondingPeriod, true},
		{"staking.max_unbonding_entries", s.MaxUnbondingEntries, false},
		{"staking.max_guarantees", s.MaxGuarantees, false},
		{"staking.max_group_size", s.MaxGroupSize, false},
		{"staking.epoch_length", s.EpochLength, true},
		{"staking.max_elected", s.MaxElected, false},
		{"staking.electability_threshold_bps", s.ElectabilityThresholdBps, false},
		{"staking.stake_per_unit", s.StakePerUnit, false},
		{"staking.initial_capacity", s.InitialCapacity, false},
		{"staking.capacity_ema_alpha_bps", s.CapacityEmaAlphaBps, false},
		{"staking.fee_per_work_unit", s.FeePerWorkUnit, false},
		{"staking.min_tx_fee", s.MinTxFee, false},
		{"staking.work_units_groth16", s.WorkUnitsGroth16, false},
		{"staking.work_units_plonk", s.WorkUnitsPlonk, false},
		{"staking.fuel_per_unit", s.FuelPerUnit, false},
		{"compute.max_module_bytes", c.Compute.MaxModuleBytes, false},
		{"compute.max_memory_pages", c.Compute.MaxMemoryPages, false},
		{"compute.max_table_elements", c.Compute.MaxTableElements, false},
		{"compute.max_call_depth", c.Compute.MaxCallDepth, false},
		{"compute.max_output_bytes", c.Compute.MaxOutputBytes, false},
		{"compute.max_fuel", c.Compute.MaxFuel, false},
		{"compute.max_input_bytes", c.Compute.MaxInputBytes, false},
		{"rewards.epoch_issuance", r.EpochIssuance, false},
		{"rewards.issuance_cap", r.IssuanceCap, false},
		{"rewards.uptime_grace_bps", r.UptimeGraceBps, false},
		{"rewards.uptime_ema_alpha_bps", r.UptimeEmaAlphaBps, false},
		{"rewards.uptime_exponent", r.UptimeExponent, false},
		{"slashing.slash_incorrect_bps", sl.SlashIncorrectBps, false},
		{"slashing.slash_equivocation_bps", sl.SlashEquivocationBps, false},
		{"slashing.slash_reporter_share_bps", sl.SlashReporterShareBps, false},
		{"slashing.downtime_window", sl.DowntimeWindow, false},
		{"slashing.downtime_max_missed", sl.DowntimeMaxMissed, false},
		{"slashing.downtime_jail", sl.DowntimeJail, true},
		{"slashing.forgiveness_period", sl.ForgivenessPeriod, true},
	}
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
		Staking:                  c.stakingParams(),
		Rewards:                  c.rewardParams(),
		Slashing:                 c.slashingParams(),
		Compute:                  c.computeParams(),
	}
}

func (c Config) computeParams() *lightkeeperv1.ComputeParams {
	x := c.Compute
	return &lightkeeperv1.ComputeParams{
		MaxModuleBytes:   u64(x.MaxModuleBytes),
		MaxMemoryPages:   u32(x.MaxMemoryPages),
		MaxTableElements: u32(x.MaxTableElements),
		MaxCallDepth:     u32(x.MaxCallDepth),
		MaxOutputBytes:   u32(x.MaxOutputBytes),
		MaxFuel:          u64(x.MaxFuel),
		MaxInputBytes:    u64(x.MaxInputBytes),
	}
}

// u32 clamps a validated key into a uint32 (values beyond it fail
// validation in the state machine first, naming the key).
func u32(v int64) uint32 {
	if v < 0 || v > math.MaxUint32 {
		return math.MaxUint32
	}
	return uint32(v)
}

func u64(v int64) uint64 {
	if v < 0 {
		return 0
	}
	return uint64(v)
}

func secs(v int64) *durationpb.Duration { return durationpb.New(time.Duration(v) * time.Second) }

func (c Config) stakingParams() *lightkeeperv1.StakingParams {
	s := c.Staking
	return &lightkeeperv1.StakingParams{
		MinSelfBond:              u64(s.MinSelfBond),
		UnbondingPeriod:          secs(s.UnbondingPeriod),
		MaxUnbondingEntries:      u32(s.MaxUnbondingEntries),
		MaxGuarantees:            u32(s.MaxGuarantees),
		MaxGroupSize:             u32(s.MaxGroupSize),
		EpochLength:              secs(s.EpochLength),
		MaxElected:               u32(s.MaxElected),
		ElectabilityThresholdBps: u32(s.ElectabilityThresholdBps),
		StakePerUnit:             u64(s.StakePerUnit),
		InitialCapacity:          u64(s.InitialCapacity),
		CapacityEmaAlphaBps:      u32(s.CapacityEmaAlphaBps),
		FeePerWorkUnit:           u64(s.FeePerWorkUnit),
		MinTxFee:                 u64(s.MinTxFee),
		WorkUnitsGroth16:         u64(s.WorkUnitsGroth16),
		WorkUnitsPlonk:           u64(s.WorkUnitsPlonk),
		FuelPerUnit:              u64(s.FuelPerUnit),
	}
}

func (c Config) rewardParams() *lightkeeperv1.RewardParams {
	r := c.Rewards
	return &lightkeeperv1.RewardParams{
		EpochIssuance:     u64(r.EpochIssuance),
		IssuanceCap:       u64(r.IssuanceCap),
		UptimeGraceBps:    u32(r.UptimeGraceBps),
		UptimeEmaAlphaBps: u32(r.UptimeEmaAlphaBps),
		UptimeExponent:    u32(r.UptimeExponent),
	}
}

func (c Config) slashingParams() *lightkeeperv1.SlashingParams {
	s := c.Slashing
	return &lightkeeperv1.SlashingParams{
		SlashIncorrectBps:     u32(s.SlashIncorrectBps),
		SlashEquivocationBps:  u32(s.SlashEquivocationBps),
		SlashReporterShareBps: u32(s.SlashReporterShareBps),
		DowntimeWindow:        u32(s.DowntimeWindow),
		DowntimeMaxMissed:     u32(s.DowntimeMaxMissed),
		DowntimeJail:          secs(s.DowntimeJail),
		ForgivenessPeriod:     secs(s.ForgivenessPeriod),
	}
}

// VerifierLimits returns the limits the coordinator checks requests against.
func (c Config) VerifierLimits() protocol.Limits {
	return protocol.Limits{
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
