package main

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"os"
	"strings"
	"time"
	"unicode/utf8"

	"connectrpc.com/connect"
	"github.com/spf13/cobra"

	"github.com/lightkeeper-net/lightkeeper/client"
	"github.com/lightkeeper-net/lightkeeper/coordinator/state"
	lightkeeperv1 "github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1"
	"github.com/lightkeeper-net/lightkeeper/protocol"
	"github.com/lightkeeper-net/lightkeeper/verifier/compute"
)

func init() { register(newProgramCmd) }

func newProgramCmd() *cobra.Command {
	reg := &cobra.Command{
		Use:   "register FILE.wasm",
		Short: "check a wasip1 module locally and register it as a program (again: not an error)",
		Args:  exactArgs(1, "one module file"),
	}
	get := &cobra.Command{
		Use:   "get ID",
		Short: "show a registered program; --out saves its module",
		Args:  exactArgs(1, "one program id"),
	}
	out := get.Flags().String("out", "", "also save the module here")
	prog := group("program", "compute programs: 'program register FILE.wasm', 'program get ID'", "", "command", reg, get)
	pf := prog.PersistentFlags()
	url := coordinatorFlag(pf, "")
	asJSON := jsonFlag(pf, "")
	timeout := pf.Duration("timeout", time.Minute, "give up after this long")
	get.RunE = func(cmd *cobra.Command, pos []string) error {
		ctx, cancel := context.WithTimeout(cmd.Context(), *timeout)
		defer cancel()
		res, err := newClient(*url).Programs.GetProgram(ctx, connect.NewRequest(&lightkeeperv1.GetProgramRequest{ProgramId: pos[0], IncludeModule: *out != ""}))
		if err != nil {
			return describe(err)
		}
		p := res.Msg.GetProgram()
		if *out != "" {
			if err := os.WriteFile(*out, p.GetModule(), 0o644); err != nil {
				return err
			}
		}
		return printProgram(p, false, *asJSON)
	}
	reg.RunE = func(cmd *cobra.Command, pos []string) error {
		ctx, cancel := context.WithTimeout(cmd.Context(), *timeout)
		defer cancel()
		module, err := os.ReadFile(pos[0])
		if err != nil {
			return err
		}
		p, created, err := registerProgram(ctx, newClient(*url), pos[0], module)
		if err != nil {
			return err
		}
		return printProgram(p, created, *asJSON)
	}
	return prog
}

// registerProgram checks a module locally under the chain's compute
// parameters (for a clear error before anything is sent) and registers it.
// Registering a program again is not an error.
func registerProgram(ctx context.Context, c client.Client, name string, module []byte) (*lightkeeperv1.Program, bool, error) {
	info, err := c.Ledger.GetChainInfo(ctx, connect.NewRequest(&lightkeeperv1.GetChainInfoRequest{}))
	if err != nil {
		return nil, false, describe(err)
	}
	if _, err := compute.Check(module, compute.Limits(protocol.ComputeLimitsOf(info.Msg.GetParams().GetCompute()))); err != nil {
		return nil, false, fmt.Errorf("%s is refused by the registration checks: %w", name, err)
	}
	p, created, err := c.RegisterProgram(ctx, module)
	if err != nil {
		return nil, false, describe(err)
	}
	return p, created, nil
}

func printProgram(p *lightkeeperv1.Program, created, asJSON bool) error {
	if asJSON {
		return printJSON(map[string]any{
			"program_id":        p.GetId(),
			"created":           created,
			"size":              p.GetSize(),
			"metered_hash":      hex.EncodeToString(p.GetMeteredHash()),
			"imports":           p.GetImports(),
			"memory_pages":      p.GetMemoryPages(),
			"max_memory_pages":  p.GetMaxMemoryPages(),
			"functions":         p.GetFunctions(),
			"uses_float":        p.GetUsesFloat(),
			"registered_height": p.GetRegisteredHeight(),
		})
	}
	status := fmt.Sprintf("already registered at height %d", p.GetRegisteredHeight())
	if created {
		status = fmt.Sprintf("registered at height %d", p.GetRegisteredHeight())
	}
	fmt.Printf("program   %s\nstatus    %s\nsize      %d bytes, %d functions, float %t\nmemory    %d pages (max %d)\nmetered   sha256 %x\nimports   %s\n",
		p.GetId(), status, p.GetSize(), p.GetFunctions(), p.GetUsesFloat(), p.GetMemoryPages(), p.GetMaxMemoryPages(),
		p.GetMeteredHash(), strings.Join(p.GetImports(), " "))
	return nil
}

// computeSummary is what `submit compute --json` prints.
func computeSummary(r *lightkeeperv1.Round) map[string]any {
	c := r.GetRequest().GetCompute()
	m := map[string]any{
		"round_id":    r.GetId(),
		"outcome":     outcomeName(r),
		"phase":       enumName(r.GetPhase().String(), "ROUND_PHASE_"),
		"program_id":  c.GetProgramId(),
		"fuel_limit":  c.GetFuel(),
		"committee":   r.GetCommittee(),
		"approvals":   r.GetApprovals(),
		"rejections":  r.GetRejections(),
		"abstentions": r.GetAbstentions(),
	}
	if r.GetPhase() != lightkeeperv1.RoundPhase_ROUND_PHASE_VOTING {
		m["decided_height"] = r.GetDecidedHeight()
	}
	if res := r.GetResult(); res != nil {
		m["result_hash"] = hex.EncodeToString(r.GetResultHash())
		m["output_hash"] = hex.EncodeToString(res.GetOutputHash())
		m["fuel_used"] = res.GetFuelUsed()
		m["exit_code"] = res.GetExitCode()
		m["trap"] = compute.TrapKind(res.GetTrap()).String()
		known := state.OutputKnown(res)
		m["output_known"] = known
		if known {
			m["output"] = base64.StdEncoding.EncodeToString(res.GetOutput())
		}
	}
	return m
}

// printComputeResult prints a compute round's request and result.
func printComputeResult(r *lightkeeperv1.Round) {
	c := r.GetRequest().GetCompute()
	fmt.Printf("program   %s\ninput     %d bytes, fuel limit %d\n", c.GetProgramId(), len(c.GetInput()), c.GetFuel())
	res := r.GetResult()
	if res == nil {
		if r.GetPhase() != lightkeeperv1.RoundPhase_ROUND_PHASE_VOTING {
			fmt.Println("result    none (no two keepers agreed)")
		}
		return
	}
	fmt.Printf("result    trap %s, exit code %d, fuel used %d\n", compute.TrapKind(res.GetTrap()), res.GetExitCode(), res.GetFuelUsed())
	fmt.Printf("output    sha256 %x\n", res.GetOutputHash())
	if !state.OutputKnown(res) {
		fmt.Println("          (bytes not uploaded: the leader has not voted)")
		return
	}
	fmt.Print(formatOutput(res.GetOutput()))
}

// formatOutput shows output as text when it is printable UTF-8, else as
// hex; long output is cut.
func formatOutput(b []byte) string {
	const max = 4096
	cut := ""
	if len(b) > max {
		b, cut = b[:max], fmt.Sprintf("\n          … %d bytes more", len(b)-max)
	}
	if utf8.Valid(b) && !strings.ContainsFunc(string(b), func(r rune) bool { return r < ' ' && r != '\n' && r != '\t' }) {
		lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
		return "          | " + strings.Join(lines, "\n          | ") + cut + "\n"
	}
	return "          hex " + hex.EncodeToString(b) + cut + "\n"
}
