package bench

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Process is a system under test (or a helper) started by the harness. It is
// stopped by its pid, never by name, and its output is kept for error
// messages.
type Process struct {
	Name string
	cmd  *exec.Cmd
	out  *tailBuffer
	done chan struct{}
	err  error
}

// tailBuffer keeps the last bytes a process wrote, for error messages.
type tailBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

const tailLimit = 16 << 10

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf.Write(p)
	if t.buf.Len() > 2*tailLimit {
		b := t.buf.Bytes()
		keep := append([]byte(nil), b[len(b)-tailLimit:]...)
		t.buf.Reset()
		t.buf.Write(keep)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	s := strings.TrimSpace(t.buf.String())
	lines := strings.Split(s, "\n")
	if len(lines) > 6 {
		lines = lines[len(lines)-6:]
	}
	return strings.Join(lines, " | ")
}

// Start runs name with args in its own process group so it can be stopped
// together with any children it forks.
func Start(name string, bin string, args ...string) (*Process, error) {
	cmd := exec.Command(bin, args...)
	out := &tailBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &Process{Name: name, cmd: cmd, out: out, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// Pid is the process id.
func (p *Process) Pid() int { return p.cmd.Process.Pid }

// Output is the tail of what the process printed.
func (p *Process) Output() string { return p.out.String() }

// Exited reports whether the process has ended, and how.
func (p *Process) Exited() (bool, error) {
	select {
	case <-p.done:
		return true, p.err
	default:
		return false, nil
	}
}

// Stop asks the process to stop (SIGTERM to it alone, so a supervisor such
// as strata up, nginx's master or varnishd's manager stops its children in
// order), then kills the whole process group: at once if grace runs out,
// and in any case to take down children that outlived their parent.
func (p *Process) Stop(grace time.Duration) {
	pgid := p.cmd.Process.Pid
	if done, _ := p.Exited(); !done {
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(grace):
		}
	}
	_ = syscall.Kill(-pgid, syscall.SIGKILL)
	<-p.done
}

// ErrNotReady is returned when a started process does not begin serving.
var ErrNotReady = errors.New("process did not become ready")

// WaitTCP waits until addr accepts TCP connections, failing early if the
// process exits.
func (p *Process) WaitTCP(ctx context.Context, addr string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			_ = c.Close()
			return nil
		}
		if done, perr := p.Exited(); done {
			return fmt.Errorf("%w: %s exited (%v) before listening on %s: %s", ErrNotReady, p.Name, perr, addr, p.Output())
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return fmt.Errorf("%w: %s not listening on %s after %v: %s", ErrNotReady, p.Name, addr, timeout, p.Output())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// RSSBytes reads the resident set size of the process (and of its children
// in the same group, for multi-process servers like nginx) from /proc.
func (p *Process) RSSBytes() (int64, error) {
	return rssOfGroup(p.cmd.Process.Pid)
}

func rssOfGroup(pgid int) (int64, error) {
	pids, err := groupPids(pgid)
	if err != nil {
		return 0, err
	}
	var total int64
	for _, pid := range pids {
		kb, err := vmRSSKiB(pid)
		if err != nil {
			continue
		}
		total += kb * 1024
	}
	if total == 0 {
		return 0, fmt.Errorf("no resident memory found for process group %d", pgid)
	}
	return total, nil
}

// groupPids lists the processes of process group pgid, from /proc.
func groupPids(pgid int) ([]int, error) {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil, fmt.Errorf("read /proc: %w", err)
	}
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if g, err := syscall.Getpgid(pid); err == nil && g == pgid {
			pids = append(pids, pid)
		}
	}
	return pids, nil
}

// CPUSeconds is the processor time, user and system, that the process and
// the others of its group have used so far (/proc/PID/stat, in clock ticks
// of 10 ms). Threads that have exited are included; processes of the group
// that have exited are not, which is right for the long-lived servers the
// scenarios measure.
func (p *Process) CPUSeconds() (float64, error) {
	return cpuOfGroup(p.cmd.Process.Pid)
}

// clockTicks is USER_HZ, the unit of /proc/PID/stat's times: 100 on every
// Linux architecture Go supports.
const clockTicks = 100

func cpuOfGroup(pgid int) (float64, error) {
	pids, err := groupPids(pgid)
	if err != nil {
		return 0, err
	}
	var ticks int64
	found := false
	for _, pid := range pids {
		t, err := cpuTicks(pid)
		if err != nil {
			continue
		}
		ticks += t
		found = true
	}
	if !found {
		return 0, fmt.Errorf("no processor time found for process group %d", pgid)
	}
	return float64(ticks) / clockTicks, nil
}

// cpuTicks reads utime + stime of one process. The command name, field 2,
// may hold spaces and parentheses, so fields are counted after its last ')'.
func cpuTicks(pid int) (int64, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, err
	}
	return parseStatTicks(string(b))
}

func parseStatTicks(stat string) (int64, error) {
	i := strings.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, fmt.Errorf("malformed stat line %q", stat)
	}
	// After ") " come field 3 (state) onwards; utime and stime are fields
	// 14 and 15, so indexes 11 and 12 here.
	f := strings.Fields(stat[i+1:])
	if len(f) < 13 {
		return 0, fmt.Errorf("short stat line %q", stat)
	}
	u, err1 := strconv.ParseInt(f[11], 10, 64)
	s, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("malformed times in stat line %q", stat)
	}
	return u + s, nil
}

func vmRSSKiB(pid int) (int64, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			f := strings.Fields(rest)
			if len(f) >= 1 {
				return strconv.ParseInt(f[0], 10, 64)
			}
		}
	}
	return 0, fmt.Errorf("no VmRSS for pid %d", pid)
}

// FreePort returns a loopback port that was free a moment ago. Another
// process may take it before the caller binds it; the harness then fails
// the start with a clear error rather than measuring the wrong server.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer func() { _ = l.Close() }()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// FreeAddr is FreePort as "127.0.0.1:PORT".
func FreeAddr() (string, error) {
	p, err := FreePort()
	if err != nil {
		return "", err
	}
	return "127.0.0.1:" + strconv.Itoa(p), nil
}
