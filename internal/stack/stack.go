package stack

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/strata-dp/strata/internal/config"
	"github.com/strata-dp/strata/internal/secret"
	"github.com/strata-dp/strata/internal/supervise"
)

// Options configure Run.
type Options struct {
	Config *config.Stack
	// Bin is the strata binary the children run (normally os.Executable()).
	Bin string
	// RunDir holds the effective config, one log file per child and
	// stack.json (names and pids); empty: a new temporary directory.
	RunDir string
	// ReadyTimeout bounds start-up, end to end.
	ReadyTimeout time.Duration
	Log          *slog.Logger
	// Stdout receives the endpoints table.
	Stdout io.Writer
}

// ErrPortInUse is returned when an address of the stack is already bound.
var ErrPortInUse = errors.New("address already in use")

// Run starts the stack, waits until a request has passed end to end, prints
// the endpoints table and runs until ctx is done; then it stops the stack in
// order. A stack that cannot start is torn down before Run returns.
func Run(ctx context.Context, opts Options) error {
	st, err := Start(ctx, opts)
	if err != nil {
		return err
	}
	<-ctx.Done()
	return st.Stop()
}

// Stack is a running stack.
type Stack struct {
	opts     Options
	stateMu  sync.Mutex // guards procs and serialises writes of stack.json
	runDir   string
	children []child
	procs    map[string]*supervise.Child
	logs     []*os.File
	// net is the xdp mode's network, removed after the processes stop.
	net *bedNet
	// modeNote says which LB mode runs and why, for the endpoints table.
	modeNote string
}

// Start brings the whole stack up and returns once it serves end to end.
func Start(ctx context.Context, opts Options) (*Stack, error) {
	if opts.ReadyTimeout == 0 {
		opts.ReadyTimeout = 60 * time.Second
	}
	st := &Stack{opts: opts, procs: map[string]*supervise.Child{}}
	plan, err := st.chooseMode()
	if err != nil {
		return nil, err
	}
	// Check the ports before anything touches the disk or starts.
	if err := checkPortsFree(st.childrenFor(plan, runFiles{})); err != nil {
		return nil, err
	}
	if err := preflight(opts.Config); err != nil {
		return nil, err
	}
	if idle := opts.Config.UnpooledFacades(); len(idle) > 0 {
		opts.Log.Warn("facades in no lb.services[].backends: they start but get no traffic "+
			"(leave lb.services[0].backends out to pool every facade)", "facades", idle)
	}
	if err := st.prepareRunDir(); err != nil {
		return nil, err
	}
	startCtx, cancel := context.WithTimeout(ctx, opts.ReadyTimeout)
	defer cancel()
	if plan != nil {
		if err := st.startNet(startCtx, plan); err != nil {
			return nil, err
		}
		if st.net == nil { // auto fell back to userspace
			plan = nil
			if err := checkPortsFree(st.childrenFor(nil, runFiles{})); err != nil {
				return nil, err
			}
		}
		if err := st.writeConfig(); err != nil {
			return nil, errors.Join(err, st.Stop())
		}
	}
	st.children = st.childrenFor(plan, st.runFiles())
	if err := st.startAll(startCtx); err != nil {
		stopErr := st.Stop()
		return nil, errors.Join(err, stopErr)
	}
	if err := st.writeState(); err != nil {
		return nil, errors.Join(err, st.Stop())
	}
	st.printEndpoints()
	return st, nil
}

func (st *Stack) prepareRunDir() error {
	dir := st.opts.RunDir
	if dir == "" {
		var err error
		if dir, err = os.MkdirTemp("", "strata-up-"); err != nil {
			return fmt.Errorf("run dir: %w", err)
		}
	}
	if err := os.MkdirAll(filepath.Join(dir, "logs"), 0o755); err != nil {
		return fmt.Errorf("run dir: %w", err)
	}
	st.runDir = dir
	if err := st.writeSecrets(); err != nil {
		return err
	}
	return st.writeConfig()
}

func (st *Stack) runFiles() runFiles {
	f := runFiles{config: filepath.Join(st.runDir, "stack.yaml"),
		stateSecret:  filepath.Join(st.runDir, stateSecretFile),
		controlToken: filepath.Join(st.runDir, controlTokenFile),
		stackState:   filepath.Join(st.runDir, stackStateFile),
		logDir:       filepath.Join(st.runDir, "logs")}
	if p := st.opts.Config.State.AuthSecretFile; p != "" {
		f.stateSecret = p // checked readable by preflight
	}
	return f
}

// writeSecrets generates this run's secrets: fresh each start, so a run
// directory reused from an earlier stack (or read by someone when it was)
// holds nothing that works today. In xdp mode the processes in the
// namespaces read the same files: `ip netns exec` changes the network,
// not the filesystem.
func (st *Stack) writeSecrets() error {
	paths := []string{filepath.Join(st.runDir, controlTokenFile)}
	if st.opts.Config.State.AuthSecretFile == "" {
		paths = append(paths, filepath.Join(st.runDir, stateSecretFile))
	}
	for _, path := range paths {
		if _, err := secret.Generate(path); err != nil {
			return fmt.Errorf("run dir: %w", err)
		}
	}
	return nil
}

// writeConfig writes the effective configuration every child reads.
func (st *Stack) writeConfig() error {
	data, err := st.opts.Config.Marshal()
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(st.runDir, "stack.yaml"), data, 0o644)
}

// checkPortsFree binds and releases every address of the stack, so that a
// port already in use stops start-up before any process runs.
func checkPortsFree(cs []child) error {
	for _, c := range cs {
		for _, addr := range c.listens {
			ln, err := net.Listen("tcp", addr)
			if err != nil {
				return fmt.Errorf("%s needs %s: %w", c.name, addr, ErrPortInUse)
			}
			_ = ln.Close()
		}
	}
	return nil
}

// startAll starts tier after tier, each tier's children together, and waits
// for each tier to be ready before starting the next.
func (st *Stack) startAll(ctx context.Context) error {
	backoff := supervise.Backoff{Initial: st.opts.Config.Restart.InitialBackoff,
		Max: st.opts.Config.Restart.MaxBackoff, StableAfter: st.opts.Config.Restart.StableAfter}
	for t := tierState; t <= tierEdge; t++ {
		var inTier []child
		for _, c := range st.children {
			if c.tier == t {
				inTier = append(inTier, c)
			}
		}
		for _, c := range inTier {
			f, err := os.OpenFile(filepath.Join(st.runDir, "logs", c.name+".log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
			if err != nil {
				return err
			}
			st.logs = append(st.logs, f)
			path, args, err := command(st.opts.Bin, c)
			if err != nil {
				return err
			}
			p, err := supervise.Start(supervise.Spec{Name: c.name, Path: path, Args: args,
				Output: f, StopTimeout: c.stopAfter, OnRestart: st.restarted, OnExit: st.exited}, backoff, st.opts.Log)
			if err != nil {
				return err
			}
			st.stateMu.Lock()
			st.procs[c.name] = p
			st.stateMu.Unlock()
		}
		// stack.json from the first tier on: an operator (or the control
		// plane) sees the pids and restarts of a stack still starting.
		if err := st.writeState(); err != nil {
			return err
		}
		for _, c := range inTier {
			if err := st.waitReady(ctx, c); err != nil {
				return err
			}
		}
		st.opts.Log.Info("tier ready", "tier", t.String(), "processes", len(inTier))
	}
	return st.waitEndToEnd(ctx)
}

func (st *Stack) waitReady(ctx context.Context, c child) error {
	p := st.procs[c.name]
	client := &http.Client{Timeout: time.Second}
	for {
		if ok, _ := httpOK(ctx, client, c.ready); ok {
			return nil
		}
		if p.Restarts() > 0 {
			return fmt.Errorf("%s exited during start-up: %s (see %s)", c.name, lastLogLine(st.logPath(c.name)), st.logPath(c.name))
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s not ready at %s: %w (see %s)", c.name, c.ready, ctx.Err(), st.logPath(c.name))
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// waitEndToEnd sends a request through the edge until one passes every tier.
func (st *Stack) waitEndToEnd(ctx context.Context) error {
	url := "http://" + st.opts.Config.Edge.Listen + "/api/products/1"
	client := &http.Client{Timeout: 2 * time.Second}
	var last error
	for {
		ok, err := httpOK(ctx, client, url)
		if ok {
			return nil
		}
		last = err
		select {
		case <-ctx.Done():
			return fmt.Errorf("no request passed end to end (%s): %v", url, last)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func httpOK(ctx context.Context, client *http.Client, url string) (bool, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return false, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return false, err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return false, fmt.Errorf("%s: %s", url, resp.Status)
	}
	return true, nil
}

func (st *Stack) logPath(name string) string { return filepath.Join(st.runDir, "logs", name+".log") }

// lastLogLine is the last line a child wrote before it exited (usually
// why), so that a failed start names its reason, not only where to look.
func lastLogLine(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return "no log"
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	last := strings.TrimSpace(lines[len(lines)-1])
	if last == "" {
		return "no output"
	}
	return last
}

// stackStateFile is the run directory's stack.json.
const stackStateFile = "stack.json"

// Process is one entry of stack.json. The control plane reads the restart
// fields (control.supervisorState mirrors them).
type Process struct {
	Name string `json:"name"`
	Tier string `json:"tier"`
	Pid  int    `json:"pid"`
	Log  string `json:"log"`
	// Netns is the network namespace the process runs in (xdp mode).
	Netns string `json:"netns,omitempty"`
	// Restarts counts the process's restarts; LastExit is how the last
	// one ended ("signal: killed", "exit status 1"), LastExitAt when, and
	// LastRestart when its successor started.
	Restarts    int        `json:"restarts"`
	LastExit    string     `json:"last_exit,omitempty"`
	LastExitAt  *time.Time `json:"last_exit_at,omitempty"`
	LastRestart *time.Time `json:"last_restart,omitempty"`
}

// State is what stack.json holds, for operators and tests.
type State struct {
	Pid       int       `json:"pid"`
	RunDir    string    `json:"run_dir"`
	Processes []Process `json:"processes"`
}

// Processes lists the children with their current pids.
func (st *Stack) Processes() []Process {
	st.stateMu.Lock()
	defer st.stateMu.Unlock()
	return st.processes()
}

func (st *Stack) processes() []Process {
	var ps []Process
	for _, c := range st.children {
		if p := st.procs[c.name]; p != nil {
			s := p.Status()
			ps = append(ps, Process{Name: c.name, Tier: c.tier.String(), Pid: s.Pid, Log: st.logPath(c.name), Netns: c.ns,
				Restarts: s.Restarts, LastExit: s.LastExit, LastExitAt: timeOrNil(s.LastExitAt), LastRestart: timeOrNil(s.LastRestart)})
		}
	}
	return ps
}

func timeOrNil(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// restarted keeps stack.json true to the pids and the restart history
// (which the control plane shows) once a child exits and is restarted.
func (st *Stack) restarted(int) { st.exited() }

func (st *Stack) exited() {
	if err := st.writeState(); err != nil {
		st.opts.Log.Warn("cannot update stack.json", "err", err)
	}
}

func (st *Stack) writeState() error {
	st.stateMu.Lock()
	defer st.stateMu.Unlock()
	data, err := json.MarshalIndent(State{Pid: os.Getpid(), RunDir: st.runDir, Processes: st.processes()}, "", "  ")
	if err != nil {
		return err
	}
	// Write and rename, so a reader never sees half a file.
	tmp := filepath.Join(st.runDir, stackStateFile+".tmp")
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, filepath.Join(st.runDir, stackStateFile))
}

func (st *Stack) printEndpoints() {
	w := tabwriter.NewWriter(st.opts.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "ENDPOINT\tADDRESS")
	fmt.Fprintf(w, "load balancer mode\t%s\n", st.modeNote)
	for _, c := range st.children {
		for _, e := range c.endpoints {
			fmt.Fprintf(w, "%s\t%s%s\n", e.what, e.addr, nsLabel(c.ns))
		}
	}
	// Every /metrics address, for a scrape configuration
	// (deploy/prometheus/prometheus.yml has the defaults').
	for _, c := range st.children {
		if c.metrics != "" {
			fmt.Fprintf(w, "metrics %s\thttp://%s/metrics%s\n", c.name, c.metrics, nsLabel(c.ns))
		}
	}
	_ = w.Flush()
	fmt.Fprintf(st.opts.Stdout, "\nStrata is up (%d processes). Try: curl http://%s/api/products/1\n", len(st.procs), st.opts.Config.Edge.Listen)
	fmt.Fprintf(st.opts.Stdout, "Logs and state: %s. Ctrl-C stops the stack.\n", st.runDir)
	fmt.Fprintf(st.opts.Stdout, "The state tier requires AUTH: redis-cli -p PORT -a \"$(cat %s)\"\n", st.runFiles().stateSecret)
}

// Stop stops the stack in reverse tier order: the edge stops accepting, the
// load balancer and facades drain, state nodes flush last.
func (st *Stack) Stop() error {
	var errs []error
	for t := tierEdge; t >= tierState; t-- {
		var wg sync.WaitGroup
		var mu sync.Mutex
		for _, c := range st.children {
			p := st.procs[c.name]
			if c.tier != t || p == nil {
				continue
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				ctx, cancel := context.WithTimeout(context.Background(), c.stopAfter+time.Second)
				defer cancel()
				if err := p.Stop(ctx); err != nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
	}
	for _, f := range st.logs {
		_ = f.Close()
	}
	if st.net != nil {
		if err := st.net.down(); err != nil {
			errs = append(errs, fmt.Errorf("remove the xdp network: %w", err))
		}
		st.net = nil
	}
	sort.Slice(errs, func(i, j int) bool { return errs[i].Error() < errs[j].Error() })
	return errors.Join(errs...)
}

// RunDir is where the stack keeps its config, logs and stack.json.
func (st *Stack) RunDir() string { return st.runDir }
