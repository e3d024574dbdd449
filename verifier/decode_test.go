package verifier

import (
	"bytes"
	"testing"

	bls12381 "github.com/consensys/gnark-crypto/ecc/bls12-381"
	"github.com/consensys/gnark-crypto/ecc/bn254"
)

// TestPointSizes checks, for every possible first byte, that the pre-check
// skips exactly as many bytes for a point as gnark-crypto's decoder reads
// for it. If the two disagreed, the pre-check would look for the next
// length prefix somewhere else than gnark does.
func TestPointSizes(t *testing.T) {
	type decoder interface {
		Decode(any) error
		BytesRead() int64
	}
	curves := []struct {
		curve  Curve
		g1, g2 any
		dec    func(b []byte) decoder
	}{
		{CurveBN254, new(bn254.G1Affine), new(bn254.G2Affine), func(b []byte) decoder { return bn254.NewDecoder(bytes.NewReader(b)) }},
		{CurveBLS12_381, new(bls12381.G1Affine), new(bls12381.G2Affine), func(b []byte) decoder { return bls12381.NewDecoder(bytes.NewReader(b)) }},
	}
	for _, c := range curves {
		enc := encodingOf(c.curve)
		if enc == nil {
			continue // a curve this build leaves out: nothing scans it
		}
		for _, p := range []struct {
			name string
			v    any
			size int
		}{{"G1", c.g1, enc.g1}, {"G2", c.g2, enc.g2}} {
			for msb := range 256 {
				b := make([]byte, 2*p.size)
				b[0] = byte(msb)
				d := c.dec(b)
				d.Decode(p.v) // the point is mostly invalid; only the length read matters
				s := newScanner(c.curve, b)
				if err := s.point(p.size, "point"); err != nil {
					t.Fatal(err)
				}
				if int64(s.off) != d.BytesRead() {
					t.Errorf("%s %s, first byte %#02x: pre-check skips %d bytes, gnark-crypto reads %d", c.curve, p.name, msb, s.off, d.BytesRead())
				}
			}
		}
	}
}
