package config

import (
	"encoding"
	"fmt"
	"math"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/strata-dp/strata/internal/bytesize"
)

// decode walks a parsed YAML document and the Go type it configures side by
// side, so that every problem can be told in the file's own terms: the YAML
// path (edge.memory, lb.services[0].backends[1].addr), its line, and what
// the field accepts. yaml.v3's own decoder names Go types ("field memroy
// not found in type config.Edge") and drops the line for values that fail
// their own parser ("size "lots": ..."), so it only ever sees one scalar at
// a time here.
//
// It records the line of every path it sets (lines), which Validate's
// errors borrow, and bounds the nodes it visits: an alias that refers to
// an alias that refers to an alias ... grows exponentially when followed.
type decoder struct {
	lines   map[string]int
	visited int
}

// maxNodes bounds the nodes one configuration may expand to, aliases
// followed; a real stack file has a few hundred.
const maxNodes = 100_000

var (
	durationType = reflect.TypeOf(time.Duration(0))
	sizeType     = reflect.TypeOf(bytesize.Size(0))
	textType     = reflect.TypeOf((*encoding.TextUnmarshaler)(nil)).Elem()
)

func (d *decoder) decode(n *yaml.Node, path string, v reflect.Value) error {
	if d.visited++; d.visited > maxNodes {
		return &FieldError{Field: orTop(path), Line: n.Line, Problem: fmt.Sprintf("more than %d YAML nodes (aliases expanded)", maxNodes)}
	}
	for n.Kind == yaml.AliasNode {
		if n.Alias == nil {
			return &FieldError{Field: orTop(path), Line: n.Line, Problem: "an alias to nothing"}
		}
		n = n.Alias
	}
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return nil // `edge:` or `edge: ~` leaves the defaults
	}
	if path != "" {
		d.lines[path] = n.Line
	}
	t := v.Type()
	switch {
	case t.Kind() == reflect.Pointer:
		if v.IsNil() {
			v.Set(reflect.New(t.Elem()))
		}
		return d.decode(n, path, v.Elem())
	case t.Kind() == reflect.Struct && t != durationType && !reflect.PointerTo(t).Implements(textType):
		return d.mapping(n, path, v)
	case t.Kind() == reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			return &FieldError{Field: orTop(path), Line: n.Line, Problem: "want a list, got " + kindName(n)}
		}
		out := reflect.MakeSlice(t, len(n.Content), len(n.Content))
		for i, item := range n.Content {
			if err := d.decode(item, fmt.Sprintf("%s[%d]", path, i), out.Index(i)); err != nil {
				return err
			}
		}
		v.Set(out)
		return nil
	}
	return scalar(n, path, v)
}

// mapping decodes a YAML mapping into a struct by its yaml tags: an unknown
// key is an error listing the known ones, and so is a key given twice
// (yaml.v3 would keep the last silently when decoding to a node).
func (d *decoder) mapping(n *yaml.Node, path string, v reflect.Value) error {
	if n.Kind != yaml.MappingNode {
		return &FieldError{Field: orTop(path), Line: n.Line, Problem: "want a mapping (key: value), got " + kindName(n)}
	}
	t := v.Type()
	fields := map[string]int{}
	var known []string
	for i := 0; i < t.NumField(); i++ {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ",")
		if name == "" || name == "-" {
			continue
		}
		fields[name] = i
		known = append(known, name)
	}
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		key := k.Value
		kpath := key
		if path != "" {
			kpath = path + "." + key
		}
		if k.Kind != yaml.ScalarNode {
			return &FieldError{Field: orTop(path), Line: k.Line, Problem: "a key that is not a name"}
		}
		if first, dup := seen[key]; dup {
			return &FieldError{Field: kpath, Line: k.Line, Problem: fmt.Sprintf("given twice (first at line %d)", first)}
		}
		seen[key] = k.Line
		fi, ok := fields[key]
		if !ok {
			return &FieldError{Field: kpath, Line: k.Line, Problem: "unknown field", Allowed: "known fields: " + strings.Join(known, ", ")}
		}
		if err := d.decode(val, kpath, v.Field(fi)); err != nil {
			return err
		}
	}
	return nil
}

// scalar decodes one value with yaml.v3, and words its failure for the
// field's type.
func scalar(n *yaml.Node, path string, v reflect.Value) error {
	fe := &FieldError{Field: orTop(path), Line: n.Line}
	if n.Kind != yaml.ScalarNode {
		fe.Problem = "want " + typeName(v.Type()) + ", got " + kindName(n)
		return fe
	}
	tmp := reflect.New(v.Type())
	if err := n.Decode(tmp.Interface()); err != nil {
		fe.Problem = fmt.Sprintf("%s is not %s", strconv.Quote(n.Value), typeName(v.Type()))
		if r := intRange(v.Type()); r != "" && isInteger(n.Value) {
			fe.Problem = fmt.Sprintf("%s is out of range", n.Value)
			fe.Allowed = "allowed: " + r
		}
		return fe
	}
	v.Set(tmp.Elem())
	return nil
}

var integerRE = regexp.MustCompile(`^[-+]?[0-9]+$`)

func isInteger(s string) bool { return integerRE.MatchString(s) }

func intRange(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uint:
		return fmt.Sprintf("0..%d", uint64(math.MaxUint64)>>(64-t.Bits()))
	case reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64, reflect.Int:
		if t == durationType || t == sizeType {
			return ""
		}
		return fmt.Sprintf("%d..%d", -int64(1)<<(t.Bits()-1), int64(math.MaxInt64)>>(64-t.Bits()))
	}
	return ""
}

// typeName is what a field of type t accepts, in the file's words.
func typeName(t reflect.Type) string {
	switch t {
	case sizeType:
		return "a size: want bytes or a number with KiB/MiB/GiB (or KB/MB/GB), e.g. 256MiB"
	case durationType:
		return "a duration: want a number with a unit (ms, s, m, h), e.g. 250ms or 10s"
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "a boolean: want true or false"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return "an integer"
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a non-negative integer"
	}
	return "a " + t.String()
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		return "the value " + strconv.Quote(n.Value)
	}
	return "something else"
}

func orTop(path string) string {
	if path == "" {
		return "(top level)"
	}
	return path
}

// syntaxLine reads the line out of a yaml.v3 syntax error. yaml.v3 leaves
// it out when the problem is on the first line, and gives no column.
var syntaxLineRE = regexp.MustCompile(`^yaml: line ([0-9]+): `)

func syntaxError(err error) *FieldError {
	msg := strings.ReplaceAll(err.Error(), "\n", " ")
	line := 1
	if m := syntaxLineRE.FindStringSubmatch(msg); m != nil {
		line, _ = strconv.Atoi(m[1])
		msg = msg[len(m[0]):]
	}
	msg = strings.TrimPrefix(msg, "yaml: ")
	return &FieldError{Field: "YAML syntax", Line: line, Problem: msg}
}

// lineOf is the line of path or of its nearest parent that has one, for
// errors Validate finds after decoding.
func (d *decoder) lineOf(path string) int {
	for p := path; p != ""; {
		if l, ok := d.lines[p]; ok {
			return l
		}
		i := max(strings.LastIndexByte(p, '.'), strings.LastIndexByte(p, '['))
		if i <= 0 {
			break
		}
		p = p[:i]
	}
	return 0
}
