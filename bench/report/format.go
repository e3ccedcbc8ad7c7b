package report

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/strata-dp/strata/bench/result"
)

// LowerIsBetter says how to read a metric: latencies, memory and per-packet
// costs shrink when things improve; throughput and ratios grow.
func LowerIsBetter(metric string) bool {
	for _, suf := range []string{"_ms", "_ns", "_mib", "_per_burst", "ns_per_packet", "error_ratio", "failed_ratio", "_vs_unloaded", "_per_op"} {
		if strings.HasSuffix(metric, suf) {
			return true
		}
	}
	return false
}

// Num formats a figure for people: thousands separated, three significant
// digits below 1000.
func Num(v float64) string {
	switch {
	case math.IsNaN(v) || math.IsInf(v, 0):
		return "n/a"
	case math.Abs(v) >= 1000:
		return thousands(int64(math.Round(v)))
	case v == 0:
		return "0"
	case math.Abs(v) >= 100:
		return strconv.FormatFloat(v, 'f', 0, 64)
	case math.Abs(v) >= 10:
		return strconv.FormatFloat(v, 'f', 1, 64)
	case math.Abs(v) >= 1:
		return strconv.FormatFloat(v, 'f', 2, 64)
	default:
		return strconv.FormatFloat(v, 'g', 3, 64)
	}
}

func thousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// Ratio formats median_ratio as "1.23×".
func Ratio(v float64) string { return fmt.Sprintf("%.2f×", v) }

// row is one (measurement, metric) with a result per system.
type row struct {
	name, metric string
	by           map[string]result.Result
}

// rows groups a file's results by (name, metric), in file order.
func rows(f *result.File) []row {
	var out []row
	idx := map[[2]string]int{}
	for _, r := range f.Results {
		k := [2]string{r.Name, r.Metric}
		i, ok := idx[k]
		if !ok {
			i = len(out)
			idx[k] = i
			out = append(out, row{name: r.Name, metric: r.Metric, by: map[string]result.Result{}})
		}
		out[i].by[r.System] = r
	}
	return out
}

// ratioFor finds the ratio strata/peer for a row.
func ratioFor(f *result.File, name, metric, b string) (float64, bool) {
	for _, r := range f.Ratios {
		if r.Name == name && r.Metric == metric && r.B == b {
			return r.MedianRatio, true
		}
	}
	return 0, false
}

// peers lists the systems other than strata that have results.
func peers(f *result.File) []string {
	var out []string
	for _, s := range f.Systems() {
		if s != "strata" {
			out = append(out, s)
		}
	}
	return out
}

// orderedSystems puts strata first, then the peers as measured.
func orderedSystems(f *result.File) []string {
	sys := f.Systems()
	sort.SliceStable(sys, func(i, j int) bool { return sys[i] == "strata" && sys[j] != "strata" })
	return sys
}

func cell(r result.Result, ok bool) string {
	if !ok {
		return "—"
	}
	if r.Runs == 1 || r.Min == r.Max {
		return Num(r.Median)
	}
	return fmt.Sprintf("%s (%s–%s)", Num(r.Median), Num(r.Min), Num(r.Max))
}
