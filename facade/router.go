package facade

import (
	"fmt"
	"strings"
)

// maxParams bounds the path parameters of one route so that a Ctx holds them
// in a fixed array and routing never allocates.
const maxParams = 8

// Param is one path parameter of the matched route. Value aliases the request
// path and is only valid until the handler returns.
type Param struct {
	Name  string
	Value []byte
}

// router maps a method and a path to a route. Patterns are made of static
// segments and parameters written {name}; a parameter matches exactly one
// non-empty segment. Static segments win over parameters at the same depth.
type router struct {
	roots map[string]*node // by method
}

type node struct {
	static    map[string]*node
	param     *node
	paramName string
	route     *Route
}

func newRouter() *router { return &router{roots: map[string]*node{}} }

func (r *router) add(method, pattern string, rt *Route) error {
	if method == "" || !strings.HasPrefix(pattern, "/") {
		return fmt.Errorf("%w: %s %q: want a method and a path starting with /", ErrBadPattern, method, pattern)
	}
	root := r.roots[method]
	if root == nil {
		root = &node{}
		r.roots[method] = root
	}
	n := root
	nparams := 0
	seen := map[string]bool{}
	for _, seg := range splitPattern(pattern) {
		if seg == "" {
			return fmt.Errorf("%w: %q has an empty segment", ErrBadPattern, pattern)
		}
		if seg[0] == '{' {
			if len(seg) < 3 || seg[len(seg)-1] != '}' {
				return fmt.Errorf("%w: %q: parameter %q must be {name}", ErrBadPattern, pattern, seg)
			}
			name := seg[1 : len(seg)-1]
			if seen[name] {
				return fmt.Errorf("%w: %q repeats parameter %q", ErrBadPattern, pattern, name)
			}
			seen[name] = true
			if nparams++; nparams > maxParams {
				return fmt.Errorf("%w: %q has more than %d parameters", ErrBadPattern, pattern, maxParams)
			}
			if n.param == nil {
				n.param = &node{paramName: name}
			} else if n.param.paramName != name {
				return fmt.Errorf("%w: %q names parameter %q where another route has {%s}", ErrBadPattern, pattern, name, n.param.paramName)
			}
			n = n.param
			continue
		}
		if strings.ContainsAny(seg, "{}") {
			return fmt.Errorf("%w: %q: braces inside segment %q", ErrBadPattern, pattern, seg)
		}
		if n.static == nil {
			n.static = map[string]*node{}
		}
		child := n.static[seg]
		if child == nil {
			child = &node{}
			n.static[seg] = child
		}
		n = child
	}
	if n.route != nil {
		return fmt.Errorf("%w: %s %s", ErrDuplicateRoute, method, pattern)
	}
	n.route = rt
	return nil
}

// splitPattern splits "/a/{b}" into ["a", "{b}"]; "/" has no segments.
func splitPattern(p string) []string {
	p = strings.TrimPrefix(p, "/")
	if p == "" {
		return nil
	}
	return strings.Split(p, "/")
}

// lookup finds the route for method and path, writing parameters into params.
// It returns the route and the number of parameters; nil when nothing
// matches. One trailing slash is ignored. It does not allocate.
func (r *router) lookup(method, path []byte, params *[maxParams]Param) (*Route, int) {
	root := r.roots[string(method)]
	if root == nil || len(path) == 0 || path[0] != '/' {
		return nil, 0
	}
	path = path[1:]
	if len(path) > 0 && path[len(path)-1] == '/' {
		path = path[:len(path)-1]
	}
	return root.match(path, params, 0)
}

func (n *node) match(rest []byte, params *[maxParams]Param, np int) (*Route, int) {
	if len(rest) == 0 {
		return n.route, np
	}
	seg, tail := rest, []byte(nil)
	for i, c := range rest {
		if c == '/' {
			seg, tail = rest[:i], rest[i+1:]
			if len(tail) == 0 {
				return nil, 0 // a double slash or inner trailing slash: no match
			}
			break
		}
	}
	if len(seg) == 0 {
		return nil, 0
	}
	if child := n.static[string(seg)]; child != nil {
		if rt, k := child.match(tail, params, np); rt != nil {
			return rt, k
		}
	}
	if n.param != nil && np < maxParams {
		params[np] = Param{Name: n.param.paramName, Value: seg}
		if rt, k := n.param.match(tail, params, np+1); rt != nil {
			return rt, k
		}
	}
	return nil, 0
}

// allowed lists the methods under which path has a route, for 405 answers.
func (r *router) allowed(path []byte, dst []byte) []byte {
	var scratch [maxParams]Param
	for method, root := range r.roots {
		p := path
		if len(p) == 0 || p[0] != '/' {
			continue
		}
		p = p[1:]
		if len(p) > 0 && p[len(p)-1] == '/' {
			p = p[:len(p)-1]
		}
		if rt, _ := root.match(p, &scratch, 0); rt != nil {
			if len(dst) > 0 {
				dst = append(dst, ", "...)
			}
			dst = append(dst, method...)
		}
	}
	return dst
}
