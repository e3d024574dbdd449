// Package cputime reads the process's CPU time, which benchmarks report
// beside wall time: on a shared 2-core machine the two differ, and gnark
// proves on both cores.
//
// It is a development tool (devtools/): only benchmarks and tests use it,
// and production code never imports it (devtools/imports_test.go checks
// this).
package cputime
