package client

import (
	"context"
	"errors"
	"strconv"
	"time"

	"connectrpc.com/connect"
)

// RetryAfterHeader carries the coordinator's hint, in seconds, of when an
// Unavailable request is worth retrying (as HTTP's Retry-After). It
// arrives in the error's metadata.
const RetryAfterHeader = "Retry-After"

// Retry backoff bounds: a refused or unreachable coordinator is asked
// again after 100 ms, then twice as long each time up to 2 s, or after the
// coordinator's Retry-After hint when it gives one (capped at 5 s).
const (
	retryMin = 100 * time.Millisecond
	retryMax = 2 * time.Second
	hintMax  = 5 * time.Second
)

// Retryable reports whether a request that failed with err may be sent
// again: the coordinator said Unavailable (restarting, or no eligible
// keepers yet), or it could not be reached or the connection broke before
// an answer (a transport error, not one the coordinator sent). Every
// retried request here is idempotent: a round resubmitted with the same
// client nonce is the same round, a key or program registered twice is
// the same record.
func Retryable(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	switch connect.CodeOf(err) {
	case connect.CodeUnavailable:
		return true
	case connect.CodeUnknown, connect.CodeInternal, connect.CodeAborted, connect.CodeCanceled:
		// Not sent by the coordinator: the connection failed mid-call
		// (connect-go reports a reset connection as canceled; a canceled
		// context is excluded above, and retry checks the caller's).
		return !connect.IsWireError(err)
	}
	return false
}

// RetryDelay is how long to wait before attempt+1 (attempt counts from 1):
// the coordinator's Retry-After hint if err has one, else exponential
// backoff.
func RetryDelay(err error, attempt int) time.Duration {
	var ce *connect.Error
	if errors.As(err, &ce) {
		if s, perr := strconv.Atoi(ce.Meta().Get(RetryAfterHeader)); perr == nil && s >= 0 {
			return min(time.Duration(s)*time.Second, hintMax)
		}
	}
	d := retryMin
	for i := 1; i < attempt && d < retryMax; i++ {
		d *= 2
	}
	return min(d, retryMax)
}

// retry calls f until it succeeds, fails with an error that is not
// Retryable, or ctx is done (then it returns f's last error, so the
// caller sees why, not only that time ran out). onRetry, if set, sees each
// failure that is retried.
func retry[T any](ctx context.Context, op string, onRetry func(op string, err error), f func() (T, error)) (T, error) {
	for attempt := 1; ; attempt++ {
		v, err := f()
		if err == nil || !Retryable(err) || ctx.Err() != nil {
			return v, err
		}
		if onRetry != nil {
			onRetry(op, err)
		}
		t := time.NewTimer(RetryDelay(err, attempt))
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return v, err
		}
	}
}
