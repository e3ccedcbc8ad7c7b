package main

import (
	"flag"
	"fmt"
	"testing"

	"github.com/strata-dp/strata/internal/config"
)

// strata lb's health flags and the stack file's lb.health have one source
// of defaults (dataplane/lb/health), and the stack accepts the LB's own
// defaults: they once were a 250 ms timeout on a 200 ms interval, which
// the stack's validation rejected.
func TestLBFlagDefaultsAgreeWithTheStack(t *testing.T) {
	var f lbFlags
	f.bind(flag.NewFlagSet("lb", flag.ContinueOnError))
	s, err := config.Parse(nil)
	if err != nil {
		t.Fatal(err)
	}
	h := s.LB.Health
	if f.healthInterval != h.Interval || f.healthTimeout != h.Timeout || f.rise != h.Rise || f.fall != h.Fall ||
		f.maxEjected != h.MaxEjected || f.slowStart != *h.SlowStart {
		t.Fatalf("strata lb defaults %v/%v rise %d fall %d max-ejected %v slow-start %v; stack %v/%v rise %d fall %d max_ejected %v slow_start %v",
			f.healthInterval, f.healthTimeout, f.rise, f.fall, f.maxEjected, f.slowStart,
			h.Interval, h.Timeout, h.Rise, h.Fall, h.MaxEjected, *h.SlowStart)
	}
	if f.maxBuffered != s.LB.MaxBuffered || f.firstByteTimeout != *s.LB.FirstByteTimeout ||
		f.outliers != *s.LB.Outliers || f.outlierEjection != s.LB.OutlierEjection {
		t.Fatalf("strata lb's userspace defaults differ from the stack's lb section")
	}
	yaml := fmt.Sprintf("lb:\n  health:\n    interval: %v\n    timeout: %v\n", f.healthInterval, f.healthTimeout)
	if _, err := config.Parse([]byte(yaml)); err != nil {
		t.Fatalf("the stack rejects strata lb's own defaults: %v", err)
	}
}
