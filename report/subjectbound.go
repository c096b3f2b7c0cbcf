package report

import (
	"errors"
	"fmt"
	"strings"
	"text/template"
	"text/template/parse"
)

// A subject template runs in time and memory linear in its own size:
// no {{range}} (SubjectData has nothing to range over but numbers:
// {{range 3000000000}} spins for ever), no {{template}} or {{define}}
// (recursion), and printf with no width or precision from an argument
// or of more than three digits ("%0*d" with a million builds a
// megabyte a call). A template that breaks these is refused when it is
// loaded.
func linear(t *template.Template) error {
	if len(t.Templates()) > 1 {
		return errors.New("{{define}} and {{block}} are not allowed in a subject")
	}
	var walk func(n parse.Node) error
	walk = func(n parse.Node) error {
		switch n := n.(type) {
		case *parse.ListNode:
			if n == nil {
				return nil
			}
			for _, c := range n.Nodes {
				if err := walk(c); err != nil {
					return err
				}
			}
		case *parse.RangeNode:
			loc, _ := t.ErrorContext(n)
			return fmt.Errorf("%s: {{range}} is not allowed in a subject", loc)
		case *parse.TemplateNode:
			loc, _ := t.ErrorContext(n)
			return fmt.Errorf("%s: {{template}} is not allowed in a subject", loc)
		case *parse.IfNode:
			return walkBranch(walk, n.List, n.ElseList)
		case *parse.WithNode:
			return walkBranch(walk, n.List, n.ElseList)
		}
		return nil
	}
	return walk(t.Tree.Root)
}

func walkBranch(walk func(parse.Node) error, list, elseList *parse.ListNode) error {
	if err := walk(list); err != nil {
		return err
	}
	if elseList != nil {
		return walk(elseList)
	}
	return nil
}

// boundedFuncs replace text/template's print functions with ones that
// refuse formats that could build a huge string from a small template.
var boundedFuncs = template.FuncMap{
	"printf": func(format string, args ...any) (string, error) {
		if err := smallFormat(format); err != nil {
			return "", err
		}
		return fmt.Sprintf(format, args...), nil
	},
}

// smallFormat refuses a width or precision taken from an argument (*)
// or written with more than three digits.
func smallFormat(format string) error {
	for i := 0; i < len(format); i++ {
		if format[i] != '%' {
			continue
		}
		digits := 0
		for i++; i < len(format) && strings.IndexByte("+-# 0123456789.*[]", format[i]) >= 0; i++ {
			switch c := format[i]; {
			case c == '*':
				return errors.New("printf: a width or precision from an argument (*) is not allowed in a subject")
			case c >= '0' && c <= '9':
				if digits++; digits > 3 {
					return errors.New("printf: a width or precision over 999 is not allowed in a subject")
				}
			default:
				digits = 0
			}
		}
	}
	return nil
}
