// Package boundtest runs one Strata role as a real process while hostile
// clients (slow writers, slow readers, huge frames, many connections) press
// on its listeners, and judges two things a production operator cares
// about: the process's resident memory stays under a documented bound, and a
// well-behaved client's latency stays under a documented budget.
//
// The bounds are deliberately generous (hundreds of MiB, hundreds of
// milliseconds): the tests run in `make test` on shared, noisy machines and
// must fail only on the defects they guard against (unbounded buffering, an
// event loop held by one client), which move the figures by orders of
// magnitude, never on a slow day.
package boundtest

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// Binary returns the strata binary under test: $STRATA_BIN (make test sets
// it), else one fresh build per test binary. Tests skip under -short.
func Binary(t testing.TB) string {
	t.Helper()
	if testing.Short() {
		t.Skip("resource-bound tests start real processes; skipped with -short")
	}
	if p := os.Getenv("STRATA_BIN"); p != "" {
		return p
	}
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "boundtest-")
		if err != nil {
			buildErr = err
			return
		}
		built = filepath.Join(dir, "strata")
		cmd := exec.Command("go", "build", "-o", built, "github.com/strata-dp/strata/cmd/strata")
		cmd.Stderr = os.Stderr
		buildErr = cmd.Run()
	})
	if buildErr != nil {
		t.Fatalf("build strata: %v", buildErr)
	}
	return built
}

var (
	buildOnce sync.Once
	built     string
	buildErr  error
)

// FreeAddr returns a loopback address with a port that was free a moment
// ago, for roles that must be told their listen address in advance.
func FreeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = l.Close() }()
	return l.Addr().String()
}

// Proc is a running strata process. Its resident memory is sampled every
// few milliseconds from the moment it starts; it is killed by pid, with its
// process group, when the test ends.
type Proc struct {
	cmd  *exec.Cmd
	out  *tail
	peak atomic.Int64
	done chan struct{}
}

// Start runs `strata args...` and returns at once; use WaitTCP to wait for
// its listeners.
func Start(t testing.TB, args ...string) *Proc {
	t.Helper()
	cmd := exec.Command(Binary(t), args...)
	p := &Proc{cmd: cmd, out: &tail{}, done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = p.out, p.out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start strata %s: %v", strings.Join(args, " "), err)
	}
	go func() {
		_ = cmd.Wait()
		close(p.done)
	}()
	go p.sample()
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-p.done
		if t.Failed() {
			t.Logf("strata %s output: %s", args[0], p.out)
		}
	})
	return p
}

// Pid is the process id.
func (p *Proc) Pid() int { return p.cmd.Process.Pid }

// Output is the last lines the process wrote, for error messages.
func (p *Proc) Output() string { return p.out.String() }

// Exited reports whether the process has ended.
func (p *Proc) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// RSS is the process's resident set size now, in bytes (0 once it exited).
func (p *Proc) RSS() int64 { return rss(p.Pid()) }

// PeakRSS is the largest resident set size sampled since Start or the last
// ResetPeak.
func (p *Proc) PeakRSS() int64 { return p.peak.Load() }

// ResetPeak starts a new peak from the current resident size: call it once
// the process is warm, so the bound judges the attack, not start-up.
func (p *Proc) ResetPeak() { p.peak.Store(p.RSS()) }

func (p *Proc) sample() {
	t := time.NewTicker(5 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-p.done:
			return
		case <-t.C:
		}
		r := rss(p.Pid())
		for {
			old := p.peak.Load()
			if r <= old || p.peak.CompareAndSwap(old, r) {
				break
			}
		}
	}
}

// rss reads VmRSS from /proc/PID/status.
func rss(pid int) int64 {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0
	}
	for line := range bytes.Lines(b) {
		if v, ok := bytes.CutPrefix(line, []byte("VmRSS:")); ok {
			f := strings.Fields(string(v))
			if len(f) >= 1 {
				kb, _ := strconv.ParseInt(f[0], 10, 64)
				return kb << 10
			}
		}
	}
	return 0
}

// WaitTCP waits until addr accepts TCP connections or the process exits.
func (p *Proc) WaitTCP(t testing.TB, addr string, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		if p.Exited() {
			t.Fatalf("strata exited before listening on %s: %s", addr, p.out)
		}
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			_ = c.Close()
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("nothing listening on %s after %v: %s", addr, within, p.out)
}

// Latencies records a well-behaved client's round trips.
type Latencies struct {
	mu     sync.Mutex
	ok     []time.Duration
	errs   int
	lastEr error
}

// Good runs op in a loop, one call every `every`, until ctx ends, and
// records how long each call took; a call that fails counts as an error.
// It returns when ctx ends.
func Good(ctx context.Context, every time.Duration, op func(context.Context) error) *Latencies {
	l := &Latencies{}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		start := time.Now()
		err := op(ctx)
		d := time.Since(start)
		if ctx.Err() != nil {
			return l
		}
		l.mu.Lock()
		if err != nil {
			l.errs++
			l.lastEr = err
		} else {
			l.ok = append(l.ok, d)
		}
		l.mu.Unlock()
		select {
		case <-ctx.Done():
			return l
		case <-t.C:
		}
	}
}

// Quantile is the q-quantile (0..1) of the successful round trips; a failed
// call counts as an infinitely slow one, so errors raise the tail.
func (l *Latencies) Quantile(q float64) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := len(l.ok) + l.errs
	if n == 0 {
		return 0
	}
	s := slices.Clone(l.ok)
	slices.Sort(s)
	i := int(q * float64(n))
	if i >= n {
		i = n - 1
	}
	if i >= len(s) {
		return time.Duration(1<<63 - 1)
	}
	return s[i]
}

// Count is the number of calls made; Errors how many failed.
func (l *Latencies) Count() int { l.mu.Lock(); defer l.mu.Unlock(); return len(l.ok) + l.errs }
func (l *Latencies) Errors() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.errs
}

// Bound is what one resource-bound test promises, as documented in
// docs/SECURITY.md.
type Bound struct {
	// MaxRSS bounds the process's peak resident size during the attack.
	MaxRSS int64
	// MaxP99 bounds the good client's 99th-percentile round trip.
	MaxP99 time.Duration
	// MaxErrors is how many of the good client's calls may fail (usually 0).
	MaxErrors int
	// MinCalls is how many calls the good client must have made, so that a
	// client blocked for the whole attack cannot pass.
	MinCalls int
}

// Check logs the figures and fails the test when a bound is passed.
func Check(t testing.TB, name string, p *Proc, l *Latencies, b Bound) {
	t.Helper()
	peak, p99 := p.PeakRSS(), l.Quantile(0.99)
	t.Logf("%s: peak RSS %.1f MiB (bound %.0f MiB), good client %d calls, %d errors, p99 %v (budget %v)",
		name, float64(peak)/(1<<20), float64(b.MaxRSS)/(1<<20), l.Count(), l.Errors(), p99, b.MaxP99)
	if p.Exited() {
		t.Errorf("%s: the process died under attack: %s", name, p.out)
	}
	if b.MaxRSS > 0 && peak > b.MaxRSS {
		t.Errorf("%s: peak RSS %d MiB passed the bound of %d MiB", name, peak>>20, b.MaxRSS>>20)
	}
	if l.Count() < b.MinCalls {
		t.Errorf("%s: the good client made %d calls, want at least %d", name, l.Count(), b.MinCalls)
	}
	if l.Errors() > b.MaxErrors {
		l.mu.Lock()
		err := l.lastEr
		l.mu.Unlock()
		t.Errorf("%s: %d of the good client's calls failed (at most %d), last: %v", name, l.Errors(), b.MaxErrors, err)
	}
	if b.MaxP99 > 0 && p99 > b.MaxP99 {
		t.Errorf("%s: the good client's p99 %v passed the budget of %v", name, p99, b.MaxP99)
	}
}

// ErrStop is returned by hostile clients when their context ends.
var ErrStop = errors.New("boundtest: stopped")

// Hold runs n copies of attack concurrently until ctx ends and waits for
// them; each gets its index. Attacks return when ctx ends.
func Hold(ctx context.Context, n int, attack func(ctx context.Context, i int)) {
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { attack(ctx, i) })
	}
	wg.Wait()
}

// tail keeps the last lines a process wrote.
type tail struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (w *tail) Write(b []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(b)
	if w.buf.Len() > 64<<10 {
		keep := slices.Clone(w.buf.Bytes()[w.buf.Len()-16<<10:])
		w.buf.Reset()
		w.buf.Write(keep)
	}
	return len(b), nil
}

func (w *tail) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	sc := bufio.NewScanner(bytes.NewReader(w.buf.Bytes()))
	var lines []string
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	if len(lines) > 10 {
		lines = lines[len(lines)-10:]
	}
	return fmt.Sprint(strings.Join(lines, " | "))
}

// Pause waits d or until ctx ends, reporting whether the attack goes on.
func Pause(ctx context.Context, d time.Duration) bool {
	select {
	case <-ctx.Done():
		return false
	case <-time.After(d):
		return true
	}
}
