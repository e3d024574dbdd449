package protocol

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"

	lightkeeperv1 "github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1"
)

// Weights returns the committee weight of each eligible keeper, in the
// order given (the machine passes keepers sorted by id):
//
//	weight_i = ⌊stake_weight_bps·stake_i·2³²/Σstake⌋ + ⌊reputation_weight_bps·rep_i·2³²/Σrep⌋
//
// computed exactly with 128-bit integer arithmetic. The weights add up to at
// most 10,000·2³² < 2⁴⁶, so remaining totals never overflow. A component
// whose sum is zero contributes nothing; negative reputations count as zero.
// If Σstake (or Σrep) does not fit in 64 bits, every value is first shifted
// right by the same number of bits so that it does — deterministic, and
// only reachable with absurd stakes.
func Weights(eligible []*lightkeeperv1.Keeper, p *lightkeeperv1.ConsensusParams) []*lightkeeperv1.WeightedKeeper {
	stakes := make([]uint64, len(eligible))
	reps := make([]uint64, len(eligible))
	for i, k := range eligible {
		stakes[i] = k.GetStake()
		if r := k.GetReputation(); r > 0 {
			reps[i] = uint64(r)
		}
	}
	sw := scaledShares(stakes, p.GetStakeWeightBps())
	rw := scaledShares(reps, p.GetReputationWeightBps())
	out := make([]*lightkeeperv1.WeightedKeeper, len(eligible))
	for i, k := range eligible {
		out[i] = &lightkeeperv1.WeightedKeeper{KeeperId: k.GetId(), Weight: sw[i] + rw[i]}
	}
	return out
}

// scaledShares returns ⌊bps·v_i·2³²/Σv⌋ for each i.
func scaledShares(v []uint64, bps uint32) []uint64 {
	out := make([]uint64, len(v))
	var hi, lo uint64
	for _, x := range v {
		var c uint64
		lo, c = bits.Add64(lo, x, 0)
		hi += c
	}
	shift := uint(0)
	if hi != 0 {
		// Σ(v_i >> s) ≤ Σv >> s < 2⁶⁴ with s = bitlen(hi).
		shift = uint(bits.Len64(hi))
		lo = 0
		for _, x := range v {
			lo += x >> shift
		}
	}
	sum := lo
	if sum == 0 || bps == 0 {
		return out
	}
	mul := uint64(bps) << 32 // ≤ 10,000·2³² < 2⁴⁶
	for i, x := range v {
		x >>= shift
		h, l := bits.Mul64(x, mul)
		// x ≤ sum, so the quotient is ≤ mul < 2⁶⁴ and h < sum: no panic.
		out[i], _ = bits.Div64(h, l, sum)
	}
	return out
}

// DrawCommittee draws size seats from eligible (sorted by keeper id, ids
// unique, as stored on a Round) without replacement. Seat k takes
//
//	r = SHA-256(seed || roundID as 32 raw bytes || u32be(k)) as a big-endian integer mod W
//
// where W is the total weight of the keepers not yet drawn, then walks
// those keepers in id order, skipping zero weights, subtracting each
// weight from r until r falls inside one. Seat 0 is the leader.
func DrawCommittee(seed []byte, roundID string, eligible []*lightkeeperv1.WeightedKeeper, size int) ([]string, error) {
	list, err := NewEligibleList(eligible)
	if err != nil {
		return nil, err
	}
	return list.Draw(seed, roundID, size)
}

// EligibleList is a weighted eligible list checked once (ids well formed
// and strictly increasing, total weight within 64 bits), so that the
// machine, which draws every committee of a block from one list, does not
// check it again for each round. Its hash (EligibleListHash), which
// rounds and certificates carry instead of the list, is computed once
// with it.
type EligibleList struct {
	keepers []*lightkeeperv1.WeightedKeeper
	total   uint64
	nonZero int
	hash    [32]byte
}

// EligibleListHash is the canonical hash of a weighted eligible list,
// sorted by keeper id with ids unique (as NewEligibleList checks):
//
//	SHA-256(EligibleDomain || u32be(n) || for each keeper: id as 32 raw bytes || u64be(weight))
//
// Every field has a fixed width, so the encoding is unambiguous and
// independent of protobuf. It fails as NewEligibleList does on a
// malformed list.
func EligibleListHash(eligible []*lightkeeperv1.WeightedKeeper) ([]byte, error) {
	l, err := NewEligibleList(eligible)
	if err != nil {
		return nil, err
	}
	return l.Hash(), nil
}

// eligibleHash is EligibleListHash of a list whose ids are valid.
func eligibleHash(eligible []*lightkeeperv1.WeightedKeeper) [32]byte {
	d := sha256.New()
	buf := make([]byte, 0, len(EligibleDomain)+4)
	buf = append(buf, EligibleDomain...)
	buf = binary.BigEndian.AppendUint32(buf, uint32(len(eligible)))
	d.Write(buf)
	var e [32 + 8]byte
	for _, w := range eligible {
		id, _ := ParseID(w.GetKeeperId())
		copy(e[:32], id[:])
		binary.BigEndian.PutUint64(e[32:], w.GetWeight())
		d.Write(e[:])
	}
	return [32]byte(d.Sum(nil))
}

// NewEligibleList checks eligible; the caller must not modify it afterwards.
func NewEligibleList(eligible []*lightkeeperv1.WeightedKeeper) (*EligibleList, error) {
	l := &EligibleList{keepers: eligible}
	for i, e := range eligible {
		if !ValidID(e.GetKeeperId()) {
			return nil, fmt.Errorf("%w: eligible[%d]: keeper id %q is not 64 lowercase hex digits", ErrInvalidRequest, i, e.GetKeeperId())
		}
		if i > 0 && eligible[i-1].GetKeeperId() >= e.GetKeeperId() {
			return nil, fmt.Errorf("%w: eligible[%d]: keeper ids not strictly increasing", ErrInvalidRequest, i)
		}
		var c uint64
		l.total, c = bits.Add64(l.total, e.GetWeight(), 0)
		if c != 0 {
			return nil, fmt.Errorf("%w: eligible: total weight overflows 64 bits", ErrInvalidRequest)
		}
		if e.GetWeight() > 0 {
			l.nonZero++
		}
	}
	l.hash = eligibleHash(eligible)
	return l, nil
}

// Keepers returns the list (not a copy).
func (l *EligibleList) Keepers() []*lightkeeperv1.WeightedKeeper { return l.keepers }

// Hash returns EligibleListHash of the list (a new slice each call).
func (l *EligibleList) Hash() []byte { return bytes.Clone(l.hash[:]) }

// HashArray is Hash as an array, for use as a map key.
func (l *EligibleList) HashArray() [32]byte { return l.hash }

// Draw is DrawCommittee on the checked list.
func (l *EligibleList) Draw(seed []byte, roundID string, size int) ([]string, error) {
	rid, ok := ParseID(roundID)
	if !ok {
		return nil, fmt.Errorf("%w: round id %q is not 64 lowercase hex digits", ErrInvalidRequest, roundID)
	}
	eligible, total := l.keepers, l.total
	if size < 0 || size > l.nonZero {
		return nil, fmt.Errorf("%w: committee size %d, but only %d eligible keepers have a non-zero weight", ErrNotEnoughKeepers, size, l.nonZero)
	}
	taken := make([]bool, len(eligible))
	committee := make([]string, 0, size)
	buf := make([]byte, 0, len(seed)+32+4)
	buf = append(buf, seed...)
	buf = append(buf, rid[:]...)
	buf = append(buf, 0, 0, 0, 0)
	for k := 0; k < size; k++ {
		binary.BigEndian.PutUint32(buf[len(buf)-4:], uint32(k))
		h := sha256.Sum256(buf)
		var r uint64
		for i := 0; i < 4; i++ {
			r = bits.Rem64(r, binary.BigEndian.Uint64(h[8*i:]), total)
		}
		picked := -1
		for i, e := range eligible {
			w := e.GetWeight()
			if taken[i] || w == 0 {
				continue
			}
			if r < w {
				picked = i
				break
			}
			r -= w
		}
		if picked < 0 { // unreachable: r < total = Σ remaining weights
			return nil, errors.New("protocol: committee draw fell off the eligible list")
		}
		taken[picked] = true
		total -= eligible[picked].GetWeight()
		committee = append(committee, eligible[picked].GetKeeperId())
	}
	return committee, nil
}

// Rule is a round's committee size and thresholds.
type Rule struct {
	Size            int
	Threshold       uint32
	RejectThreshold uint32
}

// CommitteeRule is the one rule, used by the machine when it opens a round
// and by VerifyCertificate when it checks one, that gives a round's
// committee size and thresholds from the chain's parameters, the round's
// kind and the eligible list it is drawn from:
//
//   - PROOF and WITHDRAWAL: threshold = p.threshold, committee size =
//     min(p.total_validators, eligible keepers with a non-zero weight),
//     reject_threshold = size − threshold + 1.
//   - COMPUTE: threshold = reject_threshold = ComputeThreshold(p.compute_validators) = ⌈2n/3⌉,
//     size = min(p.compute_validators, non-zero weights).
//   - A random challenge drawn from the candidates outside the active set
//     (candidates true) lowers the threshold to the number of candidates
//     when there are fewer: it is judged by its known answer, not decided
//     by its number (challenge.go).
//
// It fails with ErrNotEnoughKeepers when the size would be below the
// threshold.
func CommitteeRule(p *lightkeeperv1.ConsensusParams, kind lightkeeperv1.RoundKind, eligible []*lightkeeperv1.WeightedKeeper, candidates bool) (Rule, error) {
	seats, threshold := p.GetTotalValidators(), p.GetThreshold()
	compute := kind == lightkeeperv1.RoundKind_ROUND_KIND_COMPUTE
	if compute {
		seats, threshold = p.GetComputeValidators(), computeThreshold(p)
	}
	if candidates {
		threshold = min(threshold, uint32(len(eligible)))
		if threshold == 0 {
			return Rule{}, fmt.Errorf("%w: no online candidate outside the active set", ErrNotEnoughKeepers)
		}
	}
	nonZero := 0
	for _, w := range eligible {
		if w.GetWeight() > 0 {
			nonZero++
		}
	}
	size := min(int(seats), nonZero)
	if size < int(threshold) {
		return Rule{}, fmt.Errorf("%w: have %d eligible keepers, need at least threshold %d", ErrNotEnoughKeepers, nonZero, threshold)
	}
	r := Rule{Size: size, Threshold: threshold, RejectThreshold: uint32(size) - threshold + 1}
	if compute {
		r.RejectThreshold = threshold // one majority decides either way
	}
	return r, nil
}

// computeThreshold is the number of matching results that decide a
// compute round: ComputeThreshold(compute_validators).
func computeThreshold(p *lightkeeperv1.ConsensusParams) uint32 {
	return ComputeThreshold(p.ComputeValidators)
}

// ComputeThreshold is the one rule for compute thresholds: two thirds of
// the committee, ⌈2n/3⌉ (Paraloom's 2/3 WASM verification). It is always a
// majority (2·⌈2n/3⌉ > n), so two different results can never both be
// decided. Opening a round uses it on compute_validators; a certificate's
// check uses it on the committee actually drawn (a smaller committee needs
// fewer, and the fixed threshold of a shrunk committee is still above it).
func ComputeThreshold(n uint32) uint32 {
	return (2*n + 2) / 3
}
