package userspace

import (
	"runtime"
	"testing"
)

func TestEnsureProcs(t *testing.T) {
	orig := runtime.GOMAXPROCS(0)
	t.Cleanup(func() { runtime.GOMAXPROCS(orig) })
	tests := []struct {
		name         string
		before, want int
		loops        int
	}{
		{"raises to one more than the loops", 1, 3, 2},
		{"never lowers", 8, 8, 2},
		{"bounded over the CPUs", 1, runtime.NumCPU() + maxExtraProcs, 1 << 20},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			runtime.GOMAXPROCS(tt.before)
			ensureProcs(tt.loops)
			if got := runtime.GOMAXPROCS(0); got != tt.want {
				t.Errorf("GOMAXPROCS %d, want %d", got, tt.want)
			}
		})
	}
}
