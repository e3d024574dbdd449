package replica

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cometbft/cometbft/libs/log"
)

// The halt watch sees CometBFT's consensus failure through loggers
// derived with With (consensus logs through one), passes every line on,
// and takes the reason from the panic.
func TestHaltWatch(t *testing.T) {
	var b strings.Builder
	var reasons []string
	l := watchHalt(log.NewTMLogger(&b), func(r string) { reasons = append(reasons, r) })
	cons := l.With("module", "consensus")
	cons.Error("prevote step: ProposalBlock is invalid", "err", "wrong Block.Header.AppHash")
	if len(reasons) != 0 {
		t.Fatalf("halted on an ordinary error: %v", reasons)
	}
	cons.Error(consensusFailureMsg, "err", errors.New("+2/3 committed an invalid block: wrong Block.Header.AppHash"), "stack", "…")
	if len(reasons) != 1 || !strings.Contains(reasons[0], "wrong Block.Header.AppHash") {
		t.Fatalf("reasons %q", reasons)
	}
	if !strings.Contains(b.String(), "CONSENSUS FAILURE") || !strings.Contains(b.String(), "module=consensus") {
		t.Fatalf("the lines were not passed on: %s", b.String())
	}
}

// The message the watch looks for is the one the CometBFT version in use
// logs: a dependency update that changes it fails here, not silently.
func TestHaltWatchMessageInCometBFT(t *testing.T) {
	dir := cometbftDir(t)
	src, err := os.ReadFile(filepath.Join(dir, "consensus", "state.go"))
	if err != nil {
		t.Skipf("CometBFT source not available: %v", err)
	}
	if !strings.Contains(string(src), `cs.Logger.Error("`+consensusFailureMsg+`"`) {
		t.Fatalf("CometBFT's consensus/state.go no longer logs %q: update the halt watch (halt.go)", consensusFailureMsg)
	}
}

// cometbftDir is the module directory of the CometBFT version this module
// builds with.
func cometbftDir(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/cometbft/cometbft").Output()
	if err != nil || len(strings.TrimSpace(string(out))) == 0 {
		t.Skipf("go list -m github.com/cometbft/cometbft: %v", err)
	}
	return strings.TrimSpace(string(out))
}
