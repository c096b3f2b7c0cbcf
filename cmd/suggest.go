package cmd

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sort"
	"strings"

	"github.com/spf13/cobra"
)

// maxTypo is how far (in edits) a word may be from a name and still be
// taken for a mistyped one.
const maxTypo = 2

// fileArgs checks the root command's FILE arguments before anything is
// read: a word that is no file and looks like a command (saltmail chek
// x.json) is a usage error, not an unreadable input that alerts the
// team. A missing file that looks like no command stays bad input.
func fileArgs(c *cobra.Command, args []string) error {
	var names []string
	for _, sub := range c.Commands() {
		if !sub.Hidden {
			names = append(names, sub.Name())
			names = append(names, sub.Aliases...)
		}
	}
	for _, a := range args {
		// ./check is how a file named like a command is given.
		if a == "-" || strings.ContainsRune(a, os.PathSeparator) {
			continue
		}
		if _, err := os.Stat(a); !errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if hint := didYouMean(a, names); hint != "" {
			return fmt.Errorf("unknown command %q%s", a, hint)
		}
	}
	return nil
}

// didYouMean is " (did you mean a or b?)" naming the candidates word
// could be a slip for, or "" when none is close.
func didYouMean(word string, candidates []string) string {
	s := similar(word, candidates)
	if len(s) > 3 {
		s = s[:3] // a long list helps nobody
	}
	switch len(s) {
	case 0:
		return ""
	case 1:
		return fmt.Sprintf(" (did you mean %s?)", s[0])
	}
	return fmt.Sprintf(" (did you mean %s or %s?)", strings.Join(s[:len(s)-1], ", "), s[len(s)-1])
}

// similar lists the candidates within maxTypo edits of word, or that
// it begins, nearest first, ignoring case (as cobra suggests).
func similar(word string, candidates []string) []string {
	w := strings.ToLower(word)
	dist := map[string]int{}
	var out []string
	for _, c := range candidates {
		lc := strings.ToLower(c)
		d := editDistance(w, lc)
		if _, seen := dist[c]; seen || (d > maxTypo && !strings.HasPrefix(lc, w)) {
			continue
		}
		dist[c] = d
		out = append(out, c)
	}
	sort.SliceStable(out, func(i, j int) bool {
		if dist[out[i]] != dist[out[j]] {
			return dist[out[i]] < dist[out[j]]
		}
		return out[i] < out[j]
	})
	return out
}

// editDistance is the optimal string alignment distance between a and
// b: insertions, deletions, substitutions and swaps of two neighbours
// (chcek) each cost one.
func editDistance(a, b string) int {
	s, t := []rune(a), []rune(b)
	// rows i-2, i-1 and i of the table
	prev2, prev, cur := make([]int, len(t)+1), make([]int, len(t)+1), make([]int, len(t)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(s); i++ {
		cur[0] = i
		for j := 1; j <= len(t); j++ {
			cost := 1
			if s[i-1] == t[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && s[i-1] == t[j-2] && s[i-2] == t[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(t)]
}
