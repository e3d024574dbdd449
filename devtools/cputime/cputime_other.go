//go:build !unix

package cputime

import "time"

// Process is unknown here: callers report wall time only.
func Process() time.Duration { return -1 }
