package pebbledb

import (
	"errors"
	"testing"

	lightkeeperv1 "github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1"
)

// FuzzListRoundsPageToken feeds arbitrary page tokens to ListRounds: it
// must never panic, must refuse anything that is not a listing position
// with ErrInvalidPageToken, and otherwise return a well-ordered page.
func FuzzListRoundsPageToken(f *testing.F) {
	s := openT(f, f.TempDir())
	b := s.NewBatch()
	for i := range 6 {
		r := sampleRound(id(i), uint64(i/2), lightkeeperv1.RoundPhase_ROUND_PHASE_VOTING)
		if err := b.PutRound(r); err != nil {
			f.Fatal(err)
		}
	}
	if err := b.Commit(); err != nil {
		f.Fatal(err)
	}
	_, good, err := s.ListRounds("", 2)
	if err != nil || good == "" {
		f.Fatalf("ListRounds: %q, %v", good, err)
	}

	f.Add("")
	f.Add(good)
	f.Add(good + "A")
	f.Add(good + "==")
	f.Add(good[:len(good)-1])
	f.Add("!!!!")
	f.Add("AAAA")
	f.Add("bA")
	f.Add(pageTokenEncoding.EncodeToString(blockKey(3)))
	f.Add(pageTokenEncoding.EncodeToString(make([]byte, listingKeyLen)))
	f.Add(pageTokenEncoding.EncodeToString(append([]byte{prefixRoundListing}, make([]byte, listingKeyLen-1)...)))
	f.Add(pageTokenEncoding.EncodeToString(append([]byte{prefixRoundListing + 1}, make([]byte, listingKeyLen-1)...)))

	f.Fuzz(func(t *testing.T, token string) {
		rounds, next, err := s.ListRounds(token, 2)
		if err != nil {
			if !errors.Is(err, ErrInvalidPageToken) {
				t.Fatalf("ListRounds(%q): %v, want nil or ErrInvalidPageToken", token, err)
			}
			if rounds != nil || next != "" {
				t.Fatalf("ListRounds(%q) returned data with an error", token)
			}
			return
		}
		if len(rounds) > 2 {
			t.Fatalf("ListRounds(%q): %d rounds, limit 2", token, len(rounds))
		}
		for i := 1; i < len(rounds); i++ {
			a, b := rounds[i-1], rounds[i]
			if a.GetSubmittedHeight() < b.GetSubmittedHeight() ||
				a.GetSubmittedHeight() == b.GetSubmittedHeight() && a.GetId() <= b.GetId() {
				t.Fatalf("ListRounds(%q): not newest first: %s@%d before %s@%d", token,
					a.GetId(), a.GetSubmittedHeight(), b.GetId(), b.GetSubmittedHeight())
			}
		}
		if next != "" {
			if _, _, err := s.ListRounds(next, 2); err != nil {
				t.Fatalf("ListRounds(next of %q = %q): %v", token, next, err)
			}
		}
	})
}
