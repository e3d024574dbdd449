package pebbledb

import (
	"log/slog"

	"github.com/cockroachdb/pebble/v2"
)

// PebbleLogger is the store's adapter of slog to Pebble's logger, for
// other Pebble databases of the same process (a replica's CometBFT
// stores), so that they log alike.
func PebbleLogger(l *slog.Logger) pebble.Logger { return slogLogger{l} }
