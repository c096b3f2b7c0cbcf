package cmd

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// configErr is an error of the config file, said the way compilers say
// it (path:line: message), so an editor can jump there. A line of 0 is
// unknown and left out.
func configErr(path string, line int, format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	if line <= 0 {
		return fmt.Errorf("%s: %s", path, msg)
	}
	return fmt.Errorf("%s:%d: %s", path, line, msg)
}

// parseYAML reads a config file's one document as a node tree (nil for
// an empty file), refusing what yaml.v3 lets pass into a Node without a
// word: a second document, a key given twice, anchors and aliases.
func parseYAML(path string, raw []byte) (*yaml.Node, error) {
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	var doc yaml.Node
	if err := dec.Decode(&doc); errors.Is(err, io.EOF) {
		return nil, nil // empty, or comments only
	} else if err != nil {
		return nil, yamlErr(path, raw, err)
	}
	var extra yaml.Node
	switch err := dec.Decode(&extra); {
	case err == nil:
		// The whole file applies or none of it: a second document
		// used to be ignored silently.
		return nil, configErr(path, extra.Line, "a second YAML document (---): a config file holds one")
	case !errors.Is(err, io.EOF):
		return nil, yamlErr(path, raw, err)
	}
	if len(doc.Content) == 0 {
		return nil, nil
	}
	if err := checkNode(path, doc.Content[0], ""); err != nil {
		return nil, err
	}
	return doc.Content[0], nil
}

// checkNode refuses anchors, aliases, merge keys, keys that are no
// plain words and keys given twice anywhere under n; name is n's
// dotted key, for messages.
func checkNode(path string, n *yaml.Node, name string) error {
	if n.Anchor != "" {
		return configErr(path, n.Line, "anchors and aliases are not supported (&%s): write the value out", n.Anchor)
	}
	if n.Kind == yaml.AliasNode {
		return configErr(path, n.Line, "anchors and aliases are not supported (*%s): write the value out", n.Value)
	}
	if n.Kind == yaml.SequenceNode {
		for _, item := range n.Content {
			if err := checkNode(path, item, name); err != nil {
				return err
			}
		}
	}
	if n.Kind != yaml.MappingNode {
		return nil
	}
	first := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if err := checkKey(path, k); err != nil {
			return err
		}
		key := strings.TrimPrefix(name+"."+k.Value, ".")
		// yaml.v3 keeps the last of duplicates: one `to:` would
		// silently drop the other's recipients.
		if line, dup := first[k.Value]; dup {
			return configErr(path, k.Line, "%s is given twice (first at line %d)", key, line)
		}
		first[k.Value] = k.Line
		if err := checkNode(path, v, key); err != nil {
			return err
		}
	}
	return nil
}

// checkKey admits plain words as keys only.
func checkKey(path string, k *yaml.Node) error {
	if err := checkNode(path, k, ""); err != nil {
		return err
	}
	if k.Kind != yaml.ScalarNode {
		return configErr(path, k.Line, "a key must be a plain word")
	}
	if k.Tag == "!!merge" {
		return configErr(path, k.Line, "merge keys (<<) are not supported: write the values out")
	}
	return nil
}

var (
	yamlLine      = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)
	unknownAnchor = regexp.MustCompile(`^yaml: unknown anchor '(.*)' referenced$`)
)

// yamlErr says a parser error as path:line: message. yaml.v3 puts the
// line in the text; an alias whose anchor is missing has none, so the
// first line naming it is taken.
func yamlErr(path string, raw []byte, err error) error {
	msg := err.Error()
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		return configErr(path, line, "%s", m[2])
	}
	if m := unknownAnchor.FindStringSubmatch(msg); m != nil {
		return configErr(path, lineOf(raw, "*"+m[1]), "anchors and aliases are not supported (*%s): write the value out", m[1])
	}
	return configErr(path, 0, "%s", strings.TrimPrefix(msg, "yaml: "))
}

// lineOf is the number of the first line holding s, 0 if none does.
func lineOf(raw []byte, s string) int {
	for i, l := range bytes.Split(raw, []byte("\n")) {
		if bytes.Contains(l, []byte(s)) {
			return i + 1
		}
	}
	return 0
}
