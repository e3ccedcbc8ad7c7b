package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/strata-dp/strata/dataplane/state/server"
)

func TestStateFlagErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
	}{
		{"memory", []string{"--memory", "lots"}},
		{"memory too small", []string{"--memory", "1KiB"}},
		{"memory policy", []string{"--maxmemory-policy", "allkeys-random"}},
		{"frame", []string{"--max-frame", "10"}},
		{"reply", []string{"--max-reply", "1KiB"}},
		{"buffered", []string{"--max-buffered", "lots"}},
		{"data", []string{"--data", "/tmp/x"}},
		{"conns", []string{"--max-conns", "0"}},
		{"event loops", []string{"--event-loops", "-1"}},
		{"procs", []string{"--procs", "-2"}},
		{"secret file", []string{"--auth-secret-file", "/nonexistent/secret"}},
		{"log level", []string{"--log-level", "loud", "--listen", "127.0.0.1:0"}},
		{"stray argument", []string{"extra"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			code := runMain(context.Background(), append([]string{"state"}, tt.args...), &environment{stdout: &out, stderr: &out})
			if code != 2 {
				t.Fatalf("exit %d, want 2; output %q", code, out.String())
			}
		})
	}
}

func TestStateServesAndStopsOnCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan int, 1)
	// --procs keeps the test binary's GOMAXPROCS: the node sets it
	// process-wide.
	procs := strconv.Itoa(runtime.GOMAXPROCS(0))
	go func() {
		done <- runMain(ctx, []string{"state", "--listen", "127.0.0.1:0", "--resp", "127.0.0.1:0", "--memory", "8MiB", "--procs", procs},
			&environment{stdout: io.Discard, stderr: pw})
		pw.Close()
	}()
	respAddr := waitStateServing(t, pr)
	go io.Copy(io.Discard, pr)
	nc, err := net.DialTimeout("tcp", respAddr, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(5 * time.Second))
	io.WriteString(nc, "PING\r\n")
	buf := make([]byte, 7)
	if _, err := io.ReadFull(nc, buf); err != nil || string(buf) != "+PONG\r\n" {
		t.Fatalf("ping: %q %v", buf, err)
	}
	// A state node holds sessions and carts: noeviction unless asked.
	io.WriteString(nc, "CONFIG GET maxmemory-policy\r\n")
	want := "*2\r\n$16\r\nmaxmemory-policy\r\n$10\r\nnoeviction\r\n"
	buf = make([]byte, len(want))
	if _, err := io.ReadFull(nc, buf); err != nil || string(buf) != want {
		t.Fatalf("CONFIG GET maxmemory-policy: %q %v", buf, err)
	}
	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("exit %d after cancel", code)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("strata state did not stop within 10s of cancel")
	}
}

var servingLine = regexp.MustCompile(`msg="state node serving".* resp=(\S+)`)

func waitStateServing(t *testing.T, r io.Reader) string {
	t.Helper()
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			if m := servingLine.FindStringSubmatch(sc.Text()); m != nil {
				found <- m[1]
				return
			}
		}
		close(found)
	}()
	select {
	case a, ok := <-found:
		if !ok {
			t.Fatal("strata state exited before serving")
		}
		return a
	case <-time.After(10 * time.Second):
		t.Fatal("strata state did not report serving within 10s")
	}
	return ""
}

// The built binary exits 0 within a few seconds of SIGTERM.
func TestStateProcessSIGTERM(t *testing.T) {
	bin := os.Getenv("STRATA_BIN")
	if bin == "" || testing.Short() {
		t.Skip("STRATA_BIN not set (make test sets it)")
	}
	cmd := exec.Command(bin, "state", "--listen", "127.0.0.1:0", "--resp", "127.0.0.1:0", "--memory", "8MiB")
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill() })
	waitStateServing(t, stderr)
	go io.Copy(io.Discard, stderr)
	start := time.Now()
	cmd.Process.Signal(syscall.SIGTERM)
	errc := make(chan error, 1)
	go func() { errc <- cmd.Wait() }()
	select {
	case err := <-errc:
		var ee *exec.ExitError
		if errors.As(err, &ee) || err != nil {
			t.Fatalf("exit after SIGTERM: %v", err)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Fatalf("took %v to stop", d)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no exit within 10s of SIGTERM")
	}
}

func TestTuneProcs(t *testing.T) {
	old := runtime.GOMAXPROCS(0)
	t.Cleanup(func() { runtime.GOMAXPROCS(old) })
	tests := []struct {
		name         string
		env          string
		procs, loops int
		want         int
	}{
		{"flag", "", 3, 1, 3},
		{"as many as loops", "", 0, 2, 2},
		{"default loops", "", 0, 0, server.DefaultEventLoops()},
		{"environment wins", "5", 3, 1, 7},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("GOMAXPROCS", tt.env)
			runtime.GOMAXPROCS(7)
			tuneProcs(tt.procs, tt.loops)
			if got := runtime.GOMAXPROCS(0); got != tt.want {
				t.Fatalf("GOMAXPROCS %d, want %d", got, tt.want)
			}
		})
	}
}
