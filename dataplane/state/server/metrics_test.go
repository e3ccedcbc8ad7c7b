package server

import (
	"bufio"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/strata-dp/strata/dataplane/state/wire"
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

// TestCommandDurationHistogram runs known commands over both protocols and
// checks how many of each strata_state_command_duration_seconds observed:
// all of them when every command is timed, and with the default sampling
// the first of each kind on a loop, then one in cmdSampleEvery.
func TestCommandDurationHistogram(t *testing.T) {
	tests := []struct {
		name            string
		every           uint32
		respGets        int
		want            map[string]float64
		wantGetCommands float64
	}{
		{"every-command", 1, 3, map[string]float64{"set,protocol=resp": 5, "get,protocol=resp": 3, "set,protocol=binary": 2}, 3},
		{"sampled", 0, cmdSampleEvery + 6, map[string]float64{"set,protocol=resp": 1, "get,protocol=resp": 2, "set,protocol=binary": 1}, cmdSampleEvery + 6},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := startServer(t, Config{})
			s.stats.cmdEvery.Store(tt.every) // before the first connection makes the loops' stats
			c := dialRESP(t, s.RESPAddr())
			for range 5 {
				c.do(mb("SET", "k", "v"), "+OK")
			}
			for range tt.respGets {
				c.do(mb("GET", "k"), "$v")
			}
			nc := dialRaw(t, s.Addr())
			br := bufio.NewReader(nc)
			for i := range 2 {
				if _, err := nc.Write(wire.AppendSet(nil, uint32(i+1), 0, []byte("b"), []byte("v"), 0)); err != nil {
					t.Fatal(err)
				}
				if f := readFrame(t, br); f.Status != wire.StatusOK {
					t.Fatalf("binary SET: status %v", f.Status)
				}
			}
			reg := prometheus.NewPedanticRegistry()
			reg.MustRegister(s.Collector())
			got := gathered(t, reg)
			for series, n := range tt.want {
				if v := got["strata_state_command_duration_seconds,command="+series]; v != n {
					t.Errorf("command_duration_seconds{command=%s} observed %v, want %v", series, v, n)
				}
			}
			if v := got["strata_state_commands_total,command=get,protocol=resp"]; v != tt.wantGetCommands {
				t.Errorf("commands_total{get,resp} = %v, want %v", v, tt.wantGetCommands)
			}
			for k := range got {
				if strings.HasPrefix(k, "strata_state_command_duration_seconds,") && tt.want[strings.TrimPrefix(k, "strata_state_command_duration_seconds,command=")] == 0 {
					t.Errorf("unexpected histogram %s", k)
				}
			}
		})
	}
}
