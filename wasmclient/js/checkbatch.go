//go:build js && wasm

package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"syscall/js"
	"time"

	"google.golang.org/protobuf/proto"

	lightkeeperv1 "github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1"
)

// jsCheckBatch is check (jsCheck) for a batch: the tasks, an Array of
// Uint8Array each the protobuf bytes of a lightkeeper.v1.Task, go through
// the keeper engine's CheckBatch together, reps times (default 1), as a
// keeper checks the tasks of one pull (proofs under one key verified with
// one combined pairing check, verifier.KeyCache.VerifyBatch). It resolves
// with {votes: [one per task, of the last run], ms: [one duration per
// run]}. For measuring; a running keeper does not need it.
func jsCheckBatch(_ js.Value, args []js.Value) any {
	var tasks []*lightkeeperv1.Task
	reps := repsArg(args, 1)
	var argErr error
	if len(args) < 1 || args[0].Type() != js.TypeObject || args[0].Get("length").Type() != js.TypeNumber {
		argErr = errors.New("checkBatch(tasks, reps): tasks must be an Array of Uint8Array")
	} else {
		for i := range args[0].Length() {
			v := args[0].Index(i)
			if v.Type() != js.TypeObject || v.Get("byteLength").Type() != js.TypeNumber {
				argErr = fmt.Errorf("checkBatch: tasks[%d] is not a Uint8Array", i)
				break
			}
			b := make([]byte, v.Get("byteLength").Int())
			js.CopyBytesToGo(b, v)
			var t lightkeeperv1.Task
			if err := proto.Unmarshal(b, &t); err != nil {
				argErr = fmt.Errorf("checkBatch: tasks[%d] is not a lightkeeper.v1.Task: %w", i, err)
				break
			}
			tasks = append(tasks, &t)
		}
	}
	return promise(func() (any, error) {
		if argErr != nil {
			return nil, argErr
		}
		e, _, err := nativeEngine("")
		if err != nil {
			return nil, err
		}
		ms := js.Global().Get("Array").New()
		votes := js.Global().Get("Array").New()
		for i := range reps {
			start := time.Now()
			vs := e.CheckBatch(context.Background(), tasks)
			ms.SetIndex(i, float64(time.Since(start).Microseconds())/1000)
			if i == reps-1 {
				for j, v := range vs {
					votes.SetIndex(j, strings.TrimPrefix(v.Kind.String(), "VOTE_KIND_"))
				}
			}
		}
		out := js.Global().Get("Object").New()
		out.Set("votes", votes)
		out.Set("ms", ms)
		return out, nil
	})
}
