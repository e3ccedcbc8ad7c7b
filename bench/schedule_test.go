package bench

import (
	"reflect"
	"testing"
)

func TestSchedule(t *testing.T) {
	tests := []struct {
		name    string
		systems []string
		runs    int
		warmup  bool
		want    []Step
	}{
		{"two systems alternate after warm-up", []string{"strata", "redis"}, 2, true, []Step{
			{System: "strata", Warmup: true}, {System: "redis", Warmup: true},
			{System: "strata", Run: 1}, {System: "redis", Run: 1},
			{System: "strata", Run: 2}, {System: "redis", Run: 2},
		}},
		{"three systems round robin", []string{"a", "b", "c"}, 2, false, []Step{
			{System: "a", Run: 1}, {System: "b", Run: 1}, {System: "c", Run: 1},
			{System: "a", Run: 2}, {System: "b", Run: 2}, {System: "c", Run: 2},
		}},
		{"quick: one run, no warm-up", []string{"strata", "varnish"}, 1, false, []Step{
			{System: "strata", Run: 1}, {System: "varnish", Run: 1},
		}},
		{"one system", []string{"strata"}, 3, true, []Step{
			{System: "strata", Warmup: true}, {System: "strata", Run: 1}, {System: "strata", Run: 2}, {System: "strata", Run: 3},
		}},
		{"no systems", nil, 5, true, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Schedule(tt.systems, tt.runs, tt.warmup)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Schedule = %+v\nwant %+v", got, tt.want)
			}
			// No system ever runs twice in a row while another waits.
			for i := 1; i < len(got); i++ {
				if len(tt.systems) > 1 && got[i].System == got[i-1].System {
					t.Errorf("step %d repeats %s", i, got[i].System)
				}
			}
		})
	}
}
