//go:build !lightkeeper_noplonk

package verifier_test

import "github.com/lightkeeper-net/lightkeeper/verifier"

func init() { built.schemes[verifier.SchemePlonk] = true }
