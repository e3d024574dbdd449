package config

import (
	"errors"
	"strings"
	"testing"

	"github.com/lightkeeper-net/lightkeeper/protocol"
	"google.golang.org/protobuf/proto"
)

// The economy's defaults are the state machine's: a chain started from an
// empty config.toml and one started from protocol.DefaultParams agree.
func TestEconomyDefaultsMatchState(t *testing.T) {
	p := Default().Params()
	d := protocol.DefaultParams()
	if !proto.Equal(p.Staking, d.Staking) || !proto.Equal(p.Rewards, d.Rewards) || !proto.Equal(p.Slashing, d.Slashing) ||
		!proto.Equal(p.Compute, d.Compute) {
		t.Fatalf("config defaults\n%v\n%v\n%v\nstate defaults\n%v\n%v\n%v", p.Staking, p.Rewards, p.Slashing, d.Staking, d.Rewards, d.Slashing)
	}
}

func TestEconomyErrorsNameTheKey(t *testing.T) {
	for _, tc := range []struct{ text, key string }{
		{"[staking]\nmin_self_bond = 0\n", "staking.min_self_bond"},
		{"[staking]\nmin_self_bond = -5\n", "staking.min_self_bond"},
		{"[staking]\nepoch_length = 0\n", "staking.epoch_length"},
		{"[staking]\nunbonding_period = 999999999999\n", "staking.unbonding_period"},
		{"[staking]\nmax_guarantees = 0\n", "staking.max_guarantees"},
		{"[staking]\nelectability_threshold_bps = 10001\n", "staking.electability_threshold_bps"},
		{"[staking]\nwork_units_plonk = 0\n", "staking.work_units_plonk"},
		{"[staking]\nbogus = 1\n", "staking.bogus"},
		{"[rewards]\nuptime_ema_alpha_bps = 0\n", "rewards.uptime_ema_alpha_bps"},
		{"[rewards]\nuptime_exponent = 65\n", "rewards.uptime_exponent"},
		{"[slashing]\nslash_incorrect_bps = 20000\n", "slashing.slash_incorrect_bps"},
		{"[slashing]\ndowntime_max_missed = 100\n", "slashing.downtime_max_missed"},
		{"[slashing]\ndowntime_jail = 0\n", "slashing.downtime_jail"},
		{"[staking]\nfuel_per_unit = 0\n", "staking.fuel_per_unit"},
		{"[compute]\nmax_call_depth = 2000\n", "compute.max_call_depth"},
		{"[compute]\nmax_output_bytes = 65537\n", "compute.max_output_bytes"},
		{"[compute]\nmax_fuel = -1\n", "compute.max_fuel"},
		{"[compute]\nmax_module_bytes = 4\n", "compute.max_module_bytes"},
		{"[compute]\nmax_input_bytes = 17000000\n", "compute.max_input_bytes"},
		{"[compute]\nmax_memory_pages = 0\n", "compute.max_memory_pages"},
		{"[compute]\nbogus = 1\n", "compute.bogus"},
	} {
		_, err := Parse(tc.text)
		if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tc.key) {
			t.Errorf("%q: error %v does not name %q", tc.text, err, tc.key)
		}
	}
	c, err := Parse("[staking]\nfee_per_work_unit = 5\nepoch_length = 60\n[slashing]\ndowntime_jail = 30\n")
	if err != nil {
		t.Fatal(err)
	}
	p := c.Params()
	if p.Staking.FeePerWorkUnit != 5 || p.Staking.EpochLength.AsDuration().Seconds() != 60 || p.Slashing.DowntimeJail.AsDuration().Seconds() != 30 {
		t.Fatalf("params %v", p)
	}
}
