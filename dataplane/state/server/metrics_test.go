package server

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

// gathered returns metric name{label=value,...} -> value from reg.
func gathered(t *testing.T, reg *prometheus.Registry) map[string]float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			name := mf.GetName()
			for _, l := range m.GetLabel() {
				name += "," + l.GetName() + "=" + l.GetValue()
			}
			switch {
			case m.GetCounter() != nil:
				out[name] = m.GetCounter().GetValue()
			case m.GetGauge() != nil:
				out[name] = m.GetGauge().GetValue()
			case m.GetHistogram() != nil:
				out[name] = float64(m.GetHistogram().GetSampleCount())
			}
		}
	}
	return out
}

func TestMetricsCountCommands(t *testing.T) {
	s := startServer(t, Config{})
	c := dialRESP(t, s.RESPAddr())
	c.do(mb("SET", "k", "v"), "+OK")
	c.do(mb("GET", "k"), "$v")
	c.do(mb("GET", "k"), "$v")
	c.do(mb("GET", "absent"), "(nil)")
	reg := prometheus.NewRegistry()
	reg.MustRegister(s.Collector())
	got := gathered(t, reg)
	want := map[string]float64{
		"strata_state_hits_total":                               2,
		"strata_state_misses_total":                             1,
		"strata_state_keys":                                     1,
		"strata_state_connections":                              1,
		"strata_state_commands_total,command=get,protocol=resp": 3,
		"strata_state_commands_total,command=set,protocol=resp": 1,
		"strata_state_change_seq":                               1,
		"strata_state_connections_accepted_total":               1,
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %v, want %v", k, got[k], v)
		}
	}
	if _, ok := got["strata_state_batch_seconds,protocol=resp"]; !ok {
		t.Error("no latency histogram for resp")
	}
}
