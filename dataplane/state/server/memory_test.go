package server

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/strata-dp/strata/dataplane/state"
	"github.com/strata-dp/strata/dataplane/state/client"
)

// TestMemoryPolicyOverBothProtocols fills a 1 MiB node over RESP: under
// noeviction the write that would pass the bound gets Redis's OOM error and
// the binary protocol's OutOfMemory status, reads and deletes still work,
// and INFO, CONFIG GET and the metrics show the policy and the refusals;
// under fifo every write succeeds and keys are evicted.
func TestMemoryPolicyOverBothProtocols(t *testing.T) {
	for _, p := range []state.Policy{state.PolicyNoEviction, state.PolicyFIFO} {
		t.Run(p.String(), func(t *testing.T) {
			eng, err := state.New(state.Config{MemoryBytes: 1 << 20, Policy: p})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { eng.Close() })
			s := startServer(t, Config{Engine: eng})
			c := dialRESP(t, s.RESPAddr())
			val := strings.Repeat("v", 1000)
			refusedAt := -1
			for i := range 3000 {
				c.send(mb("SET", fmt.Sprint("key:", i), val))
				if got := c.reply(); got != "+OK" {
					if want := "-OOM command not allowed when used memory > 'maxmemory'."; got != want || p != state.PolicyNoEviction {
						t.Fatalf("SET %d = %q", i, got)
					}
					refusedAt = i
					break
				}
			}
			cl, err := client.Dial(context.Background(), []string{s.Addr()}, client.Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer cl.Close()
			err = cl.Set(context.Background(), []byte("binary"), []byte(val), 0)
			c.send(mb("INFO", "memory"))
			info := c.reply()
			c.send(mb("CONFIG", "GET", "maxmemory-policy"))
			cfg := c.reply()
			reg := prometheus.NewRegistry()
			reg.MustRegister(s.Collector())
			m := gathered(t, reg)
			if m["strata_state_maxmemory_policy,policy="+p.String()] != 1 {
				t.Errorf("policy metric: %v", m)
			}
			if want := "[$maxmemory-policy $" + p.String() + "]"; cfg != want {
				t.Errorf("CONFIG GET maxmemory-policy = %q, want %q", cfg, want)
			}
			if !strings.Contains(info, "maxmemory_policy:"+p.String()) || !strings.Contains(info, "maxmemory:1048576") {
				t.Errorf("INFO memory = %q", info)
			}
			used := m["strata_state_memory_used_bytes"]
			if !strings.Contains(info, fmt.Sprintf("used_memory:%d\r\n", int64(used))) || used > 1<<20 || used < 1<<19 {
				t.Errorf("used %v bytes; INFO memory = %q", used, info)
			}
			if p == state.PolicyFIFO {
				if refusedAt >= 0 || err != nil || m["strata_state_evicted_keys_total"] == 0 {
					t.Fatalf("fifo: refused at %d, binary %v, metrics %v", refusedAt, err, m)
				}
				return
			}
			if refusedAt < 0 || !errors.Is(err, client.ErrOutOfMemory) {
				t.Fatalf("noeviction: RESP refused at %d, binary SET: %v", refusedAt, err)
			}
			if m["strata_state_oom_refused_writes_total"] != 2 || m["strata_state_evicted_keys_total"] != 0 {
				t.Errorf("refused %v, evicted %v", m["strata_state_oom_refused_writes_total"], m["strata_state_evicted_keys_total"])
			}
			c.do(mb("GET", "key:0"), "$"+val)
			c.do(mb("DEL", "key:0", "key:1"), ":2")
			c.do(mb("SET", "again", val), "+OK")
			if err := cl.Set(context.Background(), []byte("binary"), []byte(val), 0); err != nil {
				t.Fatalf("binary SET after deletes: %v", err)
			}
		})
	}
}
