package xdpmeasure

import (
	"context"
	"testing"

	"github.com/strata-dp/strata/internal/bpftest"
)

// TestRun checks that the measurement runs and measures what it
// says (every new-flow run a miss; Run verifies that itself). It
// asserts no timing: the numbers go to the log and to bench/results.
func TestRun(t *testing.T) {
	bpftest.RequireRoot(t)
	res, err := Run(context.Background(), Options{Repeat: 2000, Samples: 3})
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range []Measurement{res.Baseline, res.FlowHit, res.NewFlow, res.NewFlowNoSYN, res.Pass, res.CTInsert, res.CTUpdate, res.CTMiss, res.CTHit} {
		if len(m.Samples) != 3 || m.Median() <= 0 {
			t.Errorf("%s: samples %v", m.Name, m.Samples)
		}
		t.Logf("%-14s median %6.1f ns/pkt (min %.1f, max %.1f)", m.Name, m.Median(), m.Min(), m.Max())
	}
}

func benchmarkPath(b *testing.B, pick func(Result) Measurement) {
	bpftest.RequireRoot(b)
	b.ReportAllocs()
	res, err := Run(context.Background(), Options{Repeat: 50000, Samples: b.N})
	if err != nil {
		b.Fatal(err)
	}
	m := pick(res)
	b.ReportMetric(m.Median(), "ns/pkt")
}

// The benchmarks report the kernel-measured ns per packet (ns/pkt); ns/op is
// the cost of a whole sample of 50000 runs plus setup.
func BenchmarkXDPDrop(b *testing.B) {
	benchmarkPath(b, func(r Result) Measurement { return r.Baseline })
}
func BenchmarkFlowHit(b *testing.B) {
	benchmarkPath(b, func(r Result) Measurement { return r.FlowHit })
}
func BenchmarkNewFlow(b *testing.B) {
	benchmarkPath(b, func(r Result) Measurement { return r.NewFlow })
}
func BenchmarkPass(b *testing.B) {
	benchmarkPath(b, func(r Result) Measurement { return r.Pass })
}

func BenchmarkCTInsert(b *testing.B) {
	benchmarkPath(b, func(r Result) Measurement { return r.CTInsert })
}

func BenchmarkNewFlowNoSYN(b *testing.B) {
	benchmarkPath(b, func(r Result) Measurement { return r.NewFlowNoSYN })
}

func BenchmarkCTUpdate(b *testing.B) {
	benchmarkPath(b, func(r Result) Measurement { return r.CTUpdate })
}

func BenchmarkCTMiss(b *testing.B) {
	benchmarkPath(b, func(r Result) Measurement { return r.CTMiss })
}

func BenchmarkCTHit(b *testing.B) {
	benchmarkPath(b, func(r Result) Measurement { return r.CTHit })
}
