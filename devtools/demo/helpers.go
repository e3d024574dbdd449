package demo

import (
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/lightkeeper-net/lightkeeper/client"
	lightkeeperv1 "github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1"
)

// newClient is the demo's client of its devnet's coordinator (plain HTTP
// on loopback).
func newClient(url string) client.Client { return client.New(http.DefaultClient, url) }

var describe = client.Describe

func outcomeName(r *lightkeeperv1.Round) string {
	return client.OutcomeName(r.GetPhase(), r.GetOutcome())
}

// short is the first 12 digits of an id, as the CLI shows ids in tables.
func short(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}

// ppm formats parts per million as a decimal fraction, in integers.
func ppm(v uint32) string { return fmt.Sprintf("%d.%06d", v/1_000_000, v%1_000_000) }

// Percentile returns the p-th percentile of ds (nearest rank), rounded to
// the millisecond: the demo's and the bench's latency figures.
func Percentile(ds []time.Duration, p int) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	i := (p*len(s) + 99) / 100
	return s[max(0, min(len(s)-1, i-1))].Round(time.Millisecond)
}
