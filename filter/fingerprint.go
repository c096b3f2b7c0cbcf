package filter

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"

	"github.com/tidwall/gjson"
)

// fingerprint identifies a report by what it means, so that the same
// failure is the same whoever printed it: the reactor's event (keys
// sorted by {{ data|json }}) and salt --out=json (Salt's order, indented)
// of one job give one fingerprint. The changes count as canonical JSON
// (keys sorted, duplicates as Python keeps them, numbers normalised)
// without the pid a cmd.run reports anew on every run; the comment with
// its list of failed requisites sorted (Salt 3008 lists them in no fixed
// order).
func fingerprint(comment string, changes []byte) string {
	h := sha256.New()
	h.Write([]byte(canonicalComment(comment)))
	h.Write([]byte{0})
	canonical(h, gjson.ParseBytes(changes), true)
	return hex.EncodeToString(h.Sum(nil)[:12])
}

// requisiteFailed starts the comment Salt gives a state whose
// requisites failed; the list after it has no fixed order.
const requisiteFailed = "One or more requisite failed: "

func canonicalComment(c string) string {
	list, ok := strings.CutPrefix(c, requisiteFailed)
	if !ok || strings.Contains(list, "\n") {
		return c
	}
	items := strings.Split(list, ", ")
	sort.Strings(items)
	return requisiteFailed + strings.Join(items, ", ")
}

// canonical writes v to w in a form that depends on its meaning only:
// a tag per type, lengths before strings, object keys sorted.
func canonical(w io.Writer, v gjson.Result, top bool) {
	switch {
	case v.IsObject():
		vals := map[string]gjson.Result{}
		v.ForEach(func(k, val gjson.Result) bool {
			if !top || k.Str != "pid" {
				vals[k.Str] = val // a duplicate key: the last wins, as in Python
			}
			return true
		})
		keys := make([]string, 0, len(vals))
		for k := range vals {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		fmt.Fprintf(w, "{%d", len(keys))
		for _, k := range keys {
			fmt.Fprintf(w, "s%d:%s", len(k), k)
			canonical(w, vals[k], false)
		}
	case v.IsArray():
		items := v.Array()
		fmt.Fprintf(w, "[%d", len(items))
		for _, item := range items {
			canonical(w, item, false)
		}
	case v.Type == gjson.String:
		fmt.Fprintf(w, "s%d:%s", len(v.Str), v.Str)
	case v.Type == gjson.Number:
		f, _ := strconv.ParseFloat(v.Raw, 64)
		fmt.Fprintf(w, "n%s;", strconv.FormatFloat(f, 'g', -1, 64))
	case v.Type == gjson.True:
		w.Write([]byte("t"))
	case v.Type == gjson.False:
		w.Write([]byte("f"))
	default:
		w.Write([]byte("z")) // null, or nothing
	}
}
