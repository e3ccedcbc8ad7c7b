package bench

import (
	"math"
	"testing"

	"github.com/strata-dp/strata/bench/loadgen"
)

func TestWrkSamples(t *testing.T) {
	tests := []struct {
		name      string
		r         loadgen.WrkResult
		wantRPS   float64
		wantError float64
		wantErr   bool
	}{
		{"all good", loadgen.WrkResult{RequestsPerSec: 1000, Requests: 3000, P99ms: 2}, 1000, 0, false},
		{"rejections are not throughput", loadgen.WrkResult{RequestsPerSec: 1000, Requests: 1000, Non2xx: 100, SocketErrors: 100}, 800, 0.2, false},
		{"mostly errors is refused", loadgen.WrkResult{RequestsPerSec: 1000, Requests: 1000, Non2xx: 600}, 0, 0, true},
		{"nothing completed", loadgen.WrkResult{}, 0, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := wrkSamples("m", &tt.r)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			want := []Sample{{"m", MetricRPS, tt.wantRPS}, {"m", MetricP99, tt.r.P99ms}, {"m", MetricErrors, tt.wantError}}
			for i := range want {
				if got[i].Name != want[i].Name || got[i].Metric != want[i].Metric || math.Abs(got[i].Value-want[i].Value) > 1e-9 {
					t.Errorf("sample %d = %+v, want %+v", i, got[i], want[i])
				}
			}
		})
	}
}
