package config_test

import (
	"strings"
	"testing"

	"github.com/lightkeeper-net/lightkeeper/coordinator/config"
)

func TestParamsDiffNamesKeys(t *testing.T) {
	a := config.Default()
	b := config.Default()
	if d := config.ParamsDiff(a.Params(), b.Params()); len(d) != 0 {
		t.Fatalf("equal params: %v", d)
	}
	b.Consensus.Threshold = 6
	b.Consensus.VerificationTimeout = 45
	b.Staking.MinSelfBond = 7
	b.LeaderSelection.StakeWeight, b.LeaderSelection.ReputationWeight = 0.6, 0.4
	got := strings.Join(config.ParamsDiff(a.Params(), b.Params()), "\n")
	for _, want := range []string{
		"consensus.threshold: the chain has 7, config.toml has 6",
		"consensus.verification_timeout: the chain has 30s, config.toml has 45s",
		"staking.min_self_bond: the chain has 100, config.toml has 7",
		"leader_selection.stake_weight: the chain has 7000, config.toml has 6000",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("diff lacks %q:\n%s", want, got)
		}
	}
}
