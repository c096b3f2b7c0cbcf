package report

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// cutter bounds what one state may take of a mail part, so that a
// megabyte diff cannot push the mail past what servers accept. A cut
// block ends at a line boundary with a marker that names what is gone.
type cutter struct {
	budget  int  // bytes a state block may take; 0: no bound
	field   int  // bytes an ID or name may take; 0: no bound
	cut     bool // something was cut
	largest int  // the largest block offered, cut or not
}

// newCutter shares a part's limit between its state blocks, giving
// each at least 4 KiB so that a digest of many states stays readable.
func newCutter(limit, states int) cutter {
	if limit <= 0 {
		return cutter{}
	}
	per := limit / max(states, 1)
	return cutter{budget: max(per, 4<<10)}
}

// capped is a fresh cutter for one rendering, its budget lowered to
// share bytes when share > 0: what a minion too large for its part
// gives each of its failed states (see failuresOnly).
func (c cutter) capped(share int) *cutter {
	if share > 0 && (c.budget == 0 || share < c.budget) {
		c.budget, c.field = share, share/4
	}
	c.cut, c.largest = false, 0
	return &c
}

func (c *cutter) apply(block string) string {
	kept, note := c.split(block)
	return kept + note
}

// split cuts block to the budget: what is kept, ending in a line break,
// and the marker line, "" when nothing was cut. It cuts at the last
// line break in the budget, or inside a line when that would keep less
// than half of it (a megabyte of stdout on one line).
func (c *cutter) split(block string) (kept, note string) {
	c.largest = max(c.largest, len(block))
	if c.budget == 0 || len(block) <= c.budget {
		return block, ""
	}
	keep := strings.LastIndexByte(block[:c.budget], '\n') + 1
	kept = block[:keep]
	if keep < c.budget/2 {
		keep = c.budget
		for keep > 0 && !utf8.RuneStart(block[keep]) {
			keep--
		}
		kept = block[:keep] + "\n"
	}
	c.cut = true
	return kept, fmt.Sprintf("[... %d bytes cut, see attachment]\n", len(block)-keep)
}

// clip shortens a field of a state (its ID, its name: a cmd.run's name
// is its whole script) to a quarter of a capped share, so that the
// lines after it (result, comment) keep their place in the block.
func (c *cutter) clip(field string) string {
	c.largest = max(c.largest, len(field))
	n := c.field
	if n == 0 || len(field) <= n {
		return field
	}
	for n > 0 && !utf8.RuneStart(field[n]) {
		n--
	}
	c.cut = true
	return fmt.Sprintf("%s [... %d bytes cut, see attachment]", field[:n], len(field)-n)
}
