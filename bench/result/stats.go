package result

import (
	"math"
	"sort"
)

// Summarize reduces the samples of one measurement to median, min and max.
// An even number of samples takes the mean of the two middle values.
func Summarize(name, system, metric string, samples []float64) Result {
	r := Result{Name: name, System: system, Metric: metric, Runs: len(samples)}
	if len(samples) == 0 {
		return r
	}
	s := append([]float64(nil), samples...)
	sort.Float64s(s)
	r.Min, r.Max = s[0], s[len(s)-1]
	r.Median = Median(s)
	return r
}

// Median of sorted or unsorted samples; NaN for none.
func Median(samples []float64) float64 {
	n := len(samples)
	if n == 0 {
		return math.NaN()
	}
	s := samples
	if !sort.Float64sAreSorted(s) {
		s = append([]float64(nil), samples...)
		sort.Float64s(s)
	}
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// Ratios compares system a with each system in others on every measurement
// (name, metric) both have. A zero denominator yields no ratio rather than
// an infinity that JSON cannot carry.
func Ratios(results []Result, a string, others []string) []Ratio {
	type key struct{ name, metric string }
	medians := map[string]map[key]float64{}
	var order []key
	seen := map[key]bool{}
	for _, r := range results {
		if medians[r.System] == nil {
			medians[r.System] = map[key]float64{}
		}
		k := key{r.Name, r.Metric}
		medians[r.System][k] = r.Median
		if r.System == a && !seen[k] {
			seen[k] = true
			order = append(order, k)
		}
	}
	var out []Ratio
	for _, b := range others {
		if b == a {
			continue
		}
		for _, k := range order {
			mb, ok := medians[b][k]
			if !ok || mb == 0 {
				continue
			}
			out = append(out, Ratio{Name: k.name, A: a, B: b, Metric: k.metric, MedianRatio: round(medians[a][k]/mb, 4)})
		}
	}
	return out
}

// round keeps files readable: ratios and figures carry no false precision.
func round(v float64, digits int) float64 {
	p := math.Pow(10, float64(digits))
	return math.Round(v*p) / p
}

// Round rounds v to a number of significant digits suitable for a report.
func Round(v float64) float64 {
	if v == 0 || math.IsNaN(v) || math.IsInf(v, 0) {
		return v
	}
	mag := math.Floor(math.Log10(math.Abs(v)))
	digits := 4 - int(mag) - 1
	if digits < 0 {
		p := math.Pow(10, float64(-digits))
		return math.Round(v/p) * p
	}
	return round(v, digits)
}
