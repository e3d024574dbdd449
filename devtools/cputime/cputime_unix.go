//go:build unix

package cputime

import (
	"syscall"
	"time"
)

// Process is the process's user + system time so far, or -1 when the
// system cannot tell.
func Process() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return -1
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
