// Command floats reads whitespace-separated numbers from its standard
// input and prints their count, mean, standard deviation, the square root
// of their sum, and the bit patterns of NaNs computed at run time (0/0,
// Inf-Inf, sqrt(-1)). A Lightkeeper compute example (GOOS=wasip1): IEEE 754
// arithmetic is deterministic except for the bits of NaN results, which
// the metering canonicalises, so every keeper prints the same bits.
package main

import (
	"bufio"
	"fmt"
	"math"
	"os"
	"strconv"
)

func main() {
	var xs []float64
	sc := bufio.NewScanner(os.Stdin)
	sc.Split(bufio.ScanWords)
	for sc.Scan() {
		v, err := strconv.ParseFloat(sc.Text(), 64)
		if err != nil {
			fmt.Fprintln(os.Stderr, "not a number:", sc.Text())
			os.Exit(2)
		}
		xs = append(xs, v)
	}
	sum, sq := 0.0, 0.0
	for _, x := range xs {
		sum += x
	}
	mean := sum / float64(len(xs)) // NaN for no input: 0/0 at run time
	for _, x := range xs {
		sq += (x - mean) * (x - mean)
	}
	std := math.Sqrt(sq / float64(len(xs)))
	fmt.Printf("n=%d mean=%.17g std=%.17g sqrt(sum)=%.17g\n", len(xs), mean, std, math.Sqrt(sum))

	zero := float64(len(xs) - len(xs)) // a run-time zero, so nothing is folded
	inf := 1 / zero
	nans := []float64{zero / zero, inf - inf, math.Sqrt(zero - 1), float64(float32(zero / zero))}
	for _, n := range nans {
		fmt.Printf("nan bits %016x\n", math.Float64bits(n))
	}
	fmt.Printf("mean bits %016x\n", math.Float64bits(mean))
}
