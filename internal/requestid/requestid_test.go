package requestid

import (
	"strings"
	"testing"
)

func TestValid(t *testing.T) {
	for _, tc := range []struct {
		id   string
		want bool
	}{
		{"req-1", true},
		{strings.Repeat("a", MaxLen), true},
		{strings.Repeat("a", MaxLen+1), false},
		{"", false},
		{"a b", false},
		{"a,b", false},
		{"a\r\nX-Injected: 1", false},
		{"caf\xc3\xa9", false},
	} {
		if got := Valid([]byte(tc.id)); got != tc.want {
			t.Errorf("Valid(%q) = %v, want %v", tc.id, got, tc.want)
		}
	}
}

func TestNextIsUniqueAndValid(t *testing.T) {
	s := NewSource()
	var a, b [MaxLen]byte
	na, nb := s.Next(&a), s.Next(&b)
	if na != 32 || nb != 32 || string(a[:na]) == string(b[:nb]) || string(a[:16]) != string(b[:16]) {
		t.Fatalf("%q %q: want two 32-character ids with one prefix", a[:na], b[:nb])
	}
	if !Valid(a[:na]) {
		t.Fatalf("%q is not a valid id", a[:na])
	}
	if n := testing.AllocsPerRun(100, func() { s.Next(&a) }); n != 0 {
		t.Fatalf("Next allocates %v times", n)
	}
}
