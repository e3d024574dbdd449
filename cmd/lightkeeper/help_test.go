package main

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

var update = flag.Bool("update", false, "rewrite the golden usage files in testdata/usage")

// commandPaths lists every available command of the tree, the root
// first, with cobra's own help and completion commands added as Execute
// adds them.
func commandPaths(t *testing.T) []*cobra.Command {
	t.Helper()
	root := newRoot()
	root.InitDefaultHelpCmd()
	root.InitDefaultCompletionCmd()
	var all []*cobra.Command
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		if c.Hidden {
			return
		}
		all = append(all, c)
		for _, s := range c.Commands() {
			walk(s)
		}
	}
	walk(root)
	if len(all) < 40 {
		t.Fatalf("only %d commands in the tree; is every file registering its command?", len(all))
	}
	return all
}

// helpEnv makes the usage text independent of the machine: no
// environment defaults, and a fixed cache directory in --wasm-cache's
// default.
func helpEnv(t *testing.T) {
	t.Setenv(CoordinatorEnv, "http://from-the-environment:1")
	t.Setenv("XDG_CACHE_HOME", "/cache")
	t.Setenv("HOME", "/home")
}

// TestEveryCommandHelp runs '-h' (and '--help') on every command: each
// exits 0, prints its usage on stdout and nothing on stderr, and names
// every flag the command takes, its own and those it inherits. Its usage
// text is compared with testdata/usage/<command path>.txt (go test -run
// TestEveryCommandHelp ./cmd/lightkeeper/ -update rewrites them).
func TestEveryCommandHelp(t *testing.T) {
	helpEnv(t)
	for _, c := range commandPaths(t) {
		path := strings.Fields(c.CommandPath())[1:]
		name := strings.Join(append([]string{"lightkeeper"}, path...), "_")
		t.Run(name, func(t *testing.T) {
			for _, h := range []string{"-h", "--help"} {
				var out, errOut bytes.Buffer
				code := run(context.Background(), append(append([]string(nil), path...), h), &out, &errOut)
				if code != 0 || errOut.Len() != 0 {
					t.Fatalf("%s %s: exit %d, stderr %q", c.CommandPath(), h, code, errOut.String())
				}
				text := out.String()
				if !strings.Contains(text, "Usage:") || !strings.Contains(text, c.CommandPath()) {
					t.Fatalf("%s %s printed no usage of it:\n%s", c.CommandPath(), h, text)
				}
				c.Flags().VisitAll(func(f *pflag.Flag) { wantFlag(t, c, text, f) })
				c.InheritedFlags().VisitAll(func(f *pflag.Flag) { wantFlag(t, c, text, f) })
				if strings.Contains(text, "from-the-environment") {
					t.Errorf("%s %s shows the environment's --coordinator as its default:\n%s", c.CommandPath(), h, text)
				}
				if h == "-h" {
					golden(t, filepath.Join("testdata", "usage", name+".txt"), text)
				}
			}
		})
	}
}

func wantFlag(t *testing.T, c *cobra.Command, text string, f *pflag.Flag) {
	t.Helper()
	if !f.Hidden && !strings.Contains(text, "--"+f.Name+" ") {
		t.Errorf("%s -h does not name its flag --%s:\n%s", c.CommandPath(), f.Name, text)
	}
}

func golden(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to write it)", err)
	}
	if got != string(want) {
		t.Errorf("usage differs from %s (run with -update after checking it):\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

// TestGoldenFilesHaveCommands fails on a golden file whose command is
// gone, so removed commands do not leave their usage behind.
func TestGoldenFilesHaveCommands(t *testing.T) {
	names := map[string]bool{}
	for _, c := range commandPaths(t) {
		names[strings.ReplaceAll(c.CommandPath(), " ", "_")+".txt"] = true
	}
	files, err := filepath.Glob(filepath.Join("testdata", "usage", "*.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no golden usage files (run TestEveryCommandHelp with -update)")
	}
	for _, f := range files {
		if !names[filepath.Base(f)] {
			t.Errorf("%s: no such command any more; remove the file", f)
		}
	}
}

// TestUnknownCommandsAndFlags: a misspelt command or flag is a usage
// error (exit 2) that names it and suggests the near one, at every level.
func TestUnknownCommandsAndFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"roudn", "list"}, []string{`unknown command "roudn"`, "did you mean round?"}},
		{[]string{"round", "lsit"}, []string{`unknown command "lsit"`, "did you mean list?"}},
		{[]string{"tx", "tranfser", "--key", "k"}, []string{`unknown transaction kind "tranfser"`, "did you mean transfer?"}},
		{[]string{"query", "acount"}, []string{`unknown query "acount"`, "did you mean account?"}},
		{[]string{"round", "list", "--coordinatr", "http://127.0.0.1:1"}, []string{"unknown flag: --coordinatr", "did you mean --coordinator?"}},
		{[]string{"submit", "proof", "--jsno"}, []string{"unknown flag: --jsno", "--json"}},
		{[]string{"frobnicate"}, []string{`unknown command "frobnicate"`, "lightkeeper -h"}},
		{[]string{"round"}, []string{"needs a command: get, list"}},
		{[]string{"round", "get"}, []string{"takes one round id"}},
		{[]string{"keeper", "--key", "k.key", "--coordinator", "http://127.0.0.1:1,127.0.0.1:2"}, []string{"--coordinator", `"127.0.0.1:2"`, "http:// or https://"}},
		{[]string{"keeper", "--key", "k.key", "--coordinator", " , "}, []string{"--coordinator", "no coordinator URL"}},
		{[]string{"bench", "--timeout-commit", "1s"}, []string{"--timeout-commit", "give --replicas too"}},
		{[]string{"bench", "--replicas", "4", "--timeout-commit", "0s"}, []string{"--timeout-commit 0s", "want a positive duration"}},
		{nil, []string{"a command is required"}},
	} {
		var out, errOut bytes.Buffer
		code := run(context.Background(), tc.args, &out, &errOut)
		if code != 2 {
			t.Errorf("lightkeeper %q: exit %d, want 2 (stderr %q)", tc.args, code, errOut.String())
		}
		for _, w := range tc.want {
			if !strings.Contains(errOut.String(), w) {
				t.Errorf("lightkeeper %q: stderr %q does not say %q", tc.args, errOut.String(), w)
			}
		}
	}
}

// TestCompletion: completion scripts come out for the three shells.
func TestCompletion(t *testing.T) {
	for shell, want := range map[string]string{"bash": "__start_lightkeeper", "zsh": "#compdef lightkeeper", "fish": "complete -c lightkeeper"} {
		var out, errOut bytes.Buffer
		if code := run(context.Background(), []string{"completion", shell}, &out, &errOut); code != 0 || !strings.Contains(out.String(), want) {
			t.Errorf("completion %s: exit %d, stderr %q; output without %q", shell, code, errOut.String(), want)
		}
	}
}
