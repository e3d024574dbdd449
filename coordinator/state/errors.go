package state

import (
	"errors"

	"github.com/lightkeeper-net/lightkeeper/protocol"
)

// Sentinel errors. Every error returned by this package wraps exactly one of
// them (fmt.Errorf("%w: ...")), so callers match with errors.Is and map them
// to status codes; the text after the sentinel names the offending field.
//
// Suggested Connect codes: ErrInvalidRequest, ErrInvalidParams,
// ErrInvalidGenesis, ErrInvalidSnapshot, ErrTimeWentBackwards →
// InvalidArgument; ErrUnknownVerifyingKey, ErrUnknownProgram,
// ErrUnknownKeeper, ErrUnknownRound → NotFound; ErrNotEnoughKeepers, ErrRoundClosed, ErrNotInCommittee,
// ErrEquivocation → FailedPrecondition; ErrRoundExists → AlreadyExists;
// ErrBadSignature, ErrUnauthorized → PermissionDenied; ErrBadNonce,
// ErrInsufficientFunds, ErrLimitReached, ErrJailed, ErrPaymentRequired →
// FailedPrecondition; ErrNotFound → NotFound.
var (
	// ErrInvalidRequest: a transaction is malformed or inconsistent with
	// state (bad id, unspecified enum, scheme/curve mismatch, wrong number
	// of public inputs, empty proof, unsupported round kind).
	// It is protocol's sentinel: the ids, hashes and signatures protocol
	// checks for the machine fail with it.
	ErrInvalidRequest = protocol.ErrInvalidRequest
	// ErrInvalidParams: ConsensusParams out of range (see protocol.ValidateParams).
	// It is protocol's sentinel (protocol.ParamError unwraps to it).
	ErrInvalidParams = protocol.ErrInvalidParams
	// ErrInvalidGenesis: a malformed Genesis.
	ErrInvalidGenesis = errors.New("invalid genesis")
	// ErrInvalidSnapshot: Restore was given an inconsistent Snapshot.
	ErrInvalidSnapshot = errors.New("invalid snapshot")
	// ErrUnknownVerifyingKey: a round names a verifying key that is not
	// registered.
	ErrUnknownVerifyingKey = errors.New("unknown verifying key")
	// ErrUnknownProgram: a compute round names a program that is not
	// registered.
	ErrUnknownProgram = errors.New("unknown program")
	// ErrNotEnoughKeepers: fewer eligible keepers than the threshold.
	// It is protocol's sentinel (protocol.CommitteeRule fails with it).
	ErrNotEnoughKeepers = protocol.ErrNotEnoughKeepers
	// ErrRoundExists: the request's round id is already known (open or
	// closed). TxResult.RoundID names it.
	ErrRoundExists = errors.New("round already exists")
	// ErrUnknownKeeper: a transaction names a keeper that does not exist.
	ErrUnknownKeeper = errors.New("unknown keeper")
	// ErrBadSignature: a registration or vote signature does not verify.
	// It is protocol's sentinel (protocol.VerifyTx fails with it).
	ErrBadSignature = protocol.ErrBadSignature
	// ErrTimeWentBackwards: a block's time is before the head's time. It is
	// the only error ApplyBlock returns for valid transactions.
	ErrTimeWentBackwards = errors.New("block time went backwards")

	// Economy errors (signed transactions, docs/design.md §2 and §9).

	// ErrBadNonce: a signed transaction's nonce is not the account's.
	ErrBadNonce = errors.New("bad nonce")
	// ErrInsufficientFunds: the balance (or bond, or guarantee) is smaller
	// than the amount plus fee.
	ErrInsufficientFunds = errors.New("insufficient funds")
	// ErrLimitReached: a cap refuses the transaction (max_guarantees,
	// max_group_size, max_unbonding_entries, the per-group vote cap).
	ErrLimitReached = errors.New("limit reached")
	// ErrUnauthorized: the signer may not do this (not the owner, not
	// invited).
	ErrUnauthorized = errors.New("not authorized")
	// ErrNotFound: an unknown group, guarantee or unbonding entry.
	ErrNotFound = errors.New("not found")
	// ErrJailed: the keeper is jailed (and may not unjail yet) or
	// tombstoned.
	ErrJailed = errors.New("jailed")
	// ErrPaymentRequired: staking.fee_per_work_unit > 0, so a round must be
	// submitted as a signed, paid transaction.
	ErrPaymentRequired = errors.New("payment required")

	// Vote errors; TxResult.VoteStatus is authoritative, TxResult.Err
	// carries the detail for VoteResult.message.
	ErrUnknownRound   = errors.New("unknown round")
	ErrRoundClosed    = errors.New("round closed")
	ErrNotInCommittee = errors.New("keeper not in committee")
	ErrEquivocation   = errors.New("equivocation")

	// Reveal errors (RevealChallengeTx, challenge.go); FailedPrecondition.

	// ErrRevealTooEarly: the round is still open (VOTING or DECIDED).
	ErrRevealTooEarly = errors.New("challenge revealed before its round closed")
	// ErrRevealWindow: the round closed more than
	// params.challenges.reveal_window ago (or was never sealed).
	ErrRevealWindow = errors.New("challenge reveal window passed")
	// ErrAlreadyRevealed: the round's seal was opened already.
	ErrAlreadyRevealed = errors.New("challenge already revealed")
	// ErrChallengeMismatch: the answer and salt do not open the seal's
	// commitment (or the answer's candidates flag is not the seal's).
	ErrChallengeMismatch = errors.New("challenge does not match its commitment")
	// ErrRevealRateLimit: the challenger has had
	// params.challenges.max_reveals_per_hour reveals accepted this hour.
	ErrRevealRateLimit = errors.New("challenger's reveal quota for this hour is used")
)
