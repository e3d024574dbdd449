// Command spin never ends: it counts forever. A Lightkeeper compute
// example (GOOS=wasip1) showing that a program that loops forever ends as
// the deterministic result "out of fuel", with the same fuel count on every
// keeper, and not as a timeout.
package main

import "fmt"

var sink uint64

func main() {
	fmt.Println("spinning")
	for i := uint64(0); ; i++ {
		sink += i * i
	}
}
