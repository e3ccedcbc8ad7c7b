package main

import (
	"bufio"
	"context"
	"github.com/strata-dp/strata/internal/syncbuf"
	"io"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestHelperStrata is not a test: child processes started by strataProc
// run it to become a real strata process (the os/exec test pattern).
func TestHelperStrata(t *testing.T) {
	if os.Getenv("STRATA_HELPER_MAIN") != "1" {
		t.Skip("helper process entry point")
	}
	args := os.Args
	for i, a := range args {
		if a == "--" {
			args = args[i+1:]
			break
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := runMain(ctx, args, &environment{stdout: os.Stdout, stderr: os.Stderr})
	stop()
	os.Exit(code)
}

// proc is a strata child process; it is killed by pid on cleanup.
type proc struct {
	cmd    *exec.Cmd
	stdout *bufio.Reader
	stderr *syncbuf.Buffer
}

// strataProc starts `strata args...` as a child, optionally wrapped (e.g.
// by capsh), and kills it when the test ends.
func strataProc(t *testing.T, wrap []string, args ...string) *proc {
	t.Helper()
	argv := append([]string{os.Args[0], "-test.run=^TestHelperStrata$", "--"}, args...)
	if len(wrap) > 0 {
		argv = append(append([]string(nil), wrap...), argv...)
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), "STRATA_HELPER_MAIN=1")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	p := &proc{cmd: cmd, stdout: bufio.NewReader(out), stderr: &syncbuf.Buffer{}}
	cmd.Stderr = p.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	return p
}

// line waits for a stdout line with the given prefix and returns the rest.
func (p *proc) line(t *testing.T, prefix string) string {
	t.Helper()
	type res struct {
		s   string
		err error
	}
	ch := make(chan res, 1)
	go func() {
		for {
			l, err := p.stdout.ReadString('\n')
			if err != nil {
				ch <- res{err: err}
				return
			}
			if v, ok := strings.CutPrefix(strings.TrimSpace(l), prefix); ok {
				ch <- res{s: v}
				go io.Copy(io.Discard, p.stdout)
				return
			}
		}
	}()
	select {
	case r := <-ch:
		if r.err != nil {
			t.Fatalf("waiting for %q: %v (stderr: %s)", prefix, r.err, p.stderr)
		}
		return r.s
	case <-time.After(20 * time.Second):
		t.Fatalf("no %q line within 20 s", prefix)
	}
	return ""
}

func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// waitServing waits until addr accepts TCP connections.
func waitServing(t *testing.T, addr string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not serving: %v", addr, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
