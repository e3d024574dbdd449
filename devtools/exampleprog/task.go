package exampleprog

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	lightkeeperv1 "github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1"
	"github.com/lightkeeper-net/lightkeeper/verifier/compute"
)

// DefaultComputeParams are the chain's compute limits at compute's
// defaults, with a 1 MiB input: what a task carries on a default devnet.
func DefaultComputeParams() *lightkeeperv1.ComputeParams {
	l := compute.DefaultLimits()
	return &lightkeeperv1.ComputeParams{MaxModuleBytes: uint64(l.MaxModuleBytes), MaxMemoryPages: l.MaxMemoryPages,
		MaxTableElements: l.MaxTableElements, MaxCallDepth: l.MaxCallDepth, MaxOutputBytes: uint32(l.MaxOutputBytes),
		MaxFuel: l.MaxFuel, MaxInputBytes: 1 << 20}
}

// Task is a COMPUTE task as a keeper receives it: module with its id,
// input, fuel, leader flag, a round id made of roundByte repeated, a
// deadline a minute away and DefaultComputeParams.
func Task(module []byte, input string, fuel uint64, leader bool, roundByte byte) *lightkeeperv1.Task {
	id := sha256.Sum256(module)
	return &lightkeeperv1.Task{
		RoundId:  hex.EncodeToString(bytes.Repeat([]byte{roundByte}, 32)),
		Kind:     lightkeeperv1.RoundKind_ROUND_KIND_COMPUTE,
		Deadline: timestamppb.New(time.Now().Add(time.Minute)),
		Payload: &lightkeeperv1.Task_Compute{Compute: &lightkeeperv1.ComputeTask{
			ProgramId: hex.EncodeToString(id[:]), Program: module, Input: []byte(input), Fuel: fuel,
			Leader: leader, Limits: DefaultComputeParams(),
		}},
	}
}
