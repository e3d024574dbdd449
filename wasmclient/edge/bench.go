//go:build js && wasm

package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/lightkeeper-net/lightkeeper/keeper"
	lightkeeperv1 "github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1"
)

// benchCheckBatch times the keeper engine's CheckBatch on the tasks of the
// request body (a lightkeeper.v1.PullTasksResponse, what a pull brings),
// ?reps= times (default 1, at most 100), and answers {votes: [of the last
// run], ms: [one duration per run]}: the worker's batch figures in
// docs/benchmarks.md come from it (tests/edge_test.go). It burns CPU on
// request, so it answers only when LIGHTKEEPER_BENCH is "1", which no
// deployment sets.
func benchCheckBatch(w http.ResponseWriter, r *http.Request) {
	if getenv("LIGHTKEEPER_BENCH") != "1" {
		http.NotFound(w, r)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 64<<20))
	var batch lightkeeperv1.PullTasksResponse
	if err == nil {
		err = proto.Unmarshal(body, &batch)
	}
	if err != nil {
		http.Error(w, "body: not a lightkeeper.v1.PullTasksResponse: "+err.Error(), http.StatusBadRequest)
		return
	}
	reps := 1
	if s := r.URL.Query().Get("reps"); s != "" {
		if reps, err = strconv.Atoi(s); err != nil || reps < 1 || reps > 100 {
			http.Error(w, "reps: want 1..100", http.StatusBadRequest)
			return
		}
	}
	e := keeper.NewNativeEngine()
	out := struct {
		Votes []string  `json:"votes"`
		Ms    []float64 `json:"ms"`
	}{}
	for range reps {
		start := time.Now()
		vs := e.CheckBatch(context.Background(), batch.GetTasks())
		out.Ms = append(out.Ms, float64(time.Since(start).Microseconds())/1000)
		out.Votes = out.Votes[:0]
		for _, v := range vs {
			out.Votes = append(out.Votes, strings.TrimPrefix(v.Kind.String(), "VOTE_KIND_"))
		}
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(out)
}
