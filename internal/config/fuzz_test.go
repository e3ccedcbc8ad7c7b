package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzParse feeds arbitrary bytes to the configuration parser: it must
// return a configuration or a one-line error, never panic, and whatever it
// accepts must print and parse back to the same thing.
func FuzzParse(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/*.yaml")
	for _, p := range seeds {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("mode: xdp\n"))
	f.Add([]byte("lb: {services: [{vip: 127.0.0.1:8000, backends: [{addr: 127.0.0.1:1, weight: 0}]}]}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := Parse(data)
		if err != nil {
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("multi-line error: %q", err)
			}
			return
		}
		out, err := s.Marshal()
		if err != nil {
			t.Fatalf("accepted config does not print: %v", err)
		}
		again, err := Parse(out)
		if err != nil {
			t.Fatalf("printed config does not parse back: %v\n%s", err, out)
		}
		out2, _ := again.Marshal()
		if string(out) != string(out2) {
			t.Fatalf("print/parse is not stable:\n%s\n---\n%s", out, out2)
		}
	})
}

func TestOversizedFileIsRefused(t *testing.T) {
	big := make([]byte, MaxFileSize+1)
	for i := range big {
		big[i] = ' '
	}
	if _, err := Parse(big); err != ErrTooLarge {
		t.Fatalf("err = %v, want ErrTooLarge", err)
	}
}
