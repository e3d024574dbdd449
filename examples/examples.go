// Package examples holds the example compute programs (one main package per
// directory, built for GOOS=wasip1; see README.md). This file only embeds
// their sources, so that the demo and the tests can build them from any
// checkout or binary with nothing but the Go toolchain
// (devtools/exampleprog).
package examples

import "embed"

// Sources holds <name>/main.go of every example.
//
//go:embed */main.go
var Sources embed.FS
