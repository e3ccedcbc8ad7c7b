package supervise

import (
	"bytes"
	"context"
	"github.com/strata-dp/strata/internal/syncbuf"
	"log/slog"
	"strings"
	"syscall"
	"testing"
	"time"
)

func fastBackoff() Backoff {
	return Backoff{Initial: 10 * time.Millisecond, Max: 50 * time.Millisecond, StableAfter: time.Minute}
}

func alive(pid int) bool { return syscall.Kill(pid, 0) == nil }

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestCrashedChildIsRestartedAndLogged(t *testing.T) {
	var logs syncbuf.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	c, err := Start(Spec{Name: "sleeper", Path: "/bin/sleep", Args: []string{"30"}}, fastBackoff(), log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Stop(context.Background()) })
	first := c.Pid()
	if err := syscall.Kill(first, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "a restart", func() bool { return c.Restarts() == 1 && c.Pid() != first && c.Running() })
	if !strings.Contains(logs.String(), "restarting") || !strings.Contains(logs.String(), "sleeper") {
		t.Fatalf("restart not logged: %s", logs.String())
	}
	second := c.Pid()
	if err := c.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	if alive(second) {
		t.Fatalf("pid %d still alive after Stop", second)
	}
}

func TestStopKillsAChildThatIgnoresSIGTERM(t *testing.T) {
	log := slog.New(slog.NewTextHandler(&bytes.Buffer{}, nil))
	c, err := Start(Spec{Name: "stubborn", Path: "/bin/sh",
		Args: []string{"-c", "trap '' TERM; while :; do sleep 0.05; done"}, StopTimeout: 200 * time.Millisecond},
		fastBackoff(), log)
	if err != nil {
		t.Fatal(err)
	}
	pid := c.Pid()
	time.Sleep(50 * time.Millisecond) // let the shell install its trap
	start := time.Now()
	if err := c.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	if alive(pid) {
		t.Fatalf("pid %d survived Stop", pid)
	}
	if took := time.Since(start); took > 3*time.Second {
		t.Fatalf("Stop took %v", took)
	}
}

func TestStartFailsForMissingBinary(t *testing.T) {
	log := slog.New(slog.NewTextHandler(&bytes.Buffer{}, nil))
	if _, err := Start(Spec{Name: "ghost", Path: "/nonexistent/strata"}, fastBackoff(), log); err == nil {
		t.Fatal("Start of a missing binary succeeded")
	}
}

func TestBackoffDoublesToMax(t *testing.T) {
	b := Backoff{Initial: 100 * time.Millisecond, Max: 500 * time.Millisecond}
	want := []time.Duration{100, 200, 400, 500, 500}
	var d time.Duration
	for i, w := range want {
		d = b.next(d)
		if d != w*time.Millisecond {
			t.Fatalf("step %d: %v, want %v", i, d, w*time.Millisecond)
		}
	}
}

// Status keeps what an operator needs to see a restart: how many, how the
// last process ended (signal or exit code) and when.
func TestStatusRecordsEachExit(t *testing.T) {
	log := slog.New(slog.NewTextHandler(&bytes.Buffer{}, nil))
	exits := make(chan Status, 4)
	var c *Child
	ready := make(chan struct{})
	onExit := func() { <-ready; exits <- c.Status() }
	c, err := Start(Spec{Name: "sleeper", Path: "/bin/sleep", Args: []string{"30"}, OnExit: onExit}, fastBackoff(), log)
	if err != nil {
		t.Fatal(err)
	}
	close(ready)
	t.Cleanup(func() { _ = c.Stop(context.Background()) })
	if st := c.Status(); st.Restarts != 0 || st.LastExit != "" || !st.LastExitAt.IsZero() || st.Pid != c.Pid() {
		t.Fatalf("fresh child: %+v", st)
	}
	first := c.Pid()
	before := time.Now()
	if err := syscall.Kill(first, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	select {
	case st := <-exits:
		if st.Restarts != 1 || st.LastExit != "signal: killed" || st.LastExitAt.Before(before) || !st.LastRestart.IsZero() {
			t.Fatalf("OnExit saw %+v", st)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("OnExit not called")
	}
	waitFor(t, "the restart", func() bool { return c.Status().Pid != first && !c.Status().LastRestart.IsZero() })
	if st := c.Status(); st.LastRestart.Before(st.LastExitAt) {
		t.Fatalf("restarted at %v, before the exit at %v", st.LastRestart, st.LastExitAt)
	}
}

func TestStatusNamesTheExitCode(t *testing.T) {
	log := slog.New(slog.NewTextHandler(&bytes.Buffer{}, nil))
	c, err := Start(Spec{Name: "failing", Path: "/bin/sh", Args: []string{"-c", "sleep 0.05; exit 3"}}, fastBackoff(), log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Stop(context.Background()) })
	waitFor(t, "an exit", func() bool { return c.Status().Restarts > 0 })
	if st := c.Status(); st.LastExit != "exit status 3" {
		t.Fatalf("last exit %q, want exit status 3", st.LastExit)
	}
}
