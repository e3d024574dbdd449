//go:build !lightkeeper_nobls12381

package verifier

import "github.com/lightkeeper-net/lightkeeper/protocol"

func init() { batchHolders[CurveBLS12_381] = batchHoldsBls12381 }

func batchHoldsBls12381(jobs []ProofJob) (bool, *Error) {
	limits := protocol.DefaultLimits()
	k, e := newGroth16KeyBls12381(jobs[0].VerifyingKey, limits)
	if e != nil {
		return false, e
	}
	var proofs []*groth16ProofBls12381
	var publics []frVectorBls12381
	for i := range jobs {
		p, pub, e := readGroth16JobBls12381(k.vk, &jobs[i], limits)
		if e != nil {
			return false, e
		}
		proofs, publics = append(proofs, p), append(publics, pub)
	}
	return k.batchHolds(proofs, publics) && k.batchHolds(proofs, publics), nil
}
