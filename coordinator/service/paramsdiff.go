package service

import (
	"fmt"
	"strings"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/durationpb"

	lightkeeperv1 "github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1"
)

// paramsDiff lists the chain parameters that differ between stored (what a
// data directory was created with) and given (genesis.json's params), each
// as "params.KEY: the chain has X, genesis.json has Y", in field order,
// named by their path in genesis.json (proto field names).
func paramsDiff(stored, given *lightkeeperv1.ConsensusParams) []string {
	var out []string
	diffMessage(stored.ProtoReflect(), given.ProtoReflect(), "params", &out)
	return out
}

func diffMessage(a, b protoreflect.Message, path string, out *[]string) {
	fields := a.Descriptor().Fields()
	for i := range fields.Len() {
		f := fields.Get(i)
		key := path + "." + string(f.Name())
		va, vb := a.Get(f), b.Get(f)
		if f.Kind() == protoreflect.MessageKind && !f.IsList() && !f.IsMap() {
			if _, isDuration := va.Message().Interface().(*durationpb.Duration); !isDuration {
				diffMessage(va.Message(), vb.Message(), key, out)
				continue
			}
			if !proto.Equal(va.Message().Interface(), vb.Message().Interface()) {
				*out = append(*out, fmt.Sprintf("%s: the chain has %v, genesis.json has %v", key,
					va.Message().Interface().(*durationpb.Duration).AsDuration(), vb.Message().Interface().(*durationpb.Duration).AsDuration()))
			}
			continue
		}
		if !va.Equal(vb) {
			*out = append(*out, fmt.Sprintf("%s: the chain has %v, genesis.json has %v", key, show(va), show(vb)))
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
