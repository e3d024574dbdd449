package keeper

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"connectrpc.com/connect"
)

func TestParseCoordinators(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
		bad  string // the URL the error must name; "" for no error
	}{
		{"http://a:8080", []string{"http://a:8080"}, ""},
		{"http://a:8080/, https://b.example/lk ,", []string{"http://a:8080", "https://b.example/lk"}, ""},
		{"http://a\nhttp://b\n\n", []string{"http://a", "http://b"}, ""},
		{"http://a,,http://b", []string{"http://a", "http://b"}, ""},
		{"http://a,ftp://b", nil, "ftp://b"},
		{"http://a,b:8080", nil, "b:8080"},
		{"http://a,http://", nil, "http://"},
		{"http://a,http://a/", nil, "http://a/"},
		{"http://a,http://b?x=1", nil, "http://b?x=1"},
	} {
		got, err := ParseCoordinators(tc.in)
		if tc.bad == "" {
			if err != nil || !slices.Equal(got, tc.want) {
				t.Errorf("%q: %q, %v; want %q", tc.in, got, err, tc.want)
			}
			continue
		}
		var ue *CoordinatorURLError
		if !errors.As(err, &ue) || ue.URL != tc.bad || !strings.Contains(err.Error(), fmt.Sprintf("%q", tc.bad)) {
			t.Errorf("%q: error %v, want one naming %q", tc.in, err, tc.bad)
		}
	}
	for _, empty := range []string{"", " , ,\n"} {
		if _, err := ParseCoordinators(empty); !errors.Is(err, ErrNoCoordinator) {
			t.Errorf("%q: %v, want ErrNoCoordinator", empty, err)
		}
	}
}

// Only errors that say the coordinator is not there move the keeper: a
// refusal would be the same from every replica.
func TestFailoverErrors(t *testing.T) {
	for _, tc := range []struct {
		err  error
		move bool
	}{
		{connect.NewError(connect.CodeUnavailable, errors.New("dial tcp: connection refused")), true},
		{fmt.Errorf("pull: %w", connect.NewError(connect.CodeDeadlineExceeded, errors.New("x"))), true},
		{connect.NewError(connect.CodeUnimplemented, errors.New("404")), true},
		{errors.New("unexpected EOF"), true},
		{errStreamClosed, true},
		{&WrongChainError{URL: "http://b", Want: "a", Got: "b"}, true},
		{fmt.Errorf("chain info: %w", &HaltedError{URL: "http://b", Reason: "wrong Block.Header.AppHash"}), true},
		{connect.NewError(connect.CodeInvalidArgument, errors.New("x")), false},
		{connect.NewError(connect.CodePermissionDenied, errors.New("x")), false},
		{connect.NewError(connect.CodeFailedPrecondition, errors.New("not registered")), false},
		{connect.NewError(connect.CodeResourceExhausted, errors.New("rate")), false},
		{context.Canceled, false},
		{nil, false},
	} {
		if got := failover(tc.err); got != tc.move {
			t.Errorf("failover(%v) = %v, want %v", tc.err, got, tc.move)
		}
	}
}

// Two goroutines seeing the same coordinator fail move the keeper once.
func TestSwitchFromOnce(t *testing.T) {
	k := newKeeper([]string{"http://a", "http://b", "http://c"}, make([]byte, 64), NewConfig())
	if !k.switchFrom(0, errStreamClosed) || !k.switchFrom(0, errStreamClosed) {
		t.Fatal("switchFrom(0) does not report the keeper elsewhere")
	}
	if s := k.Stats(); s.Switches != 1 || s.Coordinator != "http://b" {
		t.Fatalf("after two reports on a: %d switches, on %s; want 1, on http://b", s.Switches, s.Coordinator)
	}
	k.switchFrom(1, errStreamClosed)
	k.switchFrom(2, errStreamClosed)
	if s := k.Stats(); s.Switches != 3 || s.Coordinator != "http://a" {
		t.Fatalf("round robin: %d switches, on %s", s.Switches, s.Coordinator)
	}
	one := newKeeper([]string{"http://a"}, make([]byte, 64), NewConfig())
	if one.switchFrom(0, errStreamClosed) || one.Stats().Switches != 0 {
		t.Fatal("a keeper with one coordinator switched")
	}
}
