package service

import (
	"errors"
	"fmt"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
)

// strictJSON is the Connect JSON codec with unknown fields refused:
// connect-go's own discards them (protojson DiscardUnknown), so a typo
// such as {"pageSzie": 2} would silently mean {} and return 100 rounds.
// A misspelled field is InvalidArgument naming it instead. (The binary
// codec still skips unknown fields: that is how protobuf stays compatible
// across versions, and no one types binary by hand.)
type strictJSON struct{ name string }

// strictJSONCodecs replace both names connect-go registers for JSON.
var strictJSONCodecs = []connect.HandlerOption{
	connect.WithCodec(strictJSON{"json"}),
	connect.WithCodec(strictJSON{"json; charset=utf-8"}),
}

func (c strictJSON) Name() string { return c.name }

func (c strictJSON) Marshal(m any) ([]byte, error) {
	pm, ok := m.(proto.Message)
	if !ok {
		return nil, fmt.Errorf("%T is not a protobuf message", m)
	}
	return protojson.MarshalOptions{}.Marshal(pm)
}

func (c strictJSON) Unmarshal(b []byte, m any) error {
	pm, ok := m.(proto.Message)
	if !ok {
		return fmt.Errorf("%T is not a protobuf message", m)
	}
	if len(b) == 0 {
		return errors.New("empty body: want a JSON object, at least {}")
	}
	if err := (protojson.UnmarshalOptions{DiscardUnknown: false}).Unmarshal(b, pm); err != nil {
		return fmt.Errorf("request body: %w", err)
	}
	return nil
}
