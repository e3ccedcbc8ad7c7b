package control

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/strata-dp/strata/internal/config"
)

// A process restarted between two probes is ready at both: only the
// supervisor's stack.json tells, and the inventory must show the restart and
// move since.
func TestInventoryShowsRestartsBetweenProbes(t *testing.T) {
	cfg, err := config.Parse([]byte("host: 127.0.0.1\n"))
	if err != nil {
		t.Fatal(err)
	}
	cfg.Facades.Nodes[0].Metrics = readyServer(t, true, "")
	path := filepath.Join(t.TempDir(), "stack.json")
	reg := prometheus.NewRegistry()
	cp := New(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), reg)
	cp.WatchSupervisor(path)
	ctx := context.Background()
	id := cfg.Facades.Nodes[0].ID

	cp.inv.pollOnce(ctx) // no stack.json yet: strata up writes it after the first tier
	first, _ := cp.inv.Get(id)
	if !first.Ready || first.Restarts != 0 || first.LastExit != "" || first.LastRestart != nil {
		t.Fatalf("before any restart: %+v", first)
	}
	time.Sleep(5 * time.Millisecond)
	cp.inv.pollOnce(ctx)
	if s, _ := cp.inv.Get(id); !s.Since.Equal(first.Since) {
		t.Fatalf("since moved without a change: %v -> %v", first.Since, s.Since)
	}

	exitAt := time.Now().Add(-time.Second).UTC().Round(time.Millisecond)
	restartAt := exitAt.Add(200 * time.Millisecond)
	writeStackJSON(t, path, `{"pid": 1, "processes": [
		{"name": "`+id+`", "tier": "facade", "pid": 42, "restarts": 1, "last_exit": "signal: killed",
		 "last_exit_at": "`+exitAt.Format(time.RFC3339Nano)+`", "last_restart": "`+restartAt.Format(time.RFC3339Nano)+`"},
		{"name": "control", "tier": "control", "pid": 43, "restarts": 0}]}`)
	cp.inv.pollOnce(ctx)
	s, _ := cp.inv.Get(id)
	if !s.Ready || s.Restarts != 1 || s.LastExit != "signal: killed" || s.LastRestart == nil || !s.LastRestart.Equal(restartAt) {
		t.Fatalf("after a restart: %+v", s)
	}
	if !s.Since.After(first.Since) {
		t.Fatalf("since did not move on a restart: %v, first %v", s.Since, first.Since)
	}
	// The JSON shape docs/INTERFACES.md promises.
	b, _ := json.Marshal(s)
	for _, field := range []string{`"restarts":1`, `"last_exit":"signal: killed"`, `"last_restart":"`} {
		if !strings.Contains(string(b), field) {
			t.Errorf("%s lacks %s", b, field)
		}
	}
	if b, _ := json.Marshal(Status{}); !strings.Contains(string(b), `"restarts":0,"last_exit":"","last_restart":null`) {
		t.Errorf("unsupervised status: %s", b)
	}

	rec := httptest.NewRecorder()
	promhttp.HandlerFor(reg, promhttp.HandlerOpts{}).ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	for _, line := range []string{
		`strata_up_child_restarts_total{child="` + id + `"} 1`,
		`strata_up_child_restarts_total{child="control"} 0`,
		`strata_up_child_last_exit_timestamp_seconds{child="` + id + `",status="signal: killed"}`,
	} {
		if !strings.Contains(rec.Body.String(), line) {
			t.Errorf("metrics lack %s:\n%s", line, rec.Body.String())
		}
	}

	// A stack.json that cannot be read keeps what was known.
	writeStackJSON(t, path, `{"processes": [`)
	cp.inv.pollOnce(ctx)
	if s, _ := cp.inv.Get(id); s.Restarts != 1 {
		t.Fatalf("a broken stack.json lost the restarts: %+v", s)
	}
}

func writeStackJSON(t *testing.T, path, data string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}
