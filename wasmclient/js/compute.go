//go:build js && wasm

package main

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"syscall/js"
	"time"

	"github.com/lightkeeper-net/lightkeeper/keeper"
	"github.com/lightkeeper-net/lightkeeper/verifier/compute"
)

// Compute jobs run on one of two engines, with identical results (the
// metered module and the host are engine-independent; tests/crosshost_*
// compares them byte for byte with native wazero):
//
//   - "platform": the host's own WebAssembly engine (V8 in Chromium),
//     through compute.PlatformEngine. The default wherever the host lets a
//     program compile WebAssembly at run time: it runs jobs 20–90 times
//     faster than the interpreter (docs/compute.md, "Figures").
//   - "interpreter": wazero's interpreter, compiled into this program. The
//     fallback for hosts that refuse run-time compilation (workerd:
//     "Wasm code generation disallowed by embedder"), or when asked for.
//
// Both are made once per process and shared by every keeper and call.

const (
	enginePlatform    = "platform"
	engineInterpreter = "interpreter"
	// enginePlatformUnmetered runs the module as registered on the
	// platform engine: for measuring the metering's cost only.
	enginePlatformUnmetered = "platform-unmetered"
)

var computeEngines struct {
	platformOnce sync.Once
	platform     *compute.PlatformEngine
	platformErr  error

	interpOnce sync.Once
	interp     *compute.Engine
	interpErr  error
}

func platformEngine() (*compute.PlatformEngine, error) {
	c := &computeEngines
	c.platformOnce.Do(func() { c.platform, c.platformErr = compute.NewPlatformEngine(16) })
	return c.platform, c.platformErr
}

func interpreterEngine() (*compute.Engine, error) {
	c := &computeEngines
	c.interpOnce.Do(func() {
		c.interp, c.interpErr = compute.NewEngine(context.Background(), compute.EngineConfig{Kind: compute.EngineInterpreter, CacheSize: 16})
	})
	return c.interp, c.interpErr
}

// computeRunner picks the engine for name ("" = the default: the platform
// engine if this host allows it, else the interpreter) and says which one
// it is, with the reason for a fallback.
func computeRunner(name string) (keeper.ComputeRunner, string, error) {
	switch name {
	case "", enginePlatform:
		p, err := platformEngine()
		if err == nil {
			return p, enginePlatform, nil
		}
		if name == enginePlatform {
			return nil, "", err
		}
		e, ierr := interpreterEngine()
		if ierr != nil {
			return nil, "", ierr
		}
		return e, engineInterpreter + " (" + err.Error() + ")", nil
	case engineInterpreter:
		e, err := interpreterEngine()
		if err != nil {
			return nil, "", err
		}
		return e, engineInterpreter, nil
	}
	return nil, "", fmt.Errorf("unknown compute engine %q (want %q or %q)", name, enginePlatform, engineInterpreter)
}

// nativeEngine is the keeper's engine with the compute runner of name.
func nativeEngine(name string) (keeper.NativeEngine, string, error) {
	e := keeper.NewNativeEngine()
	r, desc, err := computeRunner(name)
	if err != nil {
		return e, "", err
	}
	e.Compute = r
	return e, desc, nil
}

// jsComputeEngines reports which engines this host can run:
// {platform: "" or why not, interpreter: "" or why not, default: name}.
func jsComputeEngines(js.Value, []js.Value) any {
	out := js.Global().Get("Object").New()
	_, perr := platformEngine()
	_, ierr := interpreterEngine()
	out.Set(enginePlatform, errText(perr))
	out.Set(engineInterpreter, errText(ierr))
	_, desc, _ := computeRunner("")
	out.Set("default", strings.SplitN(desc, " ", 2)[0])
	return out
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// checked caches programs by id and limits: Check of a Go program takes a
// second or more in WebAssembly.
var checked = struct {
	sync.Mutex
	m map[string]*compute.Program
}{m: map[string]*compute.Program{}}

func checkProgram(module []byte, limits compute.Limits) (*compute.Program, error) {
	id := compute.ProgramIDOf(module)
	key := fmt.Sprintf("%x/%+v", id, limits)
	checked.Lock()
	p := checked.m[key]
	checked.Unlock()
	if p != nil {
		return p, nil
	}
	p, err := compute.Check(module, limits)
	if err != nil {
		return nil, err
	}
	checked.Lock()
	if len(checked.m) >= 16 {
		clear(checked.m)
	}
	checked.m[key] = p
	checked.Unlock()
	return p, nil
}

// jsComputeRun runs one compute job:
//
//	computeRun(module, limitsJSON, input, fuel, seedHex, engine?, reps?)
//
// module and input are Uint8Arrays (input may be a string); limitsJSON is
// "" for compute.DefaultLimits or a JSON object of compute.Limits fields
// that override them; fuel is a number or a decimal string; seedHex the
// 32-byte seed (the round id) in hex; engine "platform", "interpreter" or
// "" (this host's default); reps (default 1, at most 1000) how often to run
// it. It resolves with {engine, programId, resultHash, outputHash,
// fuelUsed (decimal string), exitCode, trap, output (Uint8Array), ms (one
// per run), checkMs} and rejects when there is no result (an abstain, or a
// refused program). The same job gives the same result hash on every
// keeper host; tests/crosshost_*_test.go checks that.
func jsComputeRun(_ js.Value, args []js.Value) any {
	type job struct {
		module, input []byte
		limits        compute.Limits
		fuel          uint64
		seed          [32]byte
		engine        string
		reps          int
	}
	parse := func() (job, error) {
		j := job{limits: compute.DefaultLimits(), reps: 1}
		if len(args) < 5 {
			return j, errors.New("computeRun(module, limitsJSON, input, fuel, seedHex, engine?, reps?): 5 arguments at least")
		}
		var err error
		if j.module, err = jsBytes(args[0], "module"); err != nil {
			return j, err
		}
		if args[1].Type() == js.TypeString && strings.TrimSpace(args[1].String()) != "" {
			if err := json.Unmarshal([]byte(args[1].String()), &j.limits); err != nil {
				return j, fmt.Errorf("computeRun: limitsJSON: %w", err)
			}
		}
		if args[2].Type() == js.TypeString {
			j.input = []byte(args[2].String())
		} else if j.input, err = jsBytes(args[2], "input"); err != nil {
			return j, err
		}
		switch args[3].Type() {
		case js.TypeNumber:
			f := args[3].Float()
			if f < 0 || f > 1<<53 || f != float64(uint64(f)) {
				return j, fmt.Errorf("computeRun: fuel %v is not an exact integer (pass a decimal string)", f)
			}
			j.fuel = uint64(f)
		case js.TypeString:
			if j.fuel, err = strconv.ParseUint(args[3].String(), 10, 64); err != nil {
				return j, fmt.Errorf("computeRun: fuel: %w", err)
			}
		default:
			return j, errors.New("computeRun: fuel must be a number or a decimal string")
		}
		seed, err := hex.DecodeString(jsString2(args[4]))
		if err != nil || len(seed) != 32 {
			return j, errors.New("computeRun: seedHex must be 32 bytes in hex")
		}
		j.seed = [32]byte(seed)
		if len(args) > 5 && args[5].Type() == js.TypeString {
			j.engine = args[5].String()
		}
		j.reps = repsArg(args, 6)
		return j, nil
	}
	j, argErr := parse()
	return promise(func() (any, error) {
		if argErr != nil {
			return nil, argErr
		}
		start := time.Now()
		p, err := checkProgram(j.module, j.limits)
		if err != nil {
			return nil, fmt.Errorf("program refused: %w", err)
		}
		checkMs := ms(time.Since(start))
		var run func() (compute.Result, error)
		desc := j.engine
		if j.engine == enginePlatformUnmetered {
			pe, err := platformEngine()
			if err != nil {
				return nil, err
			}
			run = func() (compute.Result, error) {
				return pe.RunUnmetered(context.Background(), p, j.module, j.input, j.seed)
			}
		} else {
			var r keeper.ComputeRunner
			if r, desc, err = computeRunner(j.engine); err != nil {
				return nil, err
			}
			run = func() (compute.Result, error) {
				return r.Run(context.Background(), p, j.input, j.fuel, j.seed, compute.Options{})
			}
		}
		times := js.Global().Get("Array").New()
		var res compute.Result
		for i := range j.reps {
			t0 := time.Now()
			if res, err = run(); err != nil {
				return nil, err
			}
			times.SetIndex(i, ms(time.Since(t0)))
		}
		rh, oh := compute.ResultHash(res), compute.OutputHash(res.Output)
		out := js.Global().Get("Object").New()
		out.Set("engine", desc)
		out.Set("programId", p.ID.String())
		out.Set("resultHash", hex.EncodeToString(rh[:]))
		out.Set("outputHash", hex.EncodeToString(oh[:]))
		out.Set("fuelUsed", strconv.FormatUint(res.FuelUsed, 10))
		out.Set("exitCode", res.ExitCode)
		out.Set("trap", res.Trap.String())
		o := js.Global().Get("Uint8Array").New(len(res.Output))
		js.CopyBytesToJS(o, res.Output)
		out.Set("output", o)
		out.Set("ms", times)
		out.Set("checkMs", checkMs)
		return out, nil
	})
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// jsBytes copies a Uint8Array (or any typed array of bytes) into Go.
func jsBytes(v js.Value, what string) ([]byte, error) {
	if v.Type() != js.TypeObject || v.Get("byteLength").Type() != js.TypeNumber || !v.InstanceOf(js.Global().Get("Uint8Array")) {
		return nil, fmt.Errorf("computeRun: %s must be a Uint8Array", what)
	}
	b := make([]byte, v.Get("byteLength").Int())
	js.CopyBytesToGo(b, v)
	return b, nil
}

func jsString2(v js.Value) string {
	if v.Type() != js.TypeString {
		return ""
	}
	return strings.TrimSpace(v.String())
}
