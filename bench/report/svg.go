package report

import (
	"fmt"
	"html"
	"io"
	"os"
	"strings"

	"github.com/strata-dp/strata/bench/result"
)

// Chart layout, in SVG user units.
const (
	chartWidth  = 820
	labelWidth  = 250
	valueWidth  = 150
	barHeight   = 14
	barGap      = 3
	groupGap    = 12
	headerSpace = 34
)

// palette colours systems; strata always gets the first colour.
var palette = []string{"#1f6fb2", "#d9822b", "#4d9a4d", "#a64ca6", "#8c6d31", "#c23b3b"}

// section is one titled block of bar groups.
type section struct {
	title string
	rows  []row
}

// sections splits a file's rows into throughput, latency and the rest, the
// two views the suite promises (throughput per system, latency percentiles)
// plus any other figure it measured.
func sections(f *result.File) []section {
	var tput, lat, other []row
	for _, r := range rows(f) {
		if allZero(r) {
			// Nothing to draw (typically an error_ratio of 0 everywhere).
			continue
		}
		switch {
		case r.metric == "requests_per_sec" || r.metric == "ops_per_sec" || strings.HasSuffix(r.metric, "_per_sec"):
			tput = append(tput, r)
		case strings.HasPrefix(r.metric, "p") && strings.HasSuffix(r.metric, "_ms"):
			lat = append(lat, r)
		default:
			other = append(other, r)
		}
	}
	var out []section
	for _, s := range []section{{"Throughput (higher is better)", tput}, {"Latency percentiles (lower is better)", lat}, {"Other figures", other}} {
		if len(s.rows) > 0 {
			out = append(out, s)
		}
	}
	return out
}

func allZero(r row) bool {
	for _, res := range r.by {
		if res.Max != 0 || res.Median != 0 {
			return false
		}
	}
	return true
}

// WriteChart draws one scenario as an SVG of horizontal bars: one group per
// (measurement, metric), one bar per system, each group on its own scale
// (the comparison that matters is within a group), with the min–max range
// of the runs as a whisker.
func WriteChart(w io.Writer, f *result.File) error {
	systems := orderedSystems(f)
	colour := map[string]string{}
	next := 1
	for _, s := range systems {
		if s == "strata" {
			colour[s] = palette[0]
			continue
		}
		colour[s] = palette[next%len(palette)]
		next++
	}
	secs := sections(f)
	height := headerSpace + 24 + 20 // title and legend, footnote
	for _, s := range secs {
		height += 28
		for range s.rows {
			height += len(systems)*(barHeight+barGap) + groupGap
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="11">`+"\n",
		chartWidth, height, chartWidth, height)
	fmt.Fprintf(&b, `<rect width="100%%" height="100%%" fill="#ffffff"/>`+"\n")
	title := fmt.Sprintf("strata bench %s — %d CPUs, kernel %s, %s", f.Scenario, f.Machine.CPUs, f.Machine.Kernel, f.Started)
	if f.Quick {
		title += " (quick smoke run)"
	}
	fmt.Fprintf(&b, `<text x="8" y="18" font-size="14" font-weight="bold">%s</text>`+"\n", esc(title))
	// Legend.
	x := 8
	for _, s := range systems {
		fmt.Fprintf(&b, `<rect x="%d" y="26" width="10" height="10" fill="%s"/><text x="%d" y="35">%s</text>`+"\n", x, colour[s], x+14, esc(s))
		x += 24 + 7*len(s)
	}
	y := headerSpace + 24
	barSpace := float64(chartWidth - labelWidth - valueWidth - 16)
	for _, s := range secs {
		fmt.Fprintf(&b, `<text x="8" y="%d" font-size="13" font-weight="bold">%s</text>`+"\n", y+6, esc(s.title))
		y += 22
		for _, r := range s.rows {
			maxV := 0.0
			for _, res := range r.by {
				maxV = max(maxV, res.Max, res.Median)
			}
			groupH := len(systems) * (barHeight + barGap)
			fmt.Fprintf(&b, `<text x="8" y="%d">%s</text>`+"\n", y+groupH/2+4, esc(r.name+" · "+r.metric))
			for _, sys := range systems {
				res, ok := r.by[sys]
				if ok && maxV > 0 {
					wBar := barSpace * res.Median / maxV
					fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%.1f" height="%d" fill="%s"><title>%s %s: median %s, min %s, max %s, %d runs</title></rect>`+"\n",
						labelWidth, y, wBar, barHeight, colour[sys], esc(sys), esc(r.metric), Num(res.Median), Num(res.Min), Num(res.Max), res.Runs)
					if res.Max > res.Min {
						x0 := float64(labelWidth) + barSpace*res.Min/maxV
						x1 := float64(labelWidth) + barSpace*res.Max/maxV
						mid := y + barHeight/2
						fmt.Fprintf(&b, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#222" stroke-width="1"/>`+"\n", x0, mid, x1, mid)
					}
					fmt.Fprintf(&b, `<text x="%d" y="%d">%s %s</text>`+"\n", labelWidth+int(barSpace)+8, y+barHeight-3, esc(sys), esc(Num(res.Median)))
				}
				y += barHeight + barGap
			}
			y += groupGap
		}
		y += 6
	}
	fmt.Fprintf(&b, `<text x="8" y="%d" fill="#555">Bars: median of the runs; whiskers: min–max. Each group has its own scale. Figures that are 0 for every system are left out.</text>`+"\n", y+8)
	b.WriteString("</svg>\n")
	_, err := io.WriteString(w, b.String())
	if err != nil {
		return fmt.Errorf("write chart: %w", err)
	}
	return nil
}

// WriteChartFile writes the chart of f to path.
func WriteChartFile(path string, f *result.File) error {
	out, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("chart: %w", err)
	}
	if err := WriteChart(out, f); err != nil {
		_ = out.Close()
		return err
	}
	if err := out.Close(); err != nil {
		return fmt.Errorf("chart: %w", err)
	}
	return nil
}

func esc(s string) string { return html.EscapeString(s) }
