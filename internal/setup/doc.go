// Package setup writes and reads the files a network starts from: keeper
// keys, genesis.json and config.toml.
//
// It stays in internal/ because production uses it: the coordinator and
// keeper commands of cmd/lightkeeper read and write these files. Nothing
// in it is a development tool.
package setup
