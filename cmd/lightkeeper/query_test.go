package main

import (
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	lightkeeperv1 "github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1"
)

// query epoch shows full dates (RFC 3339, UTC): an epoch that started
// yesterday must not read as today.
func TestEpochShowsFullDates(t *testing.T) {
	started := time.Date(2026, 12, 3, 23, 59, 58, 0, time.UTC)
	var b strings.Builder
	printEpochTo(&b, &lightkeeperv1.GetEpochResponse{
		CurrentEpoch:     4,
		CurrentStartedAt: timestamppb.New(started),
		NextEpochAt:      timestamppb.New(started.Add(24 * time.Hour)),
	})
	want := "epoch 4 since 2026-12-03T23:59:58Z, next at 2026-12-04T23:59:58Z"
	if !strings.Contains(b.String(), want) {
		t.Fatalf("query epoch printed %q; want %q", b.String(), want)
	}
}
