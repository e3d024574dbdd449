// Package cputime reads the process's CPU time, which benchmarks report
// beside wall time: on a shared 2-core machine the two differ, and gnark
// proves on both cores.
package cputime
