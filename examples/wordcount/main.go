// Command wordcount prints the line, word and byte counts of its standard
// input and its five most frequent words. A Lightkeeper compute example
// (GOOS=wasip1): the output depends only on the input, although Go's map
// iteration order is randomised, because the words are sorted.
package main

import (
	"bufio"
	"fmt"
	"os"
	"sort"
	"strings"
)

func main() {
	counts := map[string]int{}
	lines, words, bytes := 0, 0, 0
	sc := bufio.NewScanner(os.Stdin)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		lines++
		bytes += len(line) + 1
		for _, w := range strings.Fields(line) {
			words++
			counts[strings.ToLower(strings.Trim(w, ".,;:!?\"'()"))]++
		}
	}
	type wc struct {
		w string
		n int
	}
	var all []wc
	for w, n := range counts {
		if w != "" {
			all = append(all, wc{w, n})
		}
	}
	sort.Slice(all, func(i, j int) bool {
		if all[i].n != all[j].n {
			return all[i].n > all[j].n
		}
		return all[i].w < all[j].w
	})
	fmt.Printf("%d lines, %d words, %d bytes\n", lines, words, bytes)
	for i := 0; i < len(all) && i < 5; i++ {
		fmt.Printf("%6d %s\n", all[i].n, all[i].w)
	}
}
