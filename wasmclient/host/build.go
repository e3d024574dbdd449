package wasmhost

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
)

// ModulePackage is the import path of the keeper module's source.
const ModulePackage = "github.com/lightkeeper-net/lightkeeper/wasmclient/wasip1"

// BuildModule builds the keeper module from source into out with the go
// command (GOOS=wasip1 GOARCH=wasm, -buildmode=c-shared), exactly as `make
// wasm-keeper` does. It must run inside the lightkeeper module (the
// source tree: tests, tools), with the go command on PATH or in $GO. The
// go build cache makes a rebuild of unchanged sources cheap.
func BuildModule(ctx context.Context, out string) error {
	gocmd := os.Getenv("GO")
	if gocmd == "" {
		gocmd = "go"
	}
	cmd := exec.CommandContext(ctx, gocmd, "build", "-buildmode=c-shared", "-o", out, ModulePackage)
	cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm", "CGO_ENABLED=0")
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stderr, &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("building the wasm keeper module (%s): %w\n%s", ModulePackage, err, stderr.Bytes())
	}
	return nil
}
