package tests

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lightkeeper-net/lightkeeper/internal/setup"
)

// A restart under changed consensus settings is refused with a message
// naming the key that differs and both values.
func TestRestartRefusesChangedParamsNamingKey(t *testing.T) {
	dir := initChain(t, 30)
	cfg := filepath.Join(dir, setup.ConfigFile)
	data := filepath.Join(dir, "data")
	coord, _ := startCoordinator(t, "--config", cfg, "--data", data, "--listen", "127.0.0.1:0")
	coord.kill()
	b, err := os.ReadFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	changed := strings.Replace(string(b), "threshold = 7", "threshold = 6", 1)
	if changed == string(b) {
		t.Fatal("config.toml has no 'threshold = 7'")
	}
	if err := os.WriteFile(cfg, []byte(changed), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, errOut, code := run(t, ctx, "coordinator", "--config", cfg, "--data", data, "--listen", "127.0.0.1:0")
	if code == 0 || !strings.Contains(errOut, "consensus.threshold: the chain has 7, config.toml has 6") {
		t.Fatalf("restart with a changed threshold: exit %d, stderr %q; want the key and both values", code, errOut)
	}
}
