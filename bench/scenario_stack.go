package bench

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"time"
)

func init() {
	register(&Scenario{
		Name:    "stack",
		Systems: []string{"strata"},
		Summary: "the whole path through strata up: client -> edge -> LB -> facade -> state",
		Run:     runStackScenario,
	})
}

// ErrPortsBusy is returned when a port chosen for strata up was taken
// before it could bind it.
var ErrPortsBusy = errors.New("ports of strata up are in use")

// stackEdgeDefault is where clients reach `strata up` by default.
const stackEdgeDefault = "127.0.0.1:8080"

// loopbackAddr matches every address in the printed stack configuration.
var loopbackAddr = regexp.MustCompile(`127\.0\.0\.1:[0-9]+`)

// derivedLine is a setting --print-config prints commented out because it
// is derived (an address from host, the first pool from facades.nodes):
// "  # listen: 127.0.0.1:8080  # from host", or the first key of a list
// item, "- # vip: ...".
var derivedLine = regexp.MustCompile(`(?m)^(\s*(?:- )?)# ([a-z_]+: .*?)  # from .*$`)

// derivedOnly is a section whose only setting is derived, printed on one
// line: "control: # listen: 127.0.0.1:9090  # from host".
var derivedOnly = regexp.MustCompile(`(?m)^(\s*)([a-z_]+): # ([a-z_]+: .*?)  # from .*$`)

// FixDerived uncomments the derived settings of a printed configuration,
// so that every address in it is written out and can be moved.
func FixDerived(config string) string {
	config = derivedOnly.ReplaceAllString(config, "$1$2:\n$1  $3")
	return derivedLine.ReplaceAllString(config, "$1$2")
}

// MoveToFreePorts rewrites every loopback address in a stack configuration
// to a free port, the same new address for every mention of an old one (a
// facade's listen address is also an LB backend). It returns the new
// configuration and the old-to-new mapping.
func MoveToFreePorts(config string) (string, map[string]string, error) {
	olds := loopbackAddr.FindAllString(config, -1)
	moved := map[string]string{}
	// Hold every listener until all are chosen, so no port is handed out
	// twice.
	var held []net.Listener
	defer func() {
		for _, l := range held {
			_ = l.Close()
		}
	}()
	for _, old := range olds {
		if _, done := moved[old]; done {
			continue
		}
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return "", nil, fmt.Errorf("find a free port: %w", err)
		}
		held = append(held, l)
		moved[old] = l.Addr().String()
	}
	return loopbackAddr.ReplaceAllStringFunc(config, func(a string) string { return moved[a] }), moved, nil
}

// startStack runs `strata up` with its default configuration moved to free
// ports, so the scenario never collides with a stack already running here
// or with tests running in parallel, and returns the edge's address.
func (h *Harness) startStack(ctx context.Context) (string, error) {
	out, err := exec.CommandContext(ctx, h.Strata.Bin, "up", "--mode", "userspace", "--print-config").Output()
	if err != nil {
		return "", fmt.Errorf("strata up --print-config: %w", err)
	}
	config, moved, err := MoveToFreePorts(FixDerived(string(out)))
	if err != nil {
		return "", err
	}
	edge, ok := moved[stackEdgeDefault]
	if !ok {
		return "", fmt.Errorf("strata up --print-config names no edge at %s", stackEdgeDefault)
	}
	path := filepath.Join(h.Dir, "stack.yaml")
	if err := os.WriteFile(path, []byte(config), 0o644); err != nil {
		return "", fmt.Errorf("stack config: %w", err)
	}
	p, err := h.Strata.Start("strata up", "up", "--config", path, "--run-dir", filepath.Join(h.Dir, "stack"))
	if err != nil {
		return "", err
	}
	// strata up promises to stop within 10 s on SIGTERM.
	h.Cleanup(func() { p.Stop(12 * time.Second) })
	if err := WaitHTTP(ctx, p, "http://"+edge+"/api/products/1", 60*time.Second); err != nil {
		if strings.Contains(p.Output(), "in use") {
			// Another process took a port between the choice and the bind.
			err = fmt.Errorf("%w: %s", ErrPortsBusy, p.Output())
		}
		return "", err
	}
	return edge, nil
}

func runStackScenario(ctx context.Context, h *Harness) error {
	h.Version(ctx, "wrk")
	if _, err := LookTool("wrk"); err != nil {
		h.SkipAll(err)
		return nil
	}
	// strata up runs every role as a child process of the same binary.
	for _, sub := range []string{"up", "state", "origin", "control", "facade", "lb", "edge"} {
		if err := h.Strata.Has(ctx, sub); err != nil {
			h.Skip("strata", "", fmt.Errorf("strata up needs it: %w", err))
			return nil
		}
	}
	edge, err := h.startStack(ctx)
	if err != nil {
		h.Skip("strata", "", err)
		return nil
	}
	addrOf := func(string) string { return edge }
	rate := Pick(h.Opts, 1000.0, 3000.0)
	dur := h.Opts.RunDuration(DefaultRun)
	h.Condition("stack", "strata up --mode userspace with its default configuration (3 state nodes, origin, control, 3 facades, userspace LB, edge) moved to free loopback ports")
	h.Condition("products", fmt.Sprintf("wrk -t2 -c%d keep-alive, %v per run, GET /api/products/1 via the edge (edge hits after the first)", wrkConns, dur))
	h.Condition("whoami", fmt.Sprintf("wrk -t2 -c%d, GET /whoami via the edge (no-store: every request crosses edge, LB and a facade)", wrkConns))
	h.Condition("open_loop", fmt.Sprintf("%.0f req/s fixed rate, %d connections, latency from intended send time", rate, wrkConns))
	steps := []struct {
		name  string
		trial Trial
	}{
		{"products-1", h.WrkTrial("products-1", addrOf, "/api/products/1")},
		{"products-1-open", h.OpenLoopTrial("products-1-open", addrOf, "/api/products/1", rate)},
		{"whoami", h.WrkTrial("whoami", addrOf, "/whoami")},
		{"whoami-open", h.OpenLoopTrial("whoami-open", addrOf, "/whoami", rate)},
	}
	for _, st := range steps {
		if err := h.Alternate(ctx, st.name, []string{"strata"}, st.trial); err != nil {
			return err
		}
	}
	return nil
}
