package service

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"connectrpc.com/connect"

	"github.com/lightkeeper-net/lightkeeper/coordinator/state"
	"github.com/lightkeeper-net/lightkeeper/pebbledb"
)

// toConnect maps the typed errors of the layers below to Connect codes, so
// a client learns what was wrong and whether retrying can help.
func toConnect(err error) error {
	if err == nil {
		return nil
	}
	var ce *connect.Error
	if errors.As(err, &ce) {
		return err
	}
	code := connect.CodeInternal
	switch {
	case errors.Is(err, state.ErrInvalidRequest), errors.Is(err, pebbledb.ErrInvalidPageToken), errors.Is(err, pebbledb.ErrInvalidID):
		code = connect.CodeInvalidArgument
	case errors.Is(err, state.ErrUnknownVerifyingKey), errors.Is(err, state.ErrUnknownProgram), errors.Is(err, state.ErrUnknownKeeper), errors.Is(err, pebbledb.ErrNotFound),
		errors.Is(err, state.ErrNotFound), errors.Is(err, state.ErrUnknownRound):
		code = connect.CodeNotFound
	case errors.Is(err, state.ErrNotEnoughKeepers):
		// Transient after a restart, while keepers reconnect: clients
		// retry (same client nonce, same round) after the hint.
		ce := connect.NewError(connect.CodeUnavailable, err)
		ce.Meta().Set(RetryAfterHeader, "1")
		return ce
	case errors.Is(err, state.ErrBadNonce), errors.Is(err, state.ErrInsufficientFunds),
		errors.Is(err, state.ErrLimitReached), errors.Is(err, state.ErrJailed), errors.Is(err, state.ErrPaymentRequired):
		code = connect.CodeFailedPrecondition
	case errors.Is(err, state.ErrRoundExists):
		code = connect.CodeAlreadyExists
	case errors.Is(err, state.ErrBadSignature), errors.Is(err, state.ErrUnauthorized):
		code = connect.CodePermissionDenied
	case errors.Is(err, errBusy):
		code = connect.CodeResourceExhausted
	case errors.Is(err, ErrStopped):
		ce := connect.NewError(connect.CodeUnavailable, err)
		ce.Meta().Set(RetryAfterHeader, "1")
		return ce
	case errors.Is(err, context.Canceled):
		code = connect.CodeCanceled
	case errors.Is(err, context.DeadlineExceeded):
		code = connect.CodeDeadlineExceeded
	}
	return connect.NewError(code, clientFacing(err))
}

// clientFacing drops the storage layer's "pebbledb: " prefix from an
// error's message (clients see the message; the package is an internal
// detail), keeping the error itself for errors.Is.
func clientFacing(err error) error {
	msg, ok := strings.CutPrefix(err.Error(), "pebbledb: ")
	if !ok {
		return err
	}
	return messageError{msg, err}
}

type messageError struct {
	msg string
	err error
}

func (e messageError) Error() string { return e.msg }
func (e messageError) Unwrap() error { return e.err }

// RetryAfterHeader is the metadata key (a response header or trailer) of
// the seconds after which an Unavailable request is worth retrying, as
// HTTP's Retry-After (internal/workload reads it).
const RetryAfterHeader = "Retry-After"

func invalidArgument(format string, args ...any) error {
	return connect.NewError(connect.CodeInvalidArgument, fmt.Errorf(format, args...))
}
