// Package protocol holds every rule that two parties of Lightkeeper must
// compute identically, in one place: ids and hashes (round ids, block
// hashes, committee seeds, the params hash), the bytes signed for
// transactions, votes, registrations and sessions with their sign and
// verify helpers, certificate verification and the committee rule it
// recomputes (weights, the draw, sizes and thresholds), the chain
// parameters with their defaults and bounds, the proof size limits, and
// the compute limits derived from the chain's compute parameters.
//
// The state machine (coordinator/state), the service, every keeper host,
// the verifier and the CLI import it; none of them keeps a copy of a rule
// defined here. docs/design.md describes the rules; this package is their
// code.
//
// protocol is a leaf: it imports only the standard library, the generated
// protobuf types (proto/lightkeeper/v1) and google.golang.org/protobuf. It
// uses no clock, no randomness, no I/O and no other package of this module,
// so anything — a browser keeper, a light client, a replicated state
// machine — can depend on it without pulling in a proof system, a
// WebAssembly runtime or a database. TestLeaf enforces this.
package protocol
