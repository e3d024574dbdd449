// Command sha256sum prints the SHA-256 of its standard input in hex, like
// `sha256sum -`. A Lightkeeper compute example (GOOS=wasip1).
package main

import (
	"crypto/sha256"
	"fmt"
	"io"
	"os"
)

func main() {
	h := sha256.New()
	if _, err := io.Copy(h, os.Stdin); err != nil {
		fmt.Fprintln(os.Stderr, "read:", err)
		os.Exit(1)
	}
	fmt.Printf("%x  -\n", h.Sum(nil))
}
