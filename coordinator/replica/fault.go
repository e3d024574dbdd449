package replica

import (
	"bytes"
	"fmt"
)

// Fault is a misbehaviour a replica can be started with, for tests only:
// it shows that one faulty replica of four cannot change an outcome and
// that its fault is visible (docs/design.md, "Replication on CometBFT").
// `lightkeeper node` reads it from FaultEnv and says so loudly in its log.
type Fault string

const (
	// FaultNone: an honest replica.
	FaultNone Fault = ""
	// FaultWrongAppHash: the application reports (and stores) an app hash
	// other than the one its state gives, as an application that computed
	// a different result would. The others' next block names the right
	// one; CometBFT on the faulty replica then refuses that block and
	// halts its consensus ("CONSENSUS FAILURE!!!" in its log): the process
	// stays up, serving its last committed state, and stops signing, which
	// the others' metrics show (cometbft_consensus_missing_validators).
	FaultWrongAppHash Fault = "wrong-app-hash"
)

// FaultEnv is the environment variable `lightkeeper node` reads its Fault
// from.
const FaultEnv = "LIGHTKEEPER_TEST_REPLICA_FAULT"

// ParseFault parses a Fault name.
func ParseFault(s string) (Fault, error) {
	switch f := Fault(s); f {
	case FaultNone, FaultWrongAppHash:
		return f, nil
	}
	return "", fmt.Errorf("replica fault %q: want %q (or empty)", s, FaultWrongAppHash)
}

// appHash is hash as this replica reports it.
func (f Fault) appHash(hash []byte) []byte {
	if f != FaultWrongAppHash || len(hash) == 0 {
		return hash
	}
	wrong := bytes.Clone(hash)
	wrong[0] ^= 0xff
	return wrong
}
