package server

import (
	"strings"
	"testing"
	"time"
)

func TestGlobMatch(t *testing.T) {
	tests := []struct {
		p, s string
		want bool
	}{
		{"*", "", true}, {"user:*", "user:1", true}, {"user:*", "item:1", false},
		{"h?llo", "hello", true}, {"h?llo", "hllo", false}, {"h[ae]llo", "hallo", true},
		{"h[^e]llo", "hello", false}, {"h[a-b]llo", "hbllo", true}, {"h\\*", "h*", true},
		{"a*b*c", "axxbyyc", true}, {"a*b*c", "axxbyy", false},
		{"*a", "ba", true}, {"*a*", "xxax", true}, {"**x", "x", true},
		{"h[b-a]llo", "hallo", true}, {"[\\]]", "]", true}, {"[\\", "\\", true},
		// Malformed classes, as Redis reads them.
		{"[abc", "b", true}, {"[abc", "bx", false}, {"x[", "x[", false}, {"[^", "q", true},
		{"[a-]b]", "b", true}, {"[a-]b]", "c", false}, {"[a-]b]", "^", true}, {"[a-]", "]", true},
		{"a\\", "a\\", true}, {"\\", "\\", true}, {"[]", "]", false}, {"[]]", "]", false},
	}
	for _, tt := range tests {
		t.Run(tt.p+"/"+tt.s, func(t *testing.T) {
			if got := globMatch([]byte(tt.p), []byte(tt.s)); got != tt.want {
				t.Fatalf("globMatch(%q, %q) = %v, want %v", tt.p, tt.s, got, tt.want)
			}
			if tt.s != "" {
				if ref := redisMatch([]byte(tt.p), []byte(tt.s)); ref != tt.want {
					t.Fatalf("reference(%q, %q) = %v, want %v", tt.p, tt.s, ref, tt.want)
				}
			}
		})
	}
}

// The pattern that held the old recursive matcher for 15.5 s against a
// 40-byte key must take microseconds; a generous bound for a loaded machine.
func TestGlobMatchAdversarialPatternIsFast(t *testing.T) {
	p := []byte("*a*a*a*a*a*a*a*a*a*a b")
	s := []byte(strings.Repeat("a", 40))
	start := time.Now()
	for range 1000 {
		if globMatch(p, s) {
			t.Fatal("matched")
		}
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("1000 matches of %q took %v", p, d)
	}
}

func FuzzGlobMatch(f *testing.F) {
	for _, seed := range []struct{ p, s string }{
		{"*", "x"}, {"user:*", "user:1"}, {"h[^e]llo", "hallo"}, {"[a-]b]", "^"}, {"[abc", "b"},
		{"*a*a*a b", "aaaa"}, {"\\[x", "[x"}, {"[\\", "\\"}, {"a*?*b", "axxb"}, {"[^", "q"},
	} {
		f.Add([]byte(seed.p), []byte(seed.s))
	}
	f.Fuzz(func(t *testing.T, p, s []byte) {
		// The reference is exponential on some inputs: keep them small.
		if len(p) > 24 || len(s) > 24 || len(s) == 0 {
			return
		}
		if got, want := globMatch(p, s), redisMatch(p, s); got != want {
			t.Fatalf("globMatch(%q, %q) = %v, Redis's stringmatchlen says %v", p, s, got, want)
		}
	})
}

// redisMatch is a transliteration of Redis 7's stringmatchlen_impl
// (util.c, case-sensitive), the reference for the fuzz test. at reads
// past the end as the C string's NUL terminator.
func redisMatch(p, s []byte) bool {
	skip := false
	return redisMatchImpl(p, s, &skip, 0)
}

func redisMatchImpl(pattern, str []byte, skipLonger *bool, nesting int) bool {
	if nesting > 1000 {
		return false
	}
	at := func(b []byte, i int) byte {
		if i < len(b) {
			return b[i]
		}
		return 0
	}
	pi, si := 0, 0
	plen, slen := len(pattern), len(str)
	for plen > 0 && slen > 0 {
		switch pattern[pi] {
		case '*':
			for plen > 0 && at(pattern, pi+1) == '*' {
				pi++
				plen--
			}
			if plen == 1 {
				return true
			}
			for slen > 0 {
				if redisMatchImpl(pattern[pi+1:], str[si:], skipLonger, nesting+1) {
					return true
				}
				if *skipLonger {
					return false
				}
				si++
				slen--
			}
			*skipLonger = true
			return false
		case '?':
			si++
			slen--
		case '[':
			pi++
			plen--
			not := at(pattern, pi) == '^'
			if not {
				pi++
				plen--
			}
			match := false
		class:
			for {
				switch {
				case at(pattern, pi) == '\\' && plen >= 2:
					pi++
					plen--
					if pattern[pi] == str[si] {
						match = true
					}
				case at(pattern, pi) == ']':
					break class
				case plen == 0:
					pi--
					plen++
					break class
				case plen >= 3 && pattern[pi+1] == '-':
					lo, hi := pattern[pi], pattern[pi+2]
					if lo > hi {
						lo, hi = hi, lo
					}
					pi += 2
					plen -= 2
					if str[si] >= lo && str[si] <= hi {
						match = true
					}
				case pattern[pi] == str[si]:
					match = true
				}
				pi++
				plen--
			}
			if not {
				match = !match
			}
			if !match {
				return false
			}
			si++
			slen--
		case '\\':
			if plen >= 2 {
				pi++
				plen--
			}
			fallthrough
		default:
			if pattern[pi] != str[si] {
				return false
			}
			si++
			slen--
		}
		pi++
		plen--
		if slen == 0 {
			for at(pattern, pi) == '*' {
				pi++
				plen--
			}
			break
		}
	}
	return plen == 0 && slen == 0
}
