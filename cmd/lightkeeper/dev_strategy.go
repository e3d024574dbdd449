package main

// The dev_*.go files are the development commands and flags of the
// binary, the only files of cmd/lightkeeper that import devtools/
// (devtools/imports_test.go checks it): demo, bench, devnet, and keeper's
// --strategy, which tests and the demo use to run Byzantine keepers.

import (
	"github.com/spf13/pflag"

	"github.com/lightkeeper-net/lightkeeper/devtools/byzantine"
	"github.com/lightkeeper-net/lightkeeper/keeper"
)

func init() {
	keeperStrategyFlag = func(fs *pflag.FlagSet) func() (keeper.Behaviour, error) {
		strategy := fs.String("strategy", string(byzantine.Honest), "behaviour, for testing: honest, approve-all, reject-all, random, silent, equivocate, wrong-output")
		return func() (keeper.Behaviour, error) {
			st, err := byzantine.ParseStrategy(*strategy)
			if err != nil {
				return nil, usageError{err}
			}
			return st, nil
		}
	}
}
