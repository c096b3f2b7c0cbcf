// Command benchgen writes a deterministic stream of minion documents for
// scripts/bench, modelled on the real captures in testdata/corpus: the
// state entries (keys, comments, diffs, cmd.run output) are real ones,
// renamed so each key is unique; most states are clean, a few percent
// changed and about one percent failed, as in a real fleet. That is the
// default profile, "mixed"; -profile dense is a fleet highstate of many
// small states instead (dense.go).
//
//	benchgen -size 256MB [-profile mixed|dense] [-states N] [-static] > stream.json
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

var runNum = regexp.MustCompile(`"__run_num__": \d+`)

type entry struct {
	key   string
	value json.RawMessage
	kind  string // clean, changed, failed
}

func main() {
	size := flag.String("size", "256MB", "bytes to write (KB, MB, GB suffixes)")
	states := flag.Int("states", 120, "states per minion (default 250 with -profile dense)")
	static := flag.Bool("static", false, "one document holding every minion (salt --static), not one per minion")
	corpus := flag.String("corpus", "testdata/corpus", "the captures to take state entries from (mixed profile)")
	seed := flag.Int64("seed", 1, "random seed")
	profile := flag.String("profile", "mixed", "mixed: the corpus's own entries; dense: a fleet highstate of many small states")
	flag.Parse()
	limit, err := parseSize(*size)
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchgen:", err)
		os.Exit(2)
	}
	rng := rand.New(rand.NewSource(*seed))
	// minion writes minion i's state entries, each on its own lines at
	// two levels of indent, separated by ",\n", with no final newline.
	var minion func(b *strings.Builder, i int)
	switch *profile {
	case "mixed":
		pool, err := load(*corpus)
		if err != nil {
			fmt.Fprintln(os.Stderr, "benchgen:", err)
			os.Exit(1)
		}
		minion = func(b *strings.Builder, i int) { mixed(b, pool, rng, *states) }
	case "dense":
		n := 250
		flag.Visit(func(f *flag.Flag) {
			if f.Name == "states" {
				n = *states
			}
		})
		minion = newDense(rng, n).minion
	default:
		fmt.Fprintf(os.Stderr, "benchgen: profile %q: mixed or dense\n", *profile)
		os.Exit(2)
	}
	w := bufio.NewWriterSize(os.Stdout, 1<<20)
	defer w.Flush()
	written := int64(0)
	out := func(s string) { w.WriteString(s); written += int64(len(s)) }
	if *static {
		out("{\n")
	}
	for i := 0; written < limit; i++ {
		var b strings.Builder
		indent := "    "
		if !*static {
			b.WriteString("{\n")
		} else if i > 0 {
			b.WriteString(",\n")
		}
		fmt.Fprintf(&b, "%s\"host%06d.example.com\": {\n", indent, i)
		minion(&b, i)
		fmt.Fprintf(&b, "\n%s}", indent)
		if !*static {
			b.WriteString("\n}\n")
		}
		out(b.String())
	}
	if *static {
		out("\n}\n")
	}
}

// mixed writes n entries drawn from the corpus's, renamed to be unique.
func mixed(b *strings.Builder, pool map[string][]entry, rng *rand.Rand, n int) {
	const indent = "    "
	for s := 0; s < n; s++ {
		e := pick(pool, rng)
		key := strings.Replace(e.key, "_|-", fmt.Sprintf("_|-%d_", s), 1)
		if s > 0 {
			b.WriteString(",\n")
		}
		val := strings.ReplaceAll(string(e.value), "\n", "\n"+indent+indent)
		val = runNum.ReplaceAllLiteralString(val, `"__run_num__": `+strconv.Itoa(s))
		fmt.Fprintf(b, "%s%s%q: %s", indent, indent, key, val)
	}
}

// pick: 96% clean, 3% changed, 1% failed.
func pick(pool map[string][]entry, rng *rand.Rand) entry {
	kind := "clean"
	switch r := rng.Intn(100); {
	case r == 0:
		kind = "failed"
	case r < 4:
		kind = "changed"
	}
	list := pool[kind]
	return list[rng.Intn(len(list))]
}

func load(dir string) (map[string][]entry, error) {
	// The Salt 3006.0 captures of a master with three minions and of
	// salt-call: a fleet's runs. (handmade/ holds shapes no capture can
	// produce; salt-<version>/ the odd cases of later releases.) The
	// stream stays the same as new cases join the corpus.
	var files []string
	for _, d := range []string{"local", "master", "master-minion3-down"} {
		m, _ := filepath.Glob(filepath.Join(dir, d, "*.json.out"))
		files = append(files, m...)
	}
	sort.Strings(files)
	pool := map[string][]entry{}
	seen := map[string]bool{}
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		dec := json.NewDecoder(strings.NewReader(string(raw)))
		for dec.More() {
			var doc map[string]json.RawMessage
			if dec.Decode(&doc) != nil {
				break
			}
			for _, ret := range doc {
				var states map[string]json.RawMessage
				if json.Unmarshal(ret, &states) != nil {
					continue
				}
				for k, v := range states {
					var s struct {
						Result  *bool           `json:"result"`
						Changes json.RawMessage `json:"changes"`
					}
					if !strings.Contains(k, "_|-") || json.Unmarshal(v, &s) != nil || s.Result == nil || seen[k] {
						continue
					}
					seen[k] = true
					kind := "clean"
					switch {
					case !*s.Result:
						kind = "failed"
					case len(s.Changes) > 2:
						kind = "changed"
					}
					var pretty strings.Builder
					var tmp any
					json.Unmarshal(v, &tmp)
					enc := json.NewEncoder(&pretty)
					enc.SetIndent("", "    ")
					enc.SetEscapeHTML(false)
					enc.Encode(tmp)
					pool[kind] = append(pool[kind], entry{k, json.RawMessage(strings.TrimSpace(pretty.String())), kind})
				}
			}
		}
	}
	for _, k := range []string{"clean", "changed", "failed"} {
		if len(pool[k]) == 0 {
			return nil, fmt.Errorf("no %s state entries under %s", k, dir)
		}
		sort.Slice(pool[k], func(i, j int) bool { return pool[k][i].key < pool[k][j].key })
	}
	return pool, nil
}

func parseSize(s string) (int64, error) {
	mult := int64(1)
	for suf, m := range map[string]int64{"KB": 1 << 10, "MB": 1 << 20, "GB": 1 << 30} {
		if strings.HasSuffix(s, suf) {
			s, mult = strings.TrimSuffix(s, suf), m
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("size %q", s)
	}
	return n * mult, nil
}
