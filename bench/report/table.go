package report

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/strata-dp/strata/bench/result"
)

// WriteTable prints one scenario's results as an aligned text table.
func WriteTable(w io.Writer, f *result.File) error {
	fmt.Fprintf(w, "scenario %s  started %s  cpus %d  kernel %s  load %s\n",
		f.Scenario, f.Started, f.Machine.CPUs, f.Machine.Kernel, f.Machine.LoadAvg)
	if f.Quick {
		fmt.Fprintln(w, "quick smoke run: figures are not comparable with full runs")
	}
	systems := orderedSystems(f)
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	header := []string{"measurement", "metric"}
	header = append(header, systems...)
	for _, p := range peers(f) {
		header = append(header, "strata/"+p)
	}
	fmt.Fprintln(tw, strings.Join(header, "\t"))
	for _, r := range rows(f) {
		line := []string{r.name, r.metric}
		for _, s := range systems {
			res, ok := r.by[s]
			line = append(line, cell(res, ok))
		}
		for _, p := range peers(f) {
			if v, ok := ratioFor(f, r.name, r.metric, p); ok {
				line = append(line, Ratio(v))
			} else {
				line = append(line, "—")
			}
		}
		fmt.Fprintln(tw, strings.Join(line, "\t"))
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("write table: %w", err)
	}
	for _, s := range f.Skipped {
		what := s.System
		if s.Name != "" {
			what += " " + s.Name
		}
		fmt.Fprintf(w, "skipped %s: %s\n", what, s.Reason)
	}
	return nil
}
