package state

import (
	"fmt"

	lightkeeperv1 "github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1"
	"google.golang.org/protobuf/types/known/durationpb"
)

func sprintf(format string, args ...any) string { return fmt.Sprintf(format, args...) }

// timeoutMillis is the verification timeout in whole milliseconds.
func timeoutMillis(p *lightkeeperv1.ConsensusParams) int64 {
	return p.VerificationTimeout.AsDuration().Milliseconds()
}

func millis(d *durationpb.Duration) int64 { return d.AsDuration().Milliseconds() }
