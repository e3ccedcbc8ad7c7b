package bench

import (
	"context"
	"errors"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestProcessStopTakesDownItsGroup(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	tests := []struct {
		name  string
		shell string
		grace time.Duration
	}{
		// The child sleeps in the background: it must not outlive Stop.
		{"exits on SIGTERM, child left behind", "sleep 30 & exec sleep 31", time.Second},
		// The parent ignores SIGTERM: the grace runs out and SIGKILL follows.
		{"ignores SIGTERM", "trap '' TERM; sleep 30 & wait", 200 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Start("sh", "/bin/sh", "-c", tt.shell)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { p.Stop(time.Second) })
			time.Sleep(100 * time.Millisecond) // let the shell fork
			if rss, err := p.RSSBytes(); err != nil || rss <= 0 {
				t.Errorf("RSSBytes = %d, %v", rss, err)
			}
			p.Stop(tt.grace)
			if done, _ := p.Exited(); !done {
				t.Fatal("process still running after Stop")
			}
			deadline := time.Now().Add(2 * time.Second)
			for syscall.Kill(-p.Pid(), 0) == nil {
				if time.Now().After(deadline) {
					t.Fatalf("process group %d still has members after Stop", p.Pid())
				}
				time.Sleep(20 * time.Millisecond)
			}
		})
	}
}

func TestWaitTCPFailsWhenProcessExits(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a process")
	}
	p, err := Start("false", "/bin/sh", "-c", "echo cannot bind >&2; exit 3")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Stop(time.Second) })
	addr, err := FreeAddr()
	if err != nil {
		t.Fatal(err)
	}
	err = p.WaitTCP(context.Background(), addr, 10*time.Second)
	if !errors.Is(err, ErrNotReady) {
		t.Fatalf("WaitTCP = %v, want ErrNotReady", err)
	}
	// It gave up because the process exited, not because time ran out, and
	// says what the process printed.
	for _, want := range []string{"exited", "cannot bind"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
}

func TestParseStatTicks(t *testing.T) {
	tests := []struct {
		name, stat string
		want       int64
		wantErr    bool
	}{
		{"plain", "1234 (redis-server) S 1 1234 1234 0 -1 4194560 100 0 0 0 250 75 0 0 20 0 4 0", 325, false},
		{"name with spaces and parens", "77 (a (b) c) R 1 77 77 0 -1 0 0 0 0 0 9 1 0 0 20 0 1 0", 10, false},
		{"no closing paren", "77 (abc R 1", 0, true},
		{"short", "77 (abc) R 1 2 3", 0, true},
		{"not a number", "77 (abc) R 1 77 77 0 -1 0 0 0 0 0 x 1 0 0 20 0 1 0", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseStatTicks(tt.stat)
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Fatalf("parseStatTicks = %d, %v; want %d, error %v", got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func TestCPUSecondsGrowsWithWork(t *testing.T) {
	p, err := Start("spin", "/bin/sh", "-c", "i=0; while [ $i -lt 200000 ]; do i=$((i+1)); done; sleep 5")
	if err != nil {
		t.Fatal(err)
	}
	defer p.Stop(time.Second)
	deadline := time.Now().Add(10 * time.Second)
	for {
		s, err := p.CPUSeconds()
		if err != nil {
			t.Fatal(err)
		}
		if s > 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("a busy shell used no processor time by /proc")
		}
		time.Sleep(50 * time.Millisecond)
	}
}
