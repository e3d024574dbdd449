// Command primes reads a limit N from its standard input (default 100000)
// and prints how many primes are below N, the largest of them and a
// checksum of all of them, using a sieve of Eratosthenes. A Lightkeeper
// compute example (GOOS=wasip1); exit code 2 for a bad limit.
package main

import (
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
)

func main() {
	in, _ := io.ReadAll(os.Stdin)
	n := 100000
	if s := strings.TrimSpace(string(in)); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil || v < 2 || v > 50_000_000 {
			fmt.Fprintf(os.Stderr, "limit %q: want an integer in 2..50000000\n", s)
			os.Exit(2)
		}
		n = v
	}
	composite := make([]bool, n)
	count, largest, sum := 0, 0, uint64(0)
	for i := 2; i < n; i++ {
		if composite[i] {
			continue
		}
		count++
		largest = i
		sum = sum*31 + uint64(i)
		for j := i * i; j < n; j += i {
			composite[j] = true
		}
	}
	fmt.Printf("primes below %d: %d, largest %d, checksum %d\n", n, count, largest, sum)
}
