package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/lightkeeper-net/lightkeeper/client"
	lightkeeperv1 "github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1"
	"github.com/lightkeeper-net/lightkeeper/protocol"
	"github.com/lightkeeper-net/lightkeeper/verifier"
	"github.com/lightkeeper-net/lightkeeper/verifier/compute"
	"github.com/lightkeeper-net/lightkeeper/verifier/snarkjs"
)

func init() { register(newSubmitCmd) }

func newSubmitCmd() *cobra.Command {
	proof := &cobra.Command{
		Use:   "proof --scheme groth16|plonk --curve bn254|bls12_381 --vk FILE --proof FILE --public FILE",
		Short: "submit a proof to be verified by a committee",
		Long: `submit a proof to be verified by a committee. The files are gnark's binary
encodings (--format gnark), or circom/snarkjs JSON for Groth16 on BN254
(--format snarkjs, docs/snarkjs.md):

  lightkeeper submit proof --format snarkjs --vk verification_key.json --proof proof.json --public public.json`,
		Args: exactArgs(0, ""),
	}
	fs := proof.Flags()
	url := coordinatorFlag(fs, "")
	schemeName := fs.String("scheme", "", "groth16 or plonk (required with --format gnark)")
	curveName := fs.String("curve", "", "bn254 or bls12_381 (required with --format gnark)")
	vkPath := fs.String("vk", "", "verifying key file, gnark binary (required)")
	proofPath := fs.String("proof", "", "proof file, gnark binary (required)")
	publicPath := fs.String("public", "", "public inputs: gnark public witness or a JSON list of decimal strings (required)")
	wait := fs.Bool("wait", false, "wait for the outcome")
	asJSON := jsonFlag(fs, "")
	timeout := fs.Duration("timeout", 2*time.Minute, "give up waiting after this long")
	format := fs.String("format", "gnark", "gnark (binary files) or snarkjs (circom/snarkjs Groth16 BN254 JSON, docs/snarkjs.md)")
	proof.RunE = func(cmd *cobra.Command, _ []string) error {
		ctx := cmd.Context()
		switch *format { // --- snarkjs (issue #13) ---
		case "gnark":
		case "snarkjs":
			if *schemeName == "" {
				*schemeName = "groth16"
			}
			if *curveName == "" {
				*curveName = "bn254"
			}
		default:
			return usagef("--format: %q, want gnark or snarkjs", *format)
		}
		scheme, err := verifier.ParseScheme(*schemeName)
		if err != nil {
			return usagef("--scheme: %v", err)
		}
		curve, err := verifier.ParseCurve(*curveName)
		if err != nil {
			return usagef("--curve: %v", err)
		}
		files := map[string]*string{"--vk": vkPath, "--proof": proofPath, "--public": publicPath}
		data := map[string][]byte{}
		for flagName, p := range files {
			if *p == "" {
				return usagef("%s is required", flagName)
			}
			b, err := os.ReadFile(*p)
			if err != nil {
				return err
			}
			data[flagName] = b
		}
		if *format == "snarkjs" { // the one converter, verifier/snarkjs
			if scheme != verifier.SchemeGroth16 || curve != verifier.CurveBN254 {
				return usagef("--format snarkjs is Groth16 on BN254 only")
			}
			m, err := snarkjs.Convert(data["--vk"], data["--proof"], data["--public"])
			if err != nil {
				return err
			}
			data["--vk"], data["--proof"], data["--public"] = m.VerifyingKey, m.Proof, m.Public
		}
		ctx, cancel := context.WithTimeout(ctx, *timeout)
		defer cancel()
		c := newClient(*url)
		round, err := c.SubmitProof(ctx, client.Proof{
			Scheme: scheme, Curve: curve, VK: data["--vk"], Proof: data["--proof"], Public: data["--public"],
		}, randomNonce())
		if err != nil {
			return describe(err)
		}
		accepted := round.GetId()
		if *wait {
			if round, err = c.WaitDecided(ctx, round.GetId()); err != nil {
				return fmt.Errorf("round %s accepted, but waiting failed: %w", accepted, describe(err))
			}
		}
		return printRoundSummary(round, *asJSON)
	}

	comp := &cobra.Command{
		Use:   "compute --program FILE.wasm|ID --fuel N [--input FILE]",
		Short: "submit a COMPUTE round: run a registered program (registered first if a file)",
		Args:  exactArgs(0, ""),
	}
	cfs := comp.Flags()
	curl := coordinatorFlag(cfs, "")
	program := cfs.String("program", "", "the program: a wasip1 module file (registered if new) or a registered program id (required)")
	inputPath := cfs.String("input", "", "file whose bytes are the job's stdin ('-': read stdin; none: empty input)")
	fuel := cfs.Uint64("fuel", 0, "fuel limit; running out is the deterministic trap out_of_fuel (required)")
	cwait := cfs.Bool("wait", false, "wait for the outcome (and for the leader's output)")
	cJSON := jsonFlag(cfs, "print one JSON object: round_id, outcome, output_hash, fuel_used, output (base64), …")
	ctimeout := cfs.Duration("timeout", 2*time.Minute, "give up waiting after this long")
	comp.RunE = func(cmd *cobra.Command, _ []string) error {
		return submitCompute(cmd.Context(), *curl, *program, *inputPath, *fuel, *cwait, *cJSON, *ctimeout)
	}
	return group("submit", "submit work: 'submit proof …', 'submit compute …'", "", "command", proof, comp)
}

// submitCompute submits a COMPUTE round: the program is a module file
// (registered first if new) or the id of a registered one.
func submitCompute(ctx context.Context, url, program, inputPath string, fuel uint64, wait, asJSON bool, timeout time.Duration) error {
	if program == "" {
		return usagef("--program is required")
	}
	if fuel == 0 {
		return usagef("--fuel is required (a positive number)")
	}
	var input []byte
	var err error
	switch inputPath {
	case "":
	case "-":
		input, err = io.ReadAll(os.Stdin)
	default:
		input, err = os.ReadFile(inputPath)
	}
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	c := newClient(url)
	id := program
	if module, err := os.ReadFile(program); err == nil {
		p, _, err := registerProgram(ctx, c, program, module)
		if err != nil {
			return err
		}
		id = p.GetId()
	} else if !protocol.ValidID(program) {
		return usagef("--program %q: neither a readable module file nor a program id (64 lowercase hex digits): %v", program, err)
	}
	round, err := c.SubmitCompute(ctx, id, input, fuel, randomNonce())
	if err != nil {
		return describe(err)
	}
	accepted := round.GetId()
	if wait {
		if round, err = c.WaitResult(ctx, round.GetId(), 5*time.Second); err != nil {
			return fmt.Errorf("round %s accepted, but waiting failed: %w", accepted, describe(err))
		}
	}
	if asJSON {
		return printJSON(computeSummary(round))
	}
	if err := printRoundSummary(round, false); err != nil {
		return err
	}
	printComputeResult(round)
	return nil
}

func printRoundSummary(r *lightkeeperv1.Round, asJSON bool) error {
	vkID := r.GetRequest().GetProof().GetVerifyingKeyId()
	if asJSON {
		return printJSON(map[string]any{
			"round_id":         r.GetId(),
			"outcome":          outcomeName(r),
			"phase":            enumName(r.GetPhase().String(), "ROUND_PHASE_"),
			"verifying_key_id": vkID,
			"committee":        r.GetCommittee(),
			"approvals":        r.GetApprovals(),
			"rejections":       r.GetRejections(),
			"abstentions":      r.GetAbstentions(),
			"submitted_height": r.GetSubmittedHeight(),
			"decided_height":   r.GetDecidedHeight(),
		})
	}
	outcome := outcomeName(r)
	if res := r.GetResult(); res != nil && res.GetTrap() != 0 {
		outcome += " (trap " + compute.TrapKind(res.GetTrap()).String() + ")"
	}
	fmt.Printf("round     %s\noutcome   %s\n", r.GetId(), outcome)
	if r.GetPhase() != lightkeeperv1.RoundPhase_ROUND_PHASE_VOTING {
		fmt.Printf("votes     %d approve, %d reject, %d abstain (threshold %d)\n",
			r.GetApprovals(), r.GetRejections(), r.GetAbstentions(), r.GetThreshold())
	}
	// The same heights as round list: submitted, then decided.
	decided := "-"
	if r.GetPhase() != lightkeeperv1.RoundPhase_ROUND_PHASE_VOTING {
		decided = fmt.Sprint(r.GetDecidedHeight())
	}
	fmt.Printf("submitted height %d, decided height %s\n", r.GetSubmittedHeight(), decided)
	fmt.Printf("committee %d keepers, leader %s\n", len(r.GetCommittee()), short(first(r.GetCommittee())))
	return nil
}

func first(s []string) string {
	if len(s) == 0 {
		return ""
	}
	return s[0]
}

func short(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}
