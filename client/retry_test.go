package client

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"connectrpc.com/connect"
)

func TestRetryable(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{nil, false},
		{connect.NewError(connect.CodeUnavailable, errors.New("restarting")), true},
		{fmt.Errorf("round refused: %w", connect.NewError(connect.CodeUnavailable, errors.New("no keepers"))), true},
		{connect.NewError(connect.CodeInvalidArgument, errors.New("public_inputs")), false},
		{connect.NewError(connect.CodeResourceExhausted, errors.New("rate limited")), false},
		{context.Canceled, false},
		{connect.NewError(connect.CodeUnavailable, context.DeadlineExceeded), false},
		// Not sent by the coordinator: a broken connection.
		{connect.NewError(connect.CodeUnknown, errors.New("connection reset")), true},
	} {
		if got := Retryable(tc.err); got != tc.want {
			t.Errorf("Retryable(%v) = %t, want %t", tc.err, got, tc.want)
		}
	}
}

func TestRetryDelay(t *testing.T) {
	plain := errors.New("unreachable")
	var last time.Duration
	for attempt := 1; attempt <= 10; attempt++ {
		d := RetryDelay(plain, attempt)
		if d < last || d < retryMin || d > retryMax {
			t.Fatalf("attempt %d: delay %v after %v; want growing within [%v, %v]", attempt, d, last, retryMin, retryMax)
		}
		last = d
	}
	if last != retryMax {
		t.Errorf("delay after 10 attempts %v, want the cap %v", last, retryMax)
	}
	hinted := connect.NewError(connect.CodeUnavailable, errors.New("busy"))
	hinted.Meta().Set(RetryAfterHeader, "3")
	if d := RetryDelay(hinted, 1); d != 3*time.Second {
		t.Errorf("Retry-After 3: delay %v", d)
	}
	hinted.Meta().Set(RetryAfterHeader, "3600")
	if d := RetryDelay(hinted, 1); d != hintMax {
		t.Errorf("Retry-After 3600: delay %v, want the cap %v", d, hintMax)
	}
}

// retry gives up at once on an error that is not Retryable, and returns
// the last error, not the context's, when time runs out.
func TestRetryStops(t *testing.T) {
	calls := 0
	_, err := retry(context.Background(), "op", nil, func() (int, error) {
		calls++
		return 0, connect.NewError(connect.CodeInvalidArgument, errors.New("bad"))
	})
	if calls != 1 || connect.CodeOf(err) != connect.CodeInvalidArgument {
		t.Errorf("non-retryable: %d calls, %v", calls, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	retried := 0
	_, err = retry(ctx, "op", func(string, error) { retried++; cancel() }, func() (int, error) {
		return 0, connect.NewError(connect.CodeUnavailable, errors.New("restarting"))
	})
	if retried != 1 || connect.CodeOf(err) != connect.CodeUnavailable {
		t.Errorf("canceled while retrying: %d retries, %v; want the last Unavailable", retried, err)
	}
}
