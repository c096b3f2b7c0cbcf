package report

import (
	"fmt"
	"strings"
)

// cutter bounds what one state may take of a mail part, so that a
// megabyte diff cannot push the mail past what servers accept. A cut
// block ends at a line boundary with a marker that names what is gone.
type cutter struct {
	budget int // bytes a state block may take; 0: no bound
	cut    int // bytes cut so far
}

// newCutter shares a part's limit between its state blocks, giving
// each at least 4 KiB so that a digest of many states stays readable.
func newCutter(limit, states int) *cutter {
	if limit <= 0 {
		return &cutter{}
	}
	per := limit / max(states, 1)
	return &cutter{budget: max(per, 4<<10)}
}

func (c *cutter) apply(block string) string {
	if c.budget == 0 || len(block) <= c.budget {
		return block
	}
	keep := strings.LastIndexByte(block[:c.budget], '\n') + 1
	n := len(block) - keep
	c.cut += n
	return block[:keep] + fmt.Sprintf("[... %d bytes cut, see attachment]\n", n)
}
