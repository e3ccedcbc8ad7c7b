package telemetry

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestLoggerFlags(t *testing.T) {
	tests := []struct {
		format, level string
		wantErr       string
		wantJSON      bool
	}{
		{"text", "info", "", false},
		{"json", "debug", "", true},
		{"JSON", "WARN", "", true},
		{"xml", "info", "--log-format", false},
		{"text", "loud", "--log-level", false},
	}
	for _, tt := range tests {
		t.Run(tt.format+"/"+tt.level, func(t *testing.T) {
			var buf bytes.Buffer
			f := Flags{LogFormat: tt.format, LogLevel: tt.level}
			log, err := f.Logger(&buf)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one naming %s", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			log.Error("hello")
			if got := strings.HasPrefix(buf.String(), "{"); got != tt.wantJSON {
				t.Fatalf("json output = %v, want %v: %q", got, tt.wantJSON, buf.String())
			}
		})
	}
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := (&http.Client{Timeout: 2 * time.Second}).Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestProbesAndMetrics(t *testing.T) {
	s := NewServer()
	if err := s.Listen("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, nil) }()
	base := "http://" + s.Addr()

	if code, _ := get(t, base+"/readyz"); code != http.StatusServiceUnavailable {
		t.Fatalf("/readyz before SetReady = %d, want 503", code)
	}
	s.SetReady(true)
	if code, _ := get(t, base+"/readyz"); code != http.StatusOK {
		t.Fatalf("/readyz after SetReady = %d", code)
	}
	if code, _ := get(t, base+"/healthz"); code != http.StatusOK {
		t.Fatalf("/healthz = %d", code)
	}
	s.SetHealthy(false)
	if code, _ := get(t, base+"/healthz"); code != http.StatusServiceUnavailable {
		t.Fatalf("/healthz unhealthy = %d", code)
	}
	if code, body := get(t, base+"/metrics"); code != http.StatusOK || !strings.Contains(body, "go_goroutines") {
		t.Fatalf("/metrics = %d without Go collector", code)
	}
	if _, body := get(t, base+"/metrics"); !strings.Contains(body, "strata_httpserve_shed_incomplete_total 0") ||
		!strings.Contains(body, `strata_httpserve_connections{state="active"} 1`) {
		t.Fatalf("/metrics does not count its own listener's connections:\n%s", body)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Serve: %v", err)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("Serve did not return after cancel")
	}
}

func TestListenReportsPortInUse(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	if err := NewServer().Listen(ln.Addr().String()); err == nil {
		t.Fatal("Listen on a bound port succeeded")
	}
}
