// Command sandbox tries everything a deterministic program must not be
// able to observe: the wall clock, the monotonic clock across a sleep,
// randomness, the environment, its arguments, files and the network. A
// Lightkeeper compute example (GOOS=wasip1): on every keeper, for the same
// round, it prints exactly the same thing.
package main

import (
	"crypto/rand"
	"fmt"
	mrand "math/rand/v2"
	"net"
	"os"
	"time"
)

func main() {
	start := time.Now()
	fmt.Println("now:", start.UTC().Format(time.RFC3339Nano))
	time.Sleep(1500 * time.Millisecond)
	fmt.Println("slept:", time.Since(start) >= 1500*time.Millisecond)
	fmt.Println("after sleep:", time.Now().UTC().Format(time.RFC3339Nano))

	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		fmt.Println("crypto/rand:", err)
	}
	fmt.Printf("crypto/rand: %x\n", b)
	fmt.Println("math/rand:", mrand.Uint64(), mrand.IntN(1000))

	fmt.Println("args:", os.Args)
	fmt.Println("environ:", os.Environ())
	host, err := os.Hostname()
	fmt.Println("hostname:", host, err)

	_, err = os.ReadFile("/etc/passwd")
	fmt.Println("read /etc/passwd:", err)
	err = os.WriteFile("out.txt", []byte("x"), 0o644)
	fmt.Println("write out.txt:", err)
	_, err = os.ReadDir(".")
	fmt.Println("read dir:", err)

	_, err = net.Dial("tcp", "127.0.0.1:80")
	fmt.Println("dial:", err)
	_, err = net.Listen("tcp", "127.0.0.1:0")
	fmt.Println("listen:", err)
}
