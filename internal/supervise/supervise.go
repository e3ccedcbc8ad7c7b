// Package supervise runs child processes the way an init system would on a
// real host: each child is a separate process, a child that crashes is
// restarted with exponential backoff (and the restart is logged and kept in
// Status: how many, how the last process ended, when), and stop sends
// SIGTERM, waits, then SIGKILLs whatever is left.
//
// Danger: children must never outlive the supervisor. Each child gets
// PDEATHSIG=SIGKILL and its own process group, and Stop waits for every exit.
package supervise

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os/exec"
	"sync"
	"syscall"
	"time"
)

// Spec describes one child process.
type Spec struct {
	Name string
	Path string
	Args []string
	// Output receives the child's stdout and stderr.
	Output io.Writer
	// StopTimeout is how long Stop waits after SIGTERM before SIGKILL.
	StopTimeout time.Duration
	// OnRestart, if set, is called with the new pid after each restart.
	OnRestart func(pid int)
	// OnExit, if set, is called once a process has exited and its exit is
	// counted in Status, before the backoff delay (not when Stop ends it).
	OnExit func()
}

// Status is what the supervisor knows of a child's history.
type Status struct {
	Pid int
	// Restarts counts the exits the supervisor answered with a restart.
	Restarts int
	// LastExit is the last such exit's status as os.ProcessState says it
	// ("signal: killed", "exit status 1"); empty before the first.
	LastExit string
	// LastExitAt is when that process exited; LastRestart when its
	// successor started (zero while the backoff delay runs).
	LastExitAt, LastRestart time.Time
}

// Backoff is the restart policy.
type Backoff struct {
	Initial time.Duration
	Max     time.Duration
	// StableAfter resets the backoff once a child has run this long.
	StableAfter time.Duration
}

func (b Backoff) next(cur time.Duration) time.Duration {
	if cur == 0 {
		return b.Initial
	}
	if cur *= 2; cur > b.Max {
		cur = b.Max
	}
	return cur
}

// Child is a supervised process.
type Child struct {
	spec    Spec
	backoff Backoff
	log     *slog.Logger

	mu       sync.Mutex
	cmd      *exec.Cmd
	restarts int
	// lastExit, lastExitAt, lastRestart: see Status.
	lastExit                string
	lastExitAt, lastRestart time.Time
	exited                  chan struct{} // closed when the current process has exited
	done                    chan struct{} // closed when supervision has ended
	stopOnce                sync.Once
	stopCh                  chan struct{}
}

// Start launches the child and supervises it until Stop. It returns an error
// only when the first start fails (bad path, exec failure).
func Start(spec Spec, backoff Backoff, log *slog.Logger) (*Child, error) {
	if spec.StopTimeout == 0 {
		spec.StopTimeout = 5 * time.Second
	}
	c := &Child{spec: spec, backoff: backoff, log: log.With("child", spec.Name),
		done: make(chan struct{}), stopCh: make(chan struct{})}
	if err := c.launch(); err != nil {
		return nil, err
	}
	go c.supervise()
	return c, nil
}

func (c *Child) launch() error {
	cmd := exec.Command(c.spec.Path, c.spec.Args...)
	cmd.Stdout = c.spec.Output
	cmd.Stderr = c.spec.Output
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", c.spec.Name, err)
	}
	exited := make(chan struct{})
	c.mu.Lock()
	c.cmd, c.exited = cmd, exited
	c.mu.Unlock()
	go func() {
		_ = cmd.Wait()
		close(exited)
	}()
	return nil
}

func (c *Child) supervise() {
	defer close(c.done)
	var delay time.Duration
	for {
		c.mu.Lock()
		cmd, exited, started := c.cmd, c.exited, time.Now()
		c.mu.Unlock()
		select {
		case <-c.stopCh:
			c.terminate(cmd, exited)
			return
		case <-exited:
		}
		if time.Since(started) >= c.backoff.StableAfter {
			delay = 0
		}
		delay = c.backoff.next(delay)
		status := exitStatus(cmd)
		c.mu.Lock()
		c.restarts++
		n := c.restarts
		c.lastExit, c.lastExitAt, c.lastRestart = status, time.Now(), time.Time{}
		c.mu.Unlock()
		c.log.Warn("child exited; restarting", "status", status, "pid", cmd.Process.Pid,
			"backoff", delay, "restarts", n)
		if c.spec.OnExit != nil {
			c.spec.OnExit()
		}
		select {
		case <-c.stopCh:
			return
		case <-time.After(delay):
		}
		if err := c.launch(); err != nil {
			c.log.Error("restart failed", "err", err)
			// Keep trying with backoff: the binary may come back.
			c.mu.Lock()
			c.exited = closedChan()
			c.mu.Unlock()
			continue
		}
		c.mu.Lock()
		c.lastRestart = time.Now()
		c.mu.Unlock()
		c.log.Info("child restarted", "pid", c.Pid())
		if c.spec.OnRestart != nil {
			c.spec.OnRestart(c.Pid())
		}
	}
}

// exitStatus is how the exited process ended; a process that never
// started (a failed relaunch) has no state.
func exitStatus(cmd *exec.Cmd) string {
	if cmd.ProcessState == nil {
		return "not started"
	}
	return cmd.ProcessState.String()
}

func closedChan() chan struct{} {
	ch := make(chan struct{})
	close(ch)
	return ch
}

// terminate sends SIGTERM, waits StopTimeout, then SIGKILLs the process group.
func (c *Child) terminate(cmd *exec.Cmd, exited chan struct{}) {
	if cmd == nil || cmd.Process == nil {
		return
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-exited:
	case <-time.After(c.spec.StopTimeout):
		c.log.Warn("child ignored SIGTERM; killing", "pid", cmd.Process.Pid, "after", c.spec.StopTimeout)
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-exited
	}
	// Reap anything the child left in its process group.
	_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
}

// Stop ends supervision and the process; it returns when the process has
// exited or ctx is done.
func (c *Child) Stop(ctx context.Context) error {
	c.stopOnce.Do(func() { close(c.stopCh) })
	select {
	case <-c.done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("stop %s: %w", c.spec.Name, ctx.Err())
	}
}

// Name is the child's name.
func (c *Child) Name() string { return c.spec.Name }

// Pid is the current process id, or 0.
func (c *Child) Pid() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cmd == nil || c.cmd.Process == nil {
		return 0
	}
	return c.cmd.Process.Pid
}

// Restarts counts how often the child was restarted.
func (c *Child) Restarts() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.restarts
}

// Status returns the child's current pid and restart history.
func (c *Child) Status() Status {
	c.mu.Lock()
	defer c.mu.Unlock()
	st := Status{Restarts: c.restarts, LastExit: c.lastExit, LastExitAt: c.lastExitAt, LastRestart: c.lastRestart}
	if c.cmd != nil && c.cmd.Process != nil {
		st.Pid = c.cmd.Process.Pid
	}
	return st
}

// Running reports whether the current process has not exited yet.
func (c *Child) Running() bool {
	c.mu.Lock()
	exited := c.exited
	c.mu.Unlock()
	select {
	case <-exited:
		return false
	default:
		return true
	}
}

// Exited returns a channel closed when the current process exits.
func (c *Child) Exited() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.exited
}
