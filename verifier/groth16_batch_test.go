package verifier_test

import (
	"fmt"
	"github.com/lightkeeper-net/lightkeeper/protocol"
	"testing"

	"github.com/lightkeeper-net/lightkeeper/devtools/proofgen"
	"github.com/lightkeeper-net/lightkeeper/verifier"
)

var groth16Curves = []verifier.Curve{verifier.CurveBN254, verifier.CurveBLS12_381}

// validJobs returns n valid jobs under f's key, each with its own secret.
func validJobs(tb testing.TB, f *proofgen.Fixture, n int) []verifier.ProofJob {
	tb.Helper()
	jobs := make([]verifier.ProofJob, n)
	for i := range jobs {
		p, err := f.Prove(uint64(100 + i))
		if err != nil {
			tb.Fatal(err)
		}
		jobs[i] = f.Job(p)
	}
	return jobs
}

// wantVerdicts checks VerifyBatch with and without a cache against the
// expected votes and reasons, and against VerifyProof job by job.
func wantVerdicts(t *testing.T, jobs []verifier.ProofJob, want []verifier.RejectReason) {
	t.Helper()
	lim := protocol.DefaultLimits()
	for _, cache := range []*verifier.KeyCache{nil, verifier.NewKeyCache(4)} {
		got := cache.VerifyBatch(jobs, lim)
		if len(got) != len(jobs) {
			t.Fatalf("%d verdicts for %d jobs", len(got), len(jobs))
		}
		for i, v := range got {
			wantVote := protocol.VoteApprove
			if want[i] != verifier.ReasonNone {
				wantVote = protocol.VoteReject
			}
			if v.Vote != wantVote || v.Reason != want[i] {
				t.Errorf("job %d: verdict %v, want %v/%v", i, v, wantVote, want[i])
			}
			if single := verifier.VerifyProof(jobs[i], lim); single.Vote != v.Vote || single.Reason != v.Reason {
				t.Errorf("job %d: batch verdict %v, alone %v", i, v, single)
			}
		}
	}
}

func approvals(n int) []verifier.RejectReason { return make([]verifier.RejectReason, n) }

func TestVerifyBatchValid(t *testing.T) {
	for _, c := range groth16Curves {
		k := getKit(t, combo{verifier.SchemeGroth16, c})
		for _, commit := range []bool{false, true} {
			f := k.f
			if commit {
				f = k.committed
			}
			jobs := validJobs(t, f, 8)
			for _, n := range []int{1, 2, 8} {
				t.Run(fmt.Sprintf("%s/commit=%v/n=%d", c, commit, n), func(t *testing.T) {
					wantVerdicts(t, jobs[:n], approvals(n))
					if !commit && n > 1 {
						ok, e := verifier.BatchHolds(jobs[:n])
						if e != nil || !ok {
							t.Fatalf("combined check refused %d valid proofs: %v", n, e)
						}
					}
				})
			}
		}
	}
}

// TestVerifyBatchOneBad puts one bad job among valid ones under the same
// key: it alone is refused, the valid ones stay approved, and the combined
// check by itself refuses the batch.
func TestVerifyBatchOneBad(t *testing.T) {
	for _, c := range groth16Curves {
		k := getKit(t, combo{verifier.SchemeGroth16, c})
		otherProof, err := k.other.Prove(3)
		if err != nil {
			t.Fatal(err)
		}
		for _, commit := range []bool{false, true} {
			f := k.f
			if commit {
				f = k.committed
			}
			p, err := f.Prove(7)
			if err != nil {
				t.Fatal(err)
			}
			cases := []struct {
				name   string
				job    verifier.ProofJob
				reason verifier.RejectReason
			}{
				{"flipped point", f.Job(proofgen.FlipBit(p)), verifier.ReasonInvalidProof},
				{"wrong public input", f.Job(proofgen.WrongPublicInput(p, c)), verifier.ReasonInvalidProof},
				{"truncated proof", f.Job(proofgen.Truncate(p)), verifier.ReasonMalformedProof},
				{"proof of another circuit", f.Job(otherProof), verifier.ReasonInvalidProof},
			}
			for _, tc := range cases {
				t.Run(fmt.Sprintf("%s/commit=%v/%s", c, commit, tc.name), func(t *testing.T) {
					jobs := validJobs(t, f, 7)
					const bad = 3
					jobs = append(jobs[:bad], append([]verifier.ProofJob{tc.job}, jobs[bad:]...)...)
					want := approvals(len(jobs))
					want[bad] = tc.reason
					wantVerdicts(t, jobs, want)
					if !commit && tc.reason == verifier.ReasonInvalidProof {
						if ok, e := verifier.BatchHolds(jobs); e != nil || ok {
							t.Fatalf("combined check accepted a batch with an invalid proof (err %v)", e)
						}
					}
				})
			}
		}
	}
}

// TestVerifyBatchMixedKeys interleaves jobs under two keys and PLONK jobs:
// each key is its own group, and a proof under a key it was not made for
// is refused.
func TestVerifyBatchMixedKeys(t *testing.T) {
	for _, c := range groth16Curves {
		t.Run(c.String(), func(t *testing.T) {
			k := getKit(t, combo{verifier.SchemeGroth16, c})
			pk := getKit(t, combo{verifier.SchemePlonk, c})
			a, b := validJobs(t, k.f, 4), validJobs(t, k.other, 4)
			var jobs []verifier.ProofJob
			for i := range a {
				jobs = append(jobs, a[i], b[i])
			}
			jobs = append(jobs, pk.f.Job(pk.p))
			swapped := a[0]
			swapped.VerifyingKey = b[0].VerifyingKey
			jobs = append(jobs, swapped)
			want := approvals(len(jobs))
			want[len(jobs)-1] = verifier.ReasonInvalidProof
			wantVerdicts(t, jobs, want)

			cache := verifier.NewKeyCache(8)
			cache.VerifyBatch(jobs, protocol.DefaultLimits())
			if n := cache.Len(); n != 3 {
				t.Fatalf("cache holds %d keys, want 3 (two Groth16, one PLONK)", n)
			}
		})
	}
}

// TestVerifyBatchRefusals: jobs refused before any key is decoded, and a
// malformed key, keep their own verdicts inside a batch.
func TestVerifyBatchRefusals(t *testing.T) {
	k := getKit(t, combo{verifier.SchemeGroth16, verifier.CurveBN254})
	jobs := validJobs(t, k.f, 5)
	jobs[1].Scheme = 9
	jobs[2].VerifyingKey = jobs[2].VerifyingKey[:len(jobs[2].VerifyingKey)-1]
	jobs[3].PublicInputs = []byte(`["1"]`)
	want := approvals(len(jobs))
	want[1], want[2], want[3] = verifier.ReasonUnsupported, verifier.ReasonMalformedVerifyingKey, verifier.ReasonWrongInputCount
	wantVerdicts(t, jobs, want)
}

// TestKeyCacheBound: the cache never holds more than its size, and an
// evicted key is decoded again with the same verdicts.
func TestKeyCacheBound(t *testing.T) {
	k := getKit(t, combo{verifier.SchemeGroth16, verifier.CurveBN254})
	a, b := validJobs(t, k.f, 1)[0], validJobs(t, k.other, 1)[0]
	cache := verifier.NewKeyCache(1)
	lim := protocol.DefaultLimits()
	for i, job := range []verifier.ProofJob{a, b, a, b} {
		if v := cache.VerifyProof(job, lim); v.Vote != protocol.VoteApprove {
			t.Fatalf("job %d: %v", i, v)
		}
		if n := cache.Len(); n != 1 {
			t.Fatalf("after job %d the cache holds %d keys, want 1", i, n)
		}
	}
	// A key checked under a lower public-input limit is another entry.
	small := lim
	small.MaxPublicInputs = 1
	if v := cache.VerifyProof(a, small); v.Reason != verifier.ReasonOversized {
		t.Fatalf("under a 1-input limit: %v, want oversized", v)
	}
}
