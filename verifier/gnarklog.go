package verifier

import "github.com/consensys/gnark/logger"

// gnark's backends log through one process-wide zerolog logger
// (github.com/consensys/gnark/logger) which, outside `go test`, writes a
// debug line with a timing to stdout at the end of every Verify. gnark has
// no per-call option to turn this off (backend.VerifierOption covers hash
// functions only), so the package silences that logger once, here, when it
// is initialised. It is the only global configuration this package touches,
// and for the same reason in every program that imports it: a keeper's
// stdout (under GOOS=js, the console of a browser tab or an edge worker)
// is for the keeper's own output, and CLI commands such as `lightkeeper
// demo` print results there. Package init order runs gnark's logger init
// first, so this always wins; a program that does want gnark's lines can
// call logger.Set or logger.SetOutput after its imports are initialised.
func init() { logger.Disable() }
