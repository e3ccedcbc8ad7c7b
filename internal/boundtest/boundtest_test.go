package boundtest

import (
	"errors"
	"os"
	"testing"
	"time"
)

func TestQuantileCountsErrorsAsSlow(t *testing.T) {
	tests := []struct {
		name string
		ok   []time.Duration
		errs int
		q    float64
		want time.Duration
	}{
		{"empty", nil, 0, 0.99, 0},
		{"all ok", []time.Duration{3, 1, 2, 4}, 0, 0.5, 3},
		{"top", []time.Duration{3, 1, 2, 4}, 0, 0.99, 4},
		{"errors fill the tail", []time.Duration{1, 2}, 2, 0.99, 1<<63 - 1},
		{"errors below the quantile", []time.Duration{1, 2, 3, 4, 5, 6, 7, 8, 9}, 1, 0.5, 6},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := &Latencies{ok: tt.ok, errs: tt.errs, lastEr: errors.New("x")}
			if got := l.Quantile(tt.q); got != tt.want {
				t.Fatalf("Quantile(%v) = %v, want %v", tt.q, got, tt.want)
			}
		})
	}
}

func TestRSSOfThisProcess(t *testing.T) {
	if r := rss(os.Getpid()); r < 1<<20 {
		t.Fatalf("rss of the test process = %d bytes, want at least 1 MiB", r)
	}
	if r := rss(1 << 30); r != 0 {
		t.Fatalf("rss of a missing process = %d, want 0", r)
	}
}
