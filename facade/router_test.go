package facade

import (
	"errors"
	"testing"
)

func TestRouterLookup(t *testing.T) {
	r := newRouter()
	routes := map[string]*Route{}
	for _, p := range []string{"/", "/api/products/{id}", "/api/products/special", "/api/cart", "/a/{x}/b/{y}", "/whoami"} {
		rt := &Route{Method: "GET", Pattern: p}
		routes[p] = rt
		if err := r.add("GET", p, rt); err != nil {
			t.Fatalf("add %q: %v", p, err)
		}
	}
	if err := r.add("POST", "/api/cart", &Route{Pattern: "/api/cart"}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, method, path, want string
		params                   map[string]string
	}{
		{"root", "GET", "/", "/", nil},
		{"param", "GET", "/api/products/42", "/api/products/{id}", map[string]string{"id": "42"}},
		{"static wins", "GET", "/api/products/special", "/api/products/special", nil},
		{"trailing slash", "GET", "/api/cart/", "/api/cart", nil},
		{"two params", "GET", "/a/1/b/2", "/a/{x}/b/{y}", map[string]string{"x": "1", "y": "2"}},
		{"too deep", "GET", "/api/products/1/2", "", nil},
		{"empty segment", "GET", "/api//products", "", nil},
		{"param must be non-empty", "GET", "/api/products/", "", nil},
		{"unknown", "GET", "/nope", "", nil},
		{"other method", "PUT", "/api/cart", "", nil},
		{"no slash", "GET", "api", "", nil},
		{"empty", "GET", "", "", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var ps [maxParams]Param
			rt, n := r.lookup([]byte(tc.method), []byte(tc.path), &ps)
			if tc.want == "" {
				if rt != nil {
					t.Fatalf("matched %q, want no match", rt.Pattern)
				}
				return
			}
			if rt != routes[tc.want] {
				t.Fatalf("matched %v, want %q", rt, tc.want)
			}
			if n != len(tc.params) {
				t.Fatalf("%d params, want %d", n, len(tc.params))
			}
			for i := 0; i < n; i++ {
				if want := tc.params[ps[i].Name]; string(ps[i].Value) != want {
					t.Errorf("param %s = %q, want %q", ps[i].Name, ps[i].Value, want)
				}
			}
		})
	}
	t.Run("allowed", func(t *testing.T) {
		if got := string(r.allowed([]byte("/api/cart"), nil)); got != "GET, POST" && got != "POST, GET" {
			t.Fatalf("allowed = %q", got)
		}
	})
}

func TestRouterRejectsBadPatterns(t *testing.T) {
	tests := []struct {
		name, pattern string
		want          error
	}{
		{"no leading slash", "api", ErrBadPattern},
		{"empty segment", "/a//b", ErrBadPattern},
		{"unclosed", "/a/{id", ErrBadPattern},
		{"empty name", "/a/{}", ErrBadPattern},
		{"brace inside", "/a/x{id}", ErrBadPattern},
		{"repeated name", "/a/{id}/{id}", ErrBadPattern},
		{"conflicting names", "/p/{other}", ErrBadPattern},
		{"duplicate", "/p/{id}", ErrDuplicateRoute},
		{"too many params", "/{a}/{b}/{c}/{d}/{e}/{f}/{g}/{h}/{i}", ErrBadPattern},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := newRouter()
			if err := r.add("GET", "/p/{id}", &Route{}); err != nil {
				t.Fatal(err)
			}
			if err := r.add("GET", tc.pattern, &Route{}); !errors.Is(err, tc.want) {
				t.Fatalf("add %q: %v, want %v", tc.pattern, err, tc.want)
			}
		})
	}
}

// FuzzRouterLookup feeds arbitrary paths to the router: it must never panic,
// and a match must hold parameters that are parts of the path.
func FuzzRouterLookup(f *testing.F) {
	r := newRouter()
	for _, p := range []string{"/", "/api/products/{id}", "/api/cart", "/a/{x}/b/{y}", "/{a}/{b}/{c}/{d}/{e}/{f}/{g}/{h}"} {
		if err := r.add("GET", p, &Route{Pattern: p}); err != nil {
			f.Fatal(err)
		}
	}
	for _, seed := range []string{"/", "/api/products/1", "/a/1/b/2", "//", "/api/products/", "/1/2/3/4/5/6/7/8", "/1/2/3/4/5/6/7/8/9", "x", ""} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, path string) {
		var ps [maxParams]Param
		rt, n := r.lookup([]byte("GET"), []byte(path), &ps)
		if rt == nil {
			return
		}
		for i := 0; i < n; i++ {
			if len(ps[i].Value) == 0 {
				t.Fatalf("%q matched %q with an empty parameter", path, rt.Pattern)
			}
			for _, c := range ps[i].Value {
				if c == '/' {
					t.Fatalf("%q: parameter %q spans segments", path, ps[i].Value)
				}
			}
		}
	})
}
