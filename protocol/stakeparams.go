package protocol

import (
	"fmt"
	"time"

	lightkeeperv1 "github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1"
	"google.golang.org/protobuf/types/known/durationpb"
)

// Bounds of the economy. MaxSupply bounds every sum of amounts, so no
// addition of token amounts can overflow a uint64, and products of an
// amount and a rate fit the 128-bit intermediates of mulDiv.
const (
	// MaxSupply is the most tokens that can ever exist (genesis + minted).
	MaxSupply = uint64(1) << 62
	// MaxDuration bounds every duration parameter of the economy.
	MaxDuration = 3650 * 24 * time.Hour
	// maxRateParam bounds per-unit amounts (stake_per_unit, fees, issuance).
	maxRateParam = uint64(1) << 50
	// UptimeOne is 1.0 in the uptime fixed point (parts per million).
	UptimeOne = 1_000_000
	// MilliUnits is the capacity fixed point: capacity_milli = units × 1000.
	MilliUnits = 1000
)

// DefaultStakingParams returns the [staking] defaults (docs/design.md §9): a
// minimum self-bond of 100, a 3-day unbonding period (100 entries per
// account at most), 16 guarantees per guarantor, groups of 5, daily epochs
// electing up to 100 keepers over a 0.1 % threshold, 1,000 tokens of stake
// limit per work unit of capacity with a presumed initial capacity (for
// genesis keepers only: the bootstrap allowance) of
// 1,000 units, capacity EMA α = 0.5, no fees, groth16 = 1 and plonk = 2
// work units, and one work unit per million fuel of a compute round.
func DefaultStakingParams() *lightkeeperv1.StakingParams {
	return &lightkeeperv1.StakingParams{
		MinSelfBond:              100,
		UnbondingPeriod:          durationpb.New(3 * 24 * time.Hour),
		MaxUnbondingEntries:      100,
		MaxGuarantees:            16,
		MaxGroupSize:             5,
		EpochLength:              durationpb.New(24 * time.Hour),
		MaxElected:               100,
		ElectabilityThresholdBps: 10,
		StakePerUnit:             1_000,
		InitialCapacity:          1_000,
		CapacityEmaAlphaBps:      5_000,
		FeePerWorkUnit:           0,
		MinTxFee:                 0,
		WorkUnitsGroth16:         1,
		WorkUnitsPlonk:           2,
		FuelPerUnit:              1_000_000,
	}
}

// DefaultRewardParams returns the [rewards] defaults: 100,000 tokens minted
// per epoch without a cap, uptime grace 5 %, uptime EMA α = 0.1, exponent 10.
func DefaultRewardParams() *lightkeeperv1.RewardParams {
	return &lightkeeperv1.RewardParams{
		EpochIssuance:     100_000,
		IssuanceCap:       0,
		UptimeGraceBps:    500,
		UptimeEmaAlphaBps: 1_000,
		UptimeExponent:    10,
	}
}

// DefaultSlashingParams returns the [slashing] defaults: 1 % for an
// incorrect vote, 5 % for equivocation with 10 % of it to the reporter,
// jail for 10 minutes after missing more than 50 of the last 100 assigned
// rounds, and a 30-day forgiveness period.
func DefaultSlashingParams() *lightkeeperv1.SlashingParams {
	return &lightkeeperv1.SlashingParams{
		SlashIncorrectBps:     100,
		SlashEquivocationBps:  500,
		SlashReporterShareBps: 1_000,
		DowntimeWindow:        100,
		DowntimeMaxMissed:     50,
		DowntimeJail:          durationpb.New(10 * time.Minute),
		ForgivenessPeriod:     durationpb.New(30 * 24 * time.Hour),
	}
}

// validateEconomy checks the staking, rewards and slashing parameters.
func validateEconomy(p *lightkeeperv1.ConsensusParams) error {
	bad := func(field, format string, args ...any) error {
		return &ParamError{Field: field, Reason: fmt.Sprintf(format, args...)}
	}
	dur := func(field string, d *durationpb.Duration) error {
		if d == nil {
			return bad(field, "missing")
		}
		if err := d.CheckValid(); err != nil {
			return bad(field, "%v", err)
		}
		if v := d.AsDuration(); v < time.Millisecond || v > MaxDuration {
			return bad(field, "must be in 1ms..%s (got %s)", MaxDuration, v)
		}
		return nil
	}
	type u64 struct {
		field  string
		v, lo  uint64
		hi     uint64
		suffix string
	}
	check := func(list []u64) error {
		for _, c := range list {
			if c.v < c.lo || c.v > c.hi {
				return bad(c.field, "must be in %d..%d%s (got %d)", c.lo, c.hi, c.suffix, c.v)
			}
		}
		return nil
	}
	s := p.Staking
	if s == nil {
		return bad("params.staking", "missing")
	}
	for _, d := range []struct {
		f string
		d *durationpb.Duration
	}{{"params.staking.unbonding_period", s.UnbondingPeriod}, {"params.staking.epoch_length", s.EpochLength}} {
		if err := dur(d.f, d.d); err != nil {
			return err
		}
	}
	if err := check([]u64{
		{"params.staking.min_self_bond", s.MinSelfBond, 1, MaxSupply, ""},
		{"params.staking.max_unbonding_entries", uint64(s.MaxUnbondingEntries), 1, 10_000, ""},
		{"params.staking.max_guarantees", uint64(s.MaxGuarantees), 1, 1_000, ""},
		{"params.staking.max_group_size", uint64(s.MaxGroupSize), 1, 100, ""},
		{"params.staking.max_elected", uint64(s.MaxElected), 1, 10_000, ""},
		{"params.staking.electability_threshold_bps", uint64(s.ElectabilityThresholdBps), 0, BPS, " basis points"},
		{"params.staking.stake_per_unit", s.StakePerUnit, 1, maxRateParam, ""},
		{"params.staking.initial_capacity", s.InitialCapacity, 0, maxRateParam / MilliUnits, " work units"},
		{"params.staking.capacity_ema_alpha_bps", uint64(s.CapacityEmaAlphaBps), 1, BPS, " basis points"},
		{"params.staking.fee_per_work_unit", s.FeePerWorkUnit, 0, maxRateParam, ""},
		{"params.staking.min_tx_fee", s.MinTxFee, 0, maxRateParam, ""},
		{"params.staking.work_units_groth16", s.WorkUnitsGroth16, 1, 1_000, ""},
		{"params.staking.work_units_plonk", s.WorkUnitsPlonk, 1, 1_000, ""},
	}); err != nil {
		return err
	}
	r := p.Rewards
	if r == nil {
		return bad("params.rewards", "missing")
	}
	if err := check([]u64{
		{"params.rewards.epoch_issuance", r.EpochIssuance, 0, maxRateParam, ""},
		{"params.rewards.issuance_cap", r.IssuanceCap, 0, MaxSupply, ""},
		{"params.rewards.uptime_grace_bps", uint64(r.UptimeGraceBps), 0, BPS, " basis points"},
		{"params.rewards.uptime_ema_alpha_bps", uint64(r.UptimeEmaAlphaBps), 1, BPS, " basis points"},
		{"params.rewards.uptime_exponent", uint64(r.UptimeExponent), 1, 64, ""},
	}); err != nil {
		return err
	}
	sl := p.Slashing
	if sl == nil {
		return bad("params.slashing", "missing")
	}
	for _, d := range []struct {
		f string
		d *durationpb.Duration
	}{{"params.slashing.downtime_jail", sl.DowntimeJail}, {"params.slashing.forgiveness_period", sl.ForgivenessPeriod}} {
		if err := dur(d.f, d.d); err != nil {
			return err
		}
	}
	if err := check([]u64{
		{"params.slashing.slash_incorrect_bps", uint64(sl.SlashIncorrectBps), 0, BPS, " basis points"},
		{"params.slashing.slash_equivocation_bps", uint64(sl.SlashEquivocationBps), 0, BPS, " basis points"},
		{"params.slashing.slash_reporter_share_bps", uint64(sl.SlashReporterShareBps), 0, BPS, " basis points"},
		{"params.slashing.downtime_window", uint64(sl.DowntimeWindow), 1, 10_000, " rounds"},
	}); err != nil {
		return err
	}
	if sl.DowntimeMaxMissed >= sl.DowntimeWindow {
		return bad("params.slashing.downtime_max_missed", "must be in 0..downtime_window-1 (got %d, downtime_window %d)", sl.DowntimeMaxMissed, sl.DowntimeWindow)
	}
	return nil
}
