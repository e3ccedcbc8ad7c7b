package origin

import (
	"errors"
	"testing"
	"time"
)

func TestParseDist(t *testing.T) {
	tests := []struct {
		in       string
		wantErr  bool
		min, max time.Duration // bounds of samples
		hangs    bool
	}{
		{"none", false, 0, 0, false},
		{"", false, 0, 0, false},
		{"0", false, 0, 0, false},
		{"5ms", false, 5 * time.Millisecond, 5 * time.Millisecond, false},
		{"fixed:2ms", false, 2 * time.Millisecond, 2 * time.Millisecond, false},
		{"uniform:1ms-3ms", false, time.Millisecond, 3 * time.Millisecond, false},
		{"normal:10ms,1ms", false, 0, maxLatency, false},
		{"exp:1ms", false, 0, maxLatency, false},
		{"hang", false, maxLatency, maxLatency, true},
		{"uniform:3ms-1ms", true, 0, 0, false},
		{"uniform:1ms", true, 0, 0, false},
		{"normal:1ms", true, 0, 0, false},
		{"fixed:-1ms", true, 0, 0, false},
		{"fixed:2h", true, 0, 0, false},
		{"gamma:1ms", true, 0, 0, false},
		{"fast", true, 0, 0, false},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			d, err := ParseDist(tc.in)
			if tc.wantErr {
				if !errors.Is(err, ErrBadDist) {
					t.Fatalf("ParseDist(%q) = %v, want ErrBadDist", tc.in, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if d.Hangs() != tc.hangs {
				t.Fatalf("Hangs = %v", d.Hangs())
			}
			for i := 0; i < 1000; i++ {
				if v := d.Sample(); v < tc.min || v > tc.max {
					t.Fatalf("sample %v outside [%v, %v]", v, tc.min, tc.max)
				}
			}
			if again, err := ParseDist(d.String()); err != nil || again.kind != d.kind || again.a != d.a || again.b != d.b {
				t.Fatalf("String %q does not parse back: %v", d.String(), err)
			}
		})
	}
}

func FuzzParseDist(f *testing.F) {
	for _, s := range []string{"none", "5ms", "fixed:1s", "uniform:1ms-10ms", "normal:10ms,2ms", "exp:5ms", "hang", "uniform:-", "normal:,", "x:y"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDist(s)
		if err != nil {
			return
		}
		if v := d.Sample(); v < 0 || v > maxLatency {
			t.Fatalf("%q sampled %v", s, v)
		}
	})
}
