// Package deploy holds what runs beside a Strata stack: the Prometheus
// scrape configuration of `strata up`'s default addresses
// (prometheus/prometheus.yml) and a Grafana dashboard over its metrics
// (grafana/strata.json). Its code reads the dashboard's queries so that
// tests can hold every metric family they name against a running stack:
// a family renamed in a role, or one the dashboard invents, fails a test
// instead of drawing an empty panel.
package deploy

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strings"
)

// Dashboard is grafana/strata.json.
//
//go:embed grafana/strata.json
var Dashboard []byte

// dashboard is the part of Grafana's dashboard model the checks read.
type dashboard struct {
	Title  string  `json:"title"`
	Panels []panel `json:"panels"`
}

type panel struct {
	Type    string  `json:"type"`
	Title   string  `json:"title"`
	Panels  []panel `json:"panels"` // a collapsed row's
	Targets []struct {
		Expr string `json:"expr"`
	} `json:"targets"`
}

// Query is one PromQL expression of the dashboard and its panel.
type Query struct {
	Panel, Expr string
}

// DashboardQueries returns every PromQL expression of the dashboard.
func DashboardQueries() ([]Query, error) {
	var d dashboard
	if err := json.Unmarshal(Dashboard, &d); err != nil {
		return nil, fmt.Errorf("grafana/strata.json: %w", err)
	}
	var qs []Query
	var walk func([]panel)
	walk = func(ps []panel) {
		for _, p := range ps {
			for _, t := range p.Targets {
				qs = append(qs, Query{Panel: p.Title, Expr: t.Expr})
			}
			walk(p.Panels)
		}
	}
	walk(d.Panels)
	return qs, nil
}

// metricName matches Strata's metric names in PromQL: every family is
// strata_..., and label names and values never are.
var metricName = regexp.MustCompile(`\bstrata_[a-zA-Z0-9_]+`)

// MetricFamilies returns the metric families expr reads, histogram series
// (_bucket, _sum, _count) as their family.
func MetricFamilies(expr string) []string {
	seen := map[string]bool{}
	for _, m := range metricName.FindAllString(expr, -1) {
		for _, suffix := range []string{"_bucket", "_sum", "_count"} {
			if s, ok := strings.CutSuffix(m, suffix); ok {
				m = s
				break
			}
		}
		seen[m] = true
	}
	out := make([]string, 0, len(seen))
	for m := range seen {
		out = append(out, m)
	}
	sort.Strings(out)
	return out
}
