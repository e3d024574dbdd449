package service_test

import (
	"testing"

	"github.com/lightkeeper-net/lightkeeper/coordinator/service"
)

// FuzzParseCursor: a WatchWithdrawals cursor from a client parses or is
// refused, and what parses prints back to a cursor that parses the same.
func FuzzParseCursor(f *testing.F) {
	for _, s := range []string{"", "0:0", "12:3", "18446744073709551615:4294967295", "1:", ":1", "-1:0", "1:4294967296", "+1:0"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		h, i, err := service.ParseCursor(s)
		if err != nil {
			return
		}
		h2, i2, err := service.ParseCursor(service.FormatCursor(h, i))
		if err != nil || h2 != h || i2 != i {
			t.Fatalf("%q → (%d, %d) → %q → (%d, %d, %v)", s, h, i, service.FormatCursor(h, i), h2, i2, err)
		}
	})
}
