package state

import (
	"math"
	"math/big"
	"math/bits"

	"github.com/lightkeeper-net/lightkeeper/protocol"
)

// Integer arithmetic of the economy. Every formula truncates toward zero;
// products are taken in 128 bits, so ⌊a·b/c⌋ is exact whenever the
// quotient fits in 64 bits (it saturates at 2⁶⁴−1 otherwise, which the
// bounds on amounts and parameters make unreachable).

// mulDiv returns ⌊a·b/c⌋ (0 when c is 0).
func mulDiv(a, b, c uint64) uint64 {
	if c == 0 {
		return 0
	}
	hi, lo := bits.Mul64(a, b)
	if hi >= c {
		return math.MaxUint64
	}
	q, _ := bits.Div64(hi, lo, c)
	return q
}

// mulBps returns ⌊a·bps/10,000⌋.
func mulBps(a uint64, bps uint32) uint64 { return mulDiv(a, uint64(bps), protocol.BPS) }

// ema returns ⌊(α·sample + (10,000−α)·old)/10,000⌋ with α in basis points.
// Both terms are taken in 128 bits.
func ema(old, sample uint64, alphaBps uint32) uint64 {
	h1, l1 := bits.Mul64(sample, uint64(alphaBps))
	h2, l2 := bits.Mul64(old, uint64(protocol.BPS-alphaBps))
	lo, c := bits.Add64(l1, l2, 0)
	hi := h1 + h2 + c
	if hi >= protocol.BPS {
		return math.MaxUint64
	}
	q, _ := bits.Div64(hi, lo, protocol.BPS)
	return q
}

// epochUptime is the uptime score of one epoch in parts per million:
//
//	participation_ppm = voted / assigned (10⁶ without assignments) × online_ppm / 10⁶
//	x = min(participation_ppm + grace_bps·100, 10⁶)
//	score = x^exponent / 10^(6·(exponent−1))
//
// computed as `exponent` successive truncating multiplications
// s ← ⌊s·x/10⁶⌋ starting from s = 10⁶, so every step stays below 10¹².
// online_ppm is the part of the epoch the keeper was online (10⁶ when it
// never went offline).
func epochUptime(assigned, missed, onlinePpm uint64, graceBps, exponent uint32) uint64 {
	if assigned == 0 && onlinePpm >= protocol.UptimeOne {
		return protocol.UptimeOne
	}
	p := uint64(protocol.UptimeOne)
	if assigned > 0 {
		voted := assigned - min(missed, assigned)
		p = mulDiv(voted, protocol.UptimeOne, assigned)
	}
	x := mulDiv(p, min(onlinePpm, protocol.UptimeOne), protocol.UptimeOne) + uint64(graceBps)*100
	x = min(x, protocol.UptimeOne)
	s := uint64(protocol.UptimeOne)
	for range exponent {
		s = s * x / protocol.UptimeOne
	}
	return s
}

// shareOf returns ⌊total·part/whole⌋ for big-integer weights (whole > 0,
// part ≤ whole, so the result is at most total).
func shareOf(total uint64, part, whole *big.Int) uint64 {
	if whole.Sign() <= 0 {
		return 0
	}
	q := new(big.Int).SetUint64(total)
	q.Mul(q, part)
	q.Quo(q, whole)
	return q.Uint64()
}

// quotientLess reports whether a/(sa+1) < b/(sb+1), i.e. a·(sb+1) <
// b·(sa+1), exactly in 128 bits (D'Hondt comparisons).
func quotientLess(a uint64, sa int, b uint64, sb int) bool {
	h1, l1 := bits.Mul64(a, uint64(sb)+1)
	h2, l2 := bits.Mul64(b, uint64(sa)+1)
	if h1 != h2 {
		return h1 < h2
	}
	return l1 < l2
}

// atLeastBps reports whether part ≥ bps/10,000 of whole (part·10,000 ≥
// bps·whole) exactly.
func atLeastBps(part, whole uint64, bps uint32) bool {
	h1, l1 := bits.Mul64(part, protocol.BPS)
	h2, l2 := bits.Mul64(whole, uint64(bps))
	if h1 != h2 {
		return h1 > h2
	}
	return l1 >= l2
}

// addSat adds with saturation (sums of bounded amounts never saturate).
func addSat(a, b uint64) uint64 {
	s, c := bits.Add64(a, b, 0)
	if c != 0 {
		return math.MaxUint64
	}
	return s
}

// decayed applies days of daily decay at ppm to a reputation with its
// carried remainder (millionths of a point): each day the loss is
// rep·ppm + carry millionths, of which the whole points are taken and the
// rest carried, so a reputation loses exactly ppm/10⁶ a day on average,
// near the floor too (0.2 of a point a day at 200, carried until it makes
// a point). It stops at floor, where the carry is dropped.
func decayed(rep int64, carry uint32, days, ppm, floor int64) (int64, uint32) {
	c := int64(carry)
	for d := int64(0); d < days && rep > floor; d++ {
		loss := rep*ppm + c
		rep -= loss / protocol.PPM
		c = loss % protocol.PPM
		if rep <= floor {
			rep, c = floor, 0
		}
	}
	return rep, uint32(c)
}
