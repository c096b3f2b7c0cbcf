package jsonstream

import (
	"os"
	"testing"

	"github.com/saltmail/saltmail/internal/golden"
	"github.com/tidwall/gjson"
)

// What the reader located while validating is what gjson finds in the
// same bytes, at both levels it located and one below (scanned then).
func TestEachAgreesWithGjson(t *testing.T) {
	for _, path := range golden.Captures(t) {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		r := &recorder{t: t, each: true}
		_ = Read(whole(b), path, r, Options{}) // some captures hold no JSON
		if len(r.log) == 0 && len(b) > 100 {
			t.Errorf("%s: nothing heard", path)
		}
	}
}

// A Value made from bytes is scanned on demand, as deep.
func TestEachOfBytes(t *testing.T) {
	raw := []byte(` {"a": {"x": 1, "y": {"z": [1, {"q": 2}]}}, "b\u00e9": "s", "a": null, "c": {}}`)
	eachAgrees(t, Value{Raw: raw}, 4)
	n := 0
	Value{Raw: raw}.Each(func([]byte, Value) bool { n++; return n < 2 })
	if n != 2 {
		t.Errorf("Each went on after false: %d calls", n)
	}
	for _, s := range []string{`[1, 2]`, `"s"`, `1`, `null`, ``} {
		Value{Raw: []byte(s)}.Each(func([]byte, Value) bool {
			t.Errorf("Each called for %q", s)
			return true
		})
	}
}

// Find takes the first of duplicate keys, finds a key named twice once,
// and finds nothing in what is not an object.
func TestFind(t *testing.T) {
	v := Value{Raw: []byte(`{"a": 1, "b\u0021": 2, "a": 3, "c": {}}`)}
	found := make([]Value, 4)
	v.Find([]string{"a", "b!", "x", "a"}, found)
	if string(found[0].Raw) != "1" || string(found[1].Raw) != "2" || found[2].Raw != nil || found[3].Raw != nil {
		t.Errorf("found %q %q %q %q", found[0].Raw, found[1].Raw, found[2].Raw, found[3].Raw)
	}
	for _, s := range []string{`[{"a": 1}]`, `"a"`, ``} {
		found[0] = Value{Raw: []byte("stale")}
		Value{Raw: []byte(s)}.Find([]string{"a"}, found[:1])
		if found[0].Kind() != Invalid {
			t.Errorf("found %q in %q", found[0].Raw, s)
		}
	}
}

// Keys decode as gjson decodes them, surrogates and all.
func TestKeysDecodeAsGjson(t *testing.T) {
	for _, s := range []string{
		`"plain"`, `"\"q\" \\ \/ \b\f\n\r\t"`, `"caf\u00e9 ünï"`, `"\ud83d\ude00"`,
		`"\ud83d"`, `"\ude00"`, `"\ud83dx"`, `"\ud83d\u0041"`, `"\ud83d\ud83d\ude00"`, `"x\ud83d"`,
	} {
		got, _ := decodeKey([]byte(s), nil)
		if want := gjson.Parse(s).Str; string(got) != want {
			t.Errorf("%s: decoded %q, gjson %q", s, got, want)
		}
	}
}

func TestKind(t *testing.T) {
	for s, want := range map[string]Kind{
		`{}`: Object, `[]`: Array, `"x"`: String, `true`: True, `false`: False,
		`null`: Null, `-1`: Number, `0.5`: Number, ``: Invalid, ` `: Invalid, ` {`: Object,
	} {
		if got := (Value{Raw: []byte(s)}).Kind(); got != want {
			t.Errorf("Kind(%q) = %v, want %v", s, got, want)
		}
	}
}
