// Command lightkeeper is the one CLI of the network: it runs coordinators,
// keepers and devnets, submits work, inspects rounds and checks
// certificates offline.
//
// The command tree is built on cobra (root.go). The development commands —
// demo, bench, devnet and keeper --strategy — are registered by the dev_*.go
// files, the only ones that import devtools/ (devtools/imports_test.go).
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"
)

// shutdownGrace is how long a command may take to shut down after SIGTERM
// or an interrupt. Shutting down cancels every context, which stops
// servers, keepers and compute runs (a compile nobody waits for is
// abandoned); whatever still holds the process after this long (a compile
// inside one function, a stuck handler) does not get to keep it: the
// process exits with status 1. The chain loses nothing: every block is
// synced before it is acknowledged.
const shutdownGrace = 10 * time.Second

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go exitAfterGrace(ctx, stop, shutdownGrace, os.Stderr)
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// exitAfterGrace exits the process grace after ctx ends (the first
// signal). It also restores the signals' default action, so a second
// SIGTERM or interrupt ends the process at once.
func exitAfterGrace(ctx context.Context, stop context.CancelFunc, grace time.Duration, stderr io.Writer) {
	<-ctx.Done()
	stop()
	time.Sleep(grace)
	fmt.Fprintf(stderr, "lightkeeper: still shutting down %v after the signal; exiting\n", grace)
	os.Exit(1)
}
