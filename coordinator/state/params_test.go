package state

import (
	"errors"
	"strings"
	"testing"
	"time"

	lightkeeperv1 "github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1"
	"github.com/lightkeeper-net/lightkeeper/protocol"
	"google.golang.org/protobuf/types/known/durationpb"
)

func TestDefaultParams(t *testing.T) {
	p := protocol.DefaultParams()
	if err := protocol.ValidateParams(p); err != nil {
		t.Fatal(err)
	}
	got := []int64{int64(p.Threshold), int64(p.TotalValidators), int64(p.ComputeValidators),
		p.VerificationTimeout.AsDuration().Milliseconds(), p.ReputationMin, p.ReputationMax, p.MinReputation,
		p.ReputationInitial, p.ReputationCorrect, p.ReputationConsensusBonus, p.ReputationIncorrect,
		p.ReputationTimeout, p.ReputationDailyDecayPpm, int64(p.StakeWeightBps), int64(p.ReputationWeightBps)}
	want := []int64{7, 10, 3, 30_000, 100, 10_000, 200, 1000, 10, 5, 50, 30, 1000, 7000, 3000}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("field %d: got %d, want %d", i, got[i], want[i])
		}
	}
}

func TestValidateParams(t *testing.T) {
	for _, tc := range []struct {
		field string
		mut   func(p *lightkeeperv1.ConsensusParams)
	}{
		{"params.total_validators", func(p *lightkeeperv1.ConsensusParams) { p.TotalValidators = 0 }},
		{"params.total_validators", func(p *lightkeeperv1.ConsensusParams) { p.TotalValidators = protocol.MaxCommitteeSize + 1 }},
		{"params.threshold", func(p *lightkeeperv1.ConsensusParams) { p.Threshold = 0 }},
		{"params.threshold", func(p *lightkeeperv1.ConsensusParams) { p.Threshold = 11 }},
		{"params.compute_validators", func(p *lightkeeperv1.ConsensusParams) { p.ComputeValidators = 0 }},
		{"params.verification_timeout", func(p *lightkeeperv1.ConsensusParams) { p.VerificationTimeout = nil }},
		{"params.verification_timeout", func(p *lightkeeperv1.ConsensusParams) { p.VerificationTimeout = durationpb.New(0) }},
		{"params.verification_timeout", func(p *lightkeeperv1.ConsensusParams) { p.VerificationTimeout = durationpb.New(-time.Second) }},
		{"params.verification_timeout", func(p *lightkeeperv1.ConsensusParams) { p.VerificationTimeout = durationpb.New(25 * time.Hour) }},
		{"params.reputation_min", func(p *lightkeeperv1.ConsensusParams) { p.ReputationMin = -1 }},
		{"params.reputation_max", func(p *lightkeeperv1.ConsensusParams) { p.ReputationMax = 99 }},
		{"params.reputation_max", func(p *lightkeeperv1.ConsensusParams) { p.ReputationMax = protocol.MaxReputation + 1 }},
		{"params.min_reputation", func(p *lightkeeperv1.ConsensusParams) { p.MinReputation = 10_001 }},
		{"params.min_reputation", func(p *lightkeeperv1.ConsensusParams) { p.MinReputation = 50 }},
		{"params.reputation_initial", func(p *lightkeeperv1.ConsensusParams) { p.ReputationInitial = 0 }},
		{"params.reputation_correct", func(p *lightkeeperv1.ConsensusParams) { p.ReputationCorrect = -1 }},
		{"params.reputation_consensus_bonus", func(p *lightkeeperv1.ConsensusParams) { p.ReputationConsensusBonus = -5 }},
		{"params.reputation_incorrect", func(p *lightkeeperv1.ConsensusParams) { p.ReputationIncorrect = -50 }},
		{"params.reputation_timeout", func(p *lightkeeperv1.ConsensusParams) { p.ReputationTimeout = protocol.MaxReputation + 1 }},
		{"params.reputation_daily_decay_ppm", func(p *lightkeeperv1.ConsensusParams) { p.ReputationDailyDecayPpm = protocol.PPM + 1 }},
		{"params.reputation_daily_decay_ppm", func(p *lightkeeperv1.ConsensusParams) { p.ReputationDailyDecayPpm = -1 }},
		{"params.stake_weight_bps", func(p *lightkeeperv1.ConsensusParams) { p.StakeWeightBps = 10_001 }},
		{"params.reputation_weight_bps", func(p *lightkeeperv1.ConsensusParams) { p.ReputationWeightBps = 2000 }},
		{"params.staking.fuel_per_unit", func(p *lightkeeperv1.ConsensusParams) { p.Staking.FuelPerUnit = 0 }},
		{"params.compute", func(p *lightkeeperv1.ConsensusParams) { p.Compute = nil }},
		{"params.compute.max_module_bytes", func(p *lightkeeperv1.ConsensusParams) { p.Compute.MaxModuleBytes = 8 }},
		{"params.compute.max_module_bytes", func(p *lightkeeperv1.ConsensusParams) { p.Compute.MaxModuleBytes = protocol.MaxComputeModuleBytes + 1 }},
		{"params.compute.max_memory_pages", func(p *lightkeeperv1.ConsensusParams) { p.Compute.MaxMemoryPages = 0 }},
		{"params.compute.max_memory_pages", func(p *lightkeeperv1.ConsensusParams) { p.Compute.MaxMemoryPages = 65_537 }},
		{"params.compute.max_table_elements", func(p *lightkeeperv1.ConsensusParams) { p.Compute.MaxTableElements = 10_000_001 }},
		{"params.compute.max_call_depth", func(p *lightkeeperv1.ConsensusParams) { p.Compute.MaxCallDepth = 0 }},
		{"params.compute.max_call_depth", func(p *lightkeeperv1.ConsensusParams) { p.Compute.MaxCallDepth = 1901 }},
		{"params.compute.max_output_bytes", func(p *lightkeeperv1.ConsensusParams) { p.Compute.MaxOutputBytes = 64<<10 + 1 }},
		{"params.compute.max_fuel", func(p *lightkeeperv1.ConsensusParams) { p.Compute.MaxFuel = 0 }},
		{"params.compute.max_fuel", func(p *lightkeeperv1.ConsensusParams) { p.Compute.MaxFuel = 1<<62 + 1 }},
		{"params.compute.max_input_bytes", func(p *lightkeeperv1.ConsensusParams) { p.Compute.MaxInputBytes = 16<<20 + 1 }},
	} {
		p := protocol.DefaultParams()
		tc.mut(p)
		err := protocol.ValidateParams(p)
		if err == nil {
			t.Errorf("%s: no error", tc.field)
			continue
		}
		if !errors.Is(err, ErrInvalidParams) || !strings.HasPrefix(err.Error(), tc.field+": ") {
			t.Errorf("%s: got %v", tc.field, err)
		}
		var pe *protocol.ParamError
		if !errors.As(err, &pe) || pe.Field != tc.field {
			t.Errorf("%s: not a protocol.ParamError for the field: %v", tc.field, err)
		}
	}
	// Edges that are valid.
	for _, mut := range []func(p *lightkeeperv1.ConsensusParams){
		func(p *lightkeeperv1.ConsensusParams) { p.Threshold = p.TotalValidators },
		func(p *lightkeeperv1.ConsensusParams) { p.StakeWeightBps, p.ReputationWeightBps = 10_000, 0 },
		func(p *lightkeeperv1.ConsensusParams) { p.ReputationDailyDecayPpm = 0 },
		func(p *lightkeeperv1.ConsensusParams) { p.VerificationTimeout = durationpb.New(time.Millisecond) },
		func(p *lightkeeperv1.ConsensusParams) { p.Compute.MaxOutputBytes, p.Compute.MaxInputBytes = 0, 0 },
		func(p *lightkeeperv1.ConsensusParams) { p.Compute.MaxCallDepth, p.Compute.MaxFuel = 1900, 1<<62 },
	} {
		p := protocol.DefaultParams()
		mut(p)
		if err := protocol.ValidateParams(p); err != nil {
			t.Errorf("valid params refused: %v", err)
		}
	}
	if err := protocol.ValidateParams(nil); !errors.Is(err, ErrInvalidParams) {
		t.Errorf("nil params: %v", err)
	}
	if _, _, err := New(withParams(testGenesis(1, 1), &lightkeeperv1.ConsensusParams{})); !errors.Is(err, ErrInvalidParams) {
		t.Errorf("New with zero params: %v", err)
	}
}
