package lifecycle

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/strata-dp/strata/internal/telemetry"
)

// logBuffer is a log destination safe for the goroutines Run starts.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// fakeRole serves until shut down; its Shutdown blocks until release is
// closed or its context ends.
type fakeRole struct {
	stop     chan struct{}
	release  chan struct{}
	serveErr error
	shutdown chan struct{}
}

func newFake() *fakeRole {
	f := &fakeRole{stop: make(chan struct{}), release: make(chan struct{}), shutdown: make(chan struct{})}
	close(f.release)
	return f
}

func (f *fakeRole) serve(context.Context) error {
	if f.serveErr != nil {
		return f.serveErr
	}
	<-f.stop
	return nil
}

func (f *fakeRole) shut(ctx context.Context) error {
	close(f.shutdown)
	close(f.stop)
	select {
	case <-f.release:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func start(t *testing.T, r Role) (cancel func(), done <-chan error, logs *logBuffer) {
	t.Helper()
	logs = &logBuffer{}
	r.Log = slog.New(slog.NewTextHandler(logs, nil))
	ctx, cancel := context.WithCancel(context.Background())
	ch := make(chan error, 1)
	go func() { ch <- Run(ctx, r) }()
	t.Cleanup(cancel)
	return cancel, ch, logs
}

func wait(t *testing.T, done <-chan error, within time.Duration) error {
	t.Helper()
	select {
	case err := <-done:
		return err
	case <-time.After(within):
		t.Fatalf("Run did not return within %v", within)
		return nil
	}
}

func TestRunServesUntilCancelled(t *testing.T) {
	ts := telemetry.NewServer()
	f := newFake()
	cancel, done, logs := start(t, Role{Name: "fake", Telemetry: ts, Serve: f.serve, Shutdown: f.shut, Attrs: []any{"k", "v"}})
	deadline := time.Now().Add(2 * time.Second)
	for !ts.Ready() {
		if time.Now().After(deadline) {
			t.Fatal("not ready while serving")
		}
		time.Sleep(time.Millisecond)
	}
	cancel()
	if err := wait(t, done, 2*time.Second); err != nil {
		t.Fatalf("Run: %v", err)
	}
	if ts.Ready() {
		t.Fatal("still ready after Run returned")
	}
	for _, want := range []string{`msg="fake serving" k=v`, `msg="fake draining" grace=5s`, `msg="fake stopped"`} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("log lacks %s:\n%s", want, logs)
		}
	}
}

func TestRunServeFailureShutsDownAndReturnsIt(t *testing.T) {
	boom := errors.New("boom")
	f := newFake()
	f.serveErr = boom
	_, done, _ := start(t, Role{Name: "fake", Telemetry: telemetry.NewServer(), Serve: f.serve, Shutdown: f.shut})
	if err := wait(t, done, 2*time.Second); !errors.Is(err, boom) {
		t.Fatalf("Run = %v, want %v", err, boom)
	}
	select {
	case <-f.shutdown:
	default:
		t.Fatal("Shutdown not called after Serve failed")
	}
}

func TestRunGraceBoundsShutdown(t *testing.T) {
	f := newFake()
	f.release = make(chan struct{}) // never released: Shutdown waits for its context
	cancel, done, logs := start(t, Role{Name: "fake", Telemetry: telemetry.NewServer(), Serve: f.serve, Shutdown: f.shut,
		Grace: 50 * time.Millisecond})
	cancel()
	if err := wait(t, done, 2*time.Second); err != nil {
		t.Fatalf("Run = %v; a shutdown out of grace is logged, not returned", err)
	}
	if !strings.Contains(logs.String(), `msg="fake shutdown incomplete"`) {
		t.Fatalf("log lacks the incomplete shutdown:\n%s", logs)
	}
}

func TestRunShutdownErrorIsReturned(t *testing.T) {
	bad := errors.New("listener stuck")
	stop := make(chan struct{})
	cancel, done, _ := start(t, Role{Name: "fake", Telemetry: telemetry.NewServer(),
		Serve:    func(context.Context) error { <-stop; return nil },
		Shutdown: func(context.Context) error { close(stop); return bad }})
	cancel()
	if err := wait(t, done, 2*time.Second); !errors.Is(err, bad) || !strings.HasPrefix(err.Error(), "fake shutdown: ") {
		t.Fatalf("Run = %v, want fake shutdown: %v", err, bad)
	}
}

// A role without Shutdown drains by itself when ctx ends; Run waits for it.
func TestRunSelfDrainingRole(t *testing.T) {
	ts := telemetry.NewServer()
	drained := make(chan struct{})
	cancel, done, logs := start(t, Role{Name: "node", Telemetry: ts, Serve: func(ctx context.Context) error {
		<-ctx.Done()
		close(drained)
		return nil
	}})
	cancel()
	if err := wait(t, done, 2*time.Second); err != nil {
		t.Fatalf("Run: %v", err)
	}
	select {
	case <-drained:
	default:
		t.Fatal("Run returned before the role drained")
	}
	if ts.Ready() {
		t.Fatal("still ready after Run returned")
	}
	if strings.Contains(logs.String(), "node draining") {
		t.Fatalf("a self-draining role's drain was logged by Run too:\n%s", logs)
	}
}

func TestRunNeedsServeOrShutdown(t *testing.T) {
	if err := Run(context.Background(), Role{Name: "x", Telemetry: telemetry.NewServer(), Log: slog.New(slog.DiscardHandler)}); err == nil {
		t.Fatal("a role with neither Serve nor Shutdown ran")
	}
}
