//go:build !lightkeeper_nobls12381

package verifier_test

import "github.com/lightkeeper-net/lightkeeper/verifier"

func init() { built.curves[verifier.CurveBLS12_381] = true }
