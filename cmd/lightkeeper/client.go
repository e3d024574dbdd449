package main

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/lightkeeper-net/lightkeeper/devtools/workload"
	lightkeeperv1 "github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1"
	"github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1/lightkeeperv1connect"
)

// clients bundles the API clients for one coordinator.
type clients struct {
	workload.Submitter
	ledger lightkeeperv1connect.LedgerServiceClient
	keeper lightkeeperv1connect.KeeperServiceClient
}

func newClients(url string) clients {
	url = strings.TrimRight(url, "/")
	h := mustAPIClient()
	return clients{
		Submitter: workload.NewSubmitter(h, url), // rounds, verifying keys, programs
		ledger:    lightkeeperv1connect.NewLedgerServiceClient(h, url),
		keeper:    lightkeeperv1connect.NewKeeperServiceClient(h, url),
	}
}

func randomNonce() string {
	b := make([]byte, 12)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// enumName strips the protobuf enum prefix: OUTCOME_APPROVED -> APPROVED.
func enumName(s, prefix string) string { return strings.TrimPrefix(s, prefix) }

func outcomeName(r *lightkeeperv1.Round) string {
	if r.GetPhase() == lightkeeperv1.RoundPhase_ROUND_PHASE_VOTING {
		return "PENDING"
	}
	return enumName(r.GetOutcome().String(), "OUTCOME_")
}

func printJSON(v any) error {
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func printProto(m proto.Message) error {
	b, err := protojson.MarshalOptions{Multiline: true, Indent: "  ", UseProtoNames: true}.Marshal(m)
	if err != nil {
		return err
	}
	_, err = fmt.Println(string(b))
	return err
}

// describe turns a Connect error into a one-line reason with its code,
// keeping any context wrapped around it.
func describe(err error) error {
	var ce *connect.Error
	if errors.As(err, &ce) {
		msg := err.Error()
		return fmt.Errorf("%s (%s)", strings.Replace(msg, ce.Error(), ce.Message(), 1), ce.Code())
	}
	return err
}
