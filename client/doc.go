// Package client is a Go client for a coordinator's Connect API: it
// submits rounds, verifying keys and programs, retrying while the
// coordinator is unavailable (retry.go); follows rounds to their decision;
// pages through round listings; signs and submits economy transactions;
// and runs a wallet's deposits and withdrawals in the shielded pool.
//
// The CLI (cmd/lightkeeper), the development tools (devtools/...) and the
// tests all submit through it, so they share one retry policy.
package client
