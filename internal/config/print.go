package config

import (
	"bytes"
	"fmt"
	"strings"

	"go.yaml.in/yaml/v3"
)

// derivedValue is a value computed from other fields, as ApplyDefaults
// left it, and what it was computed from.
type derivedValue struct {
	yaml string // the value, marshalled, to tell whether it still holds
	from string
}

func (s *Stack) derive(path string, v any, from string) {
	b, err := yaml.Marshal(v)
	if err != nil {
		return // not marked: printed as it is, which is still true
	}
	s.derived[path] = derivedValue{yaml: string(b), from: from}
}

// printHeader opens every printed configuration.
const printHeader = `Strata stack configuration (docs/CONFIG.md).
Commented-out settings are derived, computed each time the file is read:
addresses from host and the node's place in its list, the first pool from
facades.nodes. Left commented they follow (add a facade node and the pool
takes it); uncommented they are fixed.`

// Marshal prints the configuration as YAML, the form --print-config shows:
// every value, except that a derived value still as derived is a comment,
// so the printed file, edited and read back, behaves like the one it came
// from. A derived value changed since (xdp mode moves the addresses) is
// printed as a value.
func (s *Stack) Marshal() ([]byte, error) {
	var doc yaml.Node
	if err := doc.Encode(s); err != nil {
		return nil, err
	}
	doc.HeadComment = printHeader
	pruneDerived(&doc, nil, "", s.derived)
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(&doc); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// pruneDerived removes the derived values from n (at path; key is the
// mapping key whose value n is, nil for list items and the top) and
// turns them into comments.
func pruneDerived(n, key *yaml.Node, path string, derived map[string]derivedValue) {
	switch n.Kind {
	case yaml.SequenceNode:
		for i, item := range n.Content {
			pruneDerived(item, nil, fmt.Sprintf("%s[%d]", path, i), derived)
		}
		return
	case yaml.MappingNode:
	default:
		return
	}
	var kept []*yaml.Node
	var notes []string
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		kpath := k.Value
		if path != "" {
			kpath = path + "." + k.Value
		}
		if d, ok := derived[kpath]; ok && sameYAML(v, d.yaml) {
			notes = append(notes, k.Value+": "+summary(v)+"  # from "+d.from)
			continue
		}
		pruneDerived(v, k, kpath, derived)
		kept = append(kept, k, v)
	}
	n.Content = kept
	if len(notes) == 0 {
		return
	}
	note := strings.Join(notes, "\n")
	switch {
	case len(kept) > 0:
		kept[0].HeadComment = joinComment(note, kept[0].HeadComment)
	case key != nil:
		// A mapping left empty is printed as "key: # note" with no value
		// (null: the defaults). Not "key: {}" with the note: yaml.v3 puts
		// the comment between the two, which is no YAML.
		*n = yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", LineComment: strings.ReplaceAll(note, "\n", "; ")}
	default:
		n.HeadComment = joinComment(n.HeadComment, note)
	}
}

func sameYAML(n *yaml.Node, want string) bool {
	b, err := yaml.Marshal(n)
	return err == nil && string(b) == want
}

// summary is a derived value in one line of YAML, so that uncommenting
// the line fixes the value: a scalar as it is, a pool in flow style.
func summary(n *yaml.Node) string {
	if n.Kind == yaml.ScalarNode {
		return n.Value
	}
	var addrs []string
	for _, item := range n.Content {
		for i := 0; i+1 < len(item.Content); i += 2 {
			if item.Content[i].Value == "addr" {
				addrs = append(addrs, "{addr: "+item.Content[i+1].Value+"}")
			}
		}
	}
	return "[" + strings.Join(addrs, ", ") + "]"
}

func joinComment(a, b string) string {
	switch {
	case a == "":
		return b
	case b == "":
		return a
	}
	return a + "\n" + b
}
