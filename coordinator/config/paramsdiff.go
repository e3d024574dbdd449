package config

import (
	"fmt"
	"strings"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/durationpb"

	lightkeeperv1 "github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1"
)

// paramKeys maps the top-level ConsensusParams fields to their
// config.toml keys; the nested messages (staking, rewards, slashing,
// compute) are sections whose keys are the fields' names.
var paramKeys = map[string]string{
	"threshold":                  "consensus.threshold",
	"total_validators":           "consensus.total_validators",
	"compute_validators":         "consensus.compute_validators",
	"verification_timeout":       "consensus.verification_timeout",
	"reputation_min":             "consensus.reputation_bounds",
	"reputation_max":             "consensus.reputation_bounds",
	"min_reputation":             "consensus.min_reputation",
	"reputation_initial":         "reputation.initial",
	"reputation_correct":         "reputation.correct",
	"reputation_consensus_bonus": "reputation.consensus_bonus",
	"reputation_incorrect":       "reputation.incorrect",
	"reputation_timeout":         "reputation.timeout",
	"reputation_daily_decay_ppm": "reputation.daily_decay_ppm",
	"stake_weight_bps":           "leader_selection.stake_weight",
	"reputation_weight_bps":      "leader_selection.reputation_weight",
}

// ParamsDiff lists the config.toml keys whose consensus parameters differ
// between stored (what a chain was created with) and current, each as
// "KEY: the chain has X, config.toml has Y", in field order. Values are
// as the chain stores them (durations in seconds, weights in basis
// points).
func ParamsDiff(stored, current *lightkeeperv1.ConsensusParams) []string {
	var out []string
	diffMessage(stored.ProtoReflect(), current.ProtoReflect(), "", &out)
	return out
}

func diffMessage(a, b protoreflect.Message, section string, out *[]string) {
	fields := a.Descriptor().Fields()
	for i := range fields.Len() {
		f := fields.Get(i)
		name := string(f.Name())
		key := section + "." + name
		if section == "" {
			key = paramKeys[name]
			if key == "" {
				key = name
			}
		}
		va, vb := a.Get(f), b.Get(f)
		if f.Kind() == protoreflect.MessageKind && !f.IsList() && !f.IsMap() {
			if _, isDuration := va.Message().Interface().(*durationpb.Duration); !isDuration {
				diffMessage(va.Message(), vb.Message(), name, out)
				continue
			}
			if !proto.Equal(va.Message().Interface(), vb.Message().Interface()) {
				*out = append(*out, fmt.Sprintf("%s: the chain has %v, config.toml has %v", key,
					va.Message().Interface().(*durationpb.Duration).AsDuration(), vb.Message().Interface().(*durationpb.Duration).AsDuration()))
			}
			continue
		}
		if !va.Equal(vb) {
			*out = append(*out, fmt.Sprintf("%s: the chain has %v, config.toml has %v", key, show(va), show(vb)))
		}
	}
}

func show(v protoreflect.Value) string {
	s := v.String()
	if strings.HasPrefix(s, "&") {
		return fmt.Sprint(v.Interface())
	}
	return s
}
