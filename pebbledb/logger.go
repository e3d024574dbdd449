package pebbledb

import (
	"fmt"
	"log/slog"
)

// slogLogger adapts a *slog.Logger to pebble.Logger.
type slogLogger struct{ l *slog.Logger }

func (s slogLogger) Infof(format string, args ...any) {
	s.l.Info(fmt.Sprintf(format, args...))
}

func (s slogLogger) Errorf(format string, args ...any) {
	s.l.Error(fmt.Sprintf(format, args...))
}

// Fatalf is called by Pebble for conditions it cannot continue from (for
// example detected data corruption). Pebble's own default logger exits the
// process; this one logs and panics, so the stack is kept.
func (s slogLogger) Fatalf(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	s.l.Error(msg, "fatal", true)
	panic("pebble: fatal: " + msg)
}
