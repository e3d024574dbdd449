package protocol

import (
	"fmt"
	"time"

	lightkeeperv1 "github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1"
	"google.golang.org/protobuf/types/known/durationpb"
)

// Bounds that keep every computation of the machine inside int64/uint64
// (reputation·ppm, committee seat indexes) and that reject configuration
// mistakes early.
const (
	// MaxCommitteeSize bounds total_validators and compute_validators.
	MaxCommitteeSize = 1000
	// MaxReputation bounds reputation_max (reputation·1e6 must fit int64).
	MaxReputation = 1_000_000_000_000
	// MaxVerificationTimeout bounds verification_timeout.
	MaxVerificationTimeout = 24 * time.Hour
	// BPS is the basis-point denominator: stake_weight_bps +
	// reputation_weight_bps must equal it.
	BPS = 10_000
	// PPM is the parts-per-million denominator of the daily decay.
	PPM = 1_000_000
)

// DefaultParams returns the chain parameters a new genesis gets (the one
// definition of every default; docs/design.md §3 and §13): a 7-of-10
// committee (3 for compute rounds), a 30 s verification timeout, reputation
// in 100..10,000 starting at 1,000 with a floor of 200 for eligibility,
// +10 (+5 consensus bonus) for a correct vote, −50 for an incorrect one,
// −30 for a missed round, −0.1 % a day, and committee weights of 70 % stake
// and 30 % reputation; the economy's defaults are those of
// DefaultStakingParams, DefaultRewardParams and DefaultSlashingParams, the
// compute limits those of DefaultComputeParams and the size limits those of
// DefaultLimits.
func DefaultParams() *lightkeeperv1.ConsensusParams {
	return &lightkeeperv1.ConsensusParams{
		Threshold:                7,
		TotalValidators:          10,
		ComputeValidators:        3,
		VerificationTimeout:      durationpb.New(30 * time.Second),
		ReputationMin:            100,
		ReputationMax:            10_000,
		MinReputation:            200,
		ReputationInitial:        1_000,
		ReputationCorrect:        10,
		ReputationConsensusBonus: 5,
		ReputationIncorrect:      50,
		ReputationTimeout:        30,
		ReputationDailyDecayPpm:  1_000,
		StakeWeightBps:           7_000,
		ReputationWeightBps:      3_000,
		Staking:                  DefaultStakingParams(),
		Rewards:                  DefaultRewardParams(),
		Slashing:                 DefaultSlashingParams(),
		Compute:                  DefaultComputeParams(),
		SizeLimits:               DefaultSizeLimits(),
	}
}

// ValidateParams checks p and returns a *ParamError (matching
// ErrInvalidParams) naming the first bad field by its path in genesis.json
// ("params.threshold", "params.staking.min_self_bond").
func ValidateParams(p *lightkeeperv1.ConsensusParams) error {
	bad := func(field, format string, args ...any) error {
		return &ParamError{Field: field, Reason: fmt.Sprintf(format, args...)}
	}
	if p == nil {
		return bad("params", "missing")
	}
	if p.TotalValidators < 1 || p.TotalValidators > MaxCommitteeSize {
		return bad("params.total_validators", "must be in 1..%d (got %d)", MaxCommitteeSize, p.TotalValidators)
	}
	if p.Threshold < 1 || p.Threshold > p.TotalValidators {
		return bad("params.threshold", "must be in 1..total_validators (got %d, total_validators %d)", p.Threshold, p.TotalValidators)
	}
	if p.ComputeValidators < 1 || p.ComputeValidators > MaxCommitteeSize {
		return bad("params.compute_validators", "must be in 1..%d (got %d)", MaxCommitteeSize, p.ComputeValidators)
	}
	if p.VerificationTimeout == nil {
		return bad("params.verification_timeout", "missing")
	}
	if err := p.VerificationTimeout.CheckValid(); err != nil {
		return bad("params.verification_timeout", "%v", err)
	}
	if d := p.VerificationTimeout.AsDuration(); d < time.Millisecond || d > MaxVerificationTimeout {
		return bad("params.verification_timeout", "must be in 1ms..%s (got %s)", MaxVerificationTimeout, d)
	}
	if p.ReputationMin < 0 || p.ReputationMin > MaxReputation {
		return bad("params.reputation_min", "must be in 0..%d (got %d)", int64(MaxReputation), p.ReputationMin)
	}
	if p.ReputationMax < p.ReputationMin || p.ReputationMax > MaxReputation {
		return bad("params.reputation_max", "must be in reputation_min..%d (got %d, reputation_min %d)", int64(MaxReputation), p.ReputationMax, p.ReputationMin)
	}
	inBounds := func(field string, v int64) error {
		if v < p.ReputationMin || v > p.ReputationMax {
			return bad(field, "must be within reputation bounds %d..%d (got %d)", p.ReputationMin, p.ReputationMax, v)
		}
		return nil
	}
	if err := inBounds("params.min_reputation", p.MinReputation); err != nil {
		return err
	}
	if err := inBounds("params.reputation_initial", p.ReputationInitial); err != nil {
		return err
	}
	for _, d := range []struct {
		field string
		v     int64
	}{
		{"params.reputation_correct", p.ReputationCorrect},
		{"params.reputation_consensus_bonus", p.ReputationConsensusBonus},
		{"params.reputation_incorrect", p.ReputationIncorrect},
		{"params.reputation_timeout", p.ReputationTimeout},
	} {
		if d.v < 0 || d.v > MaxReputation {
			return bad(d.field, "must be in 0..%d (got %d)", int64(MaxReputation), d.v)
		}
	}
	if p.ReputationDailyDecayPpm < 0 || p.ReputationDailyDecayPpm > PPM {
		return bad("params.reputation_daily_decay_ppm", "must be in 0..%d (got %d)", PPM, p.ReputationDailyDecayPpm)
	}
	if p.StakeWeightBps > BPS {
		return bad("params.stake_weight_bps", "must be in 0..%d basis points (got %d)", BPS, p.StakeWeightBps)
	}
	if p.ReputationWeightBps > BPS || p.StakeWeightBps+p.ReputationWeightBps != BPS {
		return bad("params.reputation_weight_bps", "stake_weight_bps + reputation_weight_bps must be %d basis points (got %d + %d)", BPS, p.StakeWeightBps, p.ReputationWeightBps)
	}
	if err := validateEconomy(p); err != nil {
		return err
	}
	if p.SizeLimits != nil {
		if err := SizeLimitsOf(p).Validate(); err != nil {
			return err
		}
	}
	if err := validateSessions(p.Sessions); err != nil {
		return err
	}
	if err := validateChallenges(p.Challenges); err != nil {
		return err
	}
	return validateCompute(p)
}
