package verifier

import "github.com/lightkeeper-net/lightkeeper/protocol"

// BatchHolds runs the combined Groth16 check alone (no one-by-one
// fallback) on jobs under one key, so tests can see that it accepts valid
// batches and refuses invalid ones by itself. It runs the check twice on
// the same decoded key and reports whether both held, as a cached key
// must serve every batch after the first. The curve must be one this
// build links.
func BatchHolds(jobs []ProofJob) (bool, *Error) {
	return batchHolders[jobs[0].Curve](jobs)
}

// batchHolders is BatchHolds per curve; export_bls12381_test.go adds
// BLS12-381 in the builds that have it.
var batchHolders = map[Curve]func([]ProofJob) (bool, *Error){CurveBN254: batchHoldsBn254}

func batchHoldsBn254(jobs []ProofJob) (bool, *Error) {
	limits := protocol.DefaultLimits()
	k, e := newGroth16KeyBn254(jobs[0].VerifyingKey, limits)
	if e != nil {
		return false, e
	}
	var proofs []*groth16ProofBn254
	var publics []frVectorBn254
	for i := range jobs {
		p, pub, e := readGroth16JobBn254(k.vk, &jobs[i], limits)
		if e != nil {
			return false, e
		}
		proofs, publics = append(proofs, p), append(publics, pub)
	}
	return k.batchHolds(proofs, publics) && k.batchHolds(proofs, publics), nil
}
