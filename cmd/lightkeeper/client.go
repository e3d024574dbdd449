package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/lightkeeper-net/lightkeeper/client"
	lightkeeperv1 "github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1"
)

// newClient is the API client of the coordinator at url, over the HTTP
// client --ca chose.
func newClient(url string) client.Client { return client.New(mustAPIClient(), url) }

var (
	randomNonce = client.RandomNonce
	describe    = client.Describe
)

// enumName strips the protobuf enum prefix: OUTCOME_APPROVED -> APPROVED.
func enumName(s, prefix string) string { return strings.TrimPrefix(s, prefix) }

func outcomeName(r *lightkeeperv1.Round) string {
	return client.OutcomeName(r.GetPhase(), r.GetOutcome())
}

func printJSON(v any) error {
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func printProto(m proto.Message) error { return printProtoTo(os.Stdout, m) }

// printProtoTo prints m as JSON with protobuf's field names (snake_case),
// the one key style of every --json output.
func printProtoTo(w io.Writer, m proto.Message) error {
	b, err := protojson.MarshalOptions{Multiline: true, Indent: "  ", UseProtoNames: true}.Marshal(m)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(w, string(b))
	return err
}
