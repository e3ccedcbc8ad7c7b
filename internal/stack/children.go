package stack

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/strata-dp/strata/internal/config"
)

// tier groups children that start together and stop together.
type tier int

const (
	tierState tier = iota
	tierOrigin
	tierControl
	tierFacade
	tierLB
	tierEdge
)

func (t tier) String() string {
	return [...]string{"state", "origin", "control", "facade", "lb", "edge"}[t]
}

// child is one process of the stack and how to tell that it is ready.
type child struct {
	name  string
	tier  tier
	args  []string
	ready string // URL that answers 200 once the child serves
	// listens are the addresses the child binds, checked free before start.
	listens []string
	// endpoints are shown in the table printed once the stack is up.
	endpoints []endpoint
	// metrics is the address serving the child's /metrics.
	metrics string
	// stopAfter is the grace between SIGTERM and SIGKILL; the sum over the
	// tiers stays under the 10 s that `strata up` promises for a stop.
	stopAfter time.Duration
	// ns is the network namespace the child runs in (xdp mode); empty:
	// the root namespace.
	ns string
}

type endpoint struct {
	what, addr string
}

// runFiles are the files of the run directory that children read.
type runFiles struct {
	// config is the effective stack.yaml.
	config string
	// stateSecret is the state tier's AUTH secret: every state node
	// requires it and every facade sends it.
	stateSecret string
	// controlToken is the control plane's bearer token, given to it only
	// when it listens beyond loopback (it refuses to start there without
	// one); on loopback the API stays open to this host's processes.
	controlToken string
	// stackState is stack.json: the control plane reads each process's
	// restarts there.
	stackState string
	// logDir holds each child's log, and the access logs the stack file
	// turns on (NAME.access.log).
	logDir string
}

// Names of the secrets in the run directory (mode 0600).
const (
	stateSecretFile  = "state.secret"
	controlTokenFile = "control.token"
)

// children lists the processes of a stack in start order.
func children(s *config.Stack, files runFiles) []child {
	common := []string{"--log-format", s.Log.Format, "--log-level", s.Log.Level}
	var out []child
	var stateAddrs []string
	for _, n := range s.State.Nodes {
		stateAddrs = append(stateAddrs, n.Listen)
	}
	for _, n := range s.State.Nodes {
		args := append([]string{"state", "--listen", n.Listen, "--memory", strconv.FormatInt(int64(s.State.Memory), 10),
			"--maxmemory-policy", s.State.MaxMemoryPolicy, "--node-id", n.ID, "--metrics", n.Metrics, "--auth-secret-file", files.stateSecret,
			"--epoch", strconv.Itoa(config.FirstEpoch)}, common...)
		args = append(args, stateTuning(s.State)...)
		ls := []string{n.Listen, n.Metrics}
		eps := []endpoint{{"state " + n.ID + " (binary)", n.Listen}}
		if n.RESP != "" {
			args = append(args, "--resp", n.RESP)
			ls = append(ls, n.RESP)
			eps = append(eps, endpoint{"state " + n.ID + " (RESP)", n.RESP})
		}
		out = append(out, child{name: n.ID, tier: tierState, args: args, ready: probe(n.Metrics),
			listens: ls, endpoints: eps, metrics: n.Metrics, stopAfter: 1500 * time.Millisecond})
	}
	out = append(out, child{name: "origin", tier: tierOrigin,
		args: append([]string{"origin", "--listen", s.Origin.Listen, "--metrics", s.Origin.Metrics,
			"--latency", s.Origin.Latency, "--error-rate", strconv.FormatFloat(s.Origin.ErrorRate, 'f', -1, 64)}, common...),
		ready: probe(s.Origin.Metrics), listens: []string{s.Origin.Listen, s.Origin.Metrics}, metrics: s.Origin.Metrics,
		endpoints: []endpoint{{"sample origin", "http://" + s.Origin.Listen}}, stopAfter: time.Second})
	controlArgs := []string{"control", "--listen", s.Control.Listen, "--config", files.config, "--stack-state", files.stackState}
	if !config.LoopbackAddr(s.Control.Listen) {
		controlArgs = append(controlArgs, "--token-file", files.controlToken)
	}
	out = append(out, child{name: "control", tier: tierControl,
		args:      append(controlArgs, common...),
		ready:     probe(s.Control.Listen),
		listens:   []string{s.Control.Listen},
		metrics:   s.Control.Listen,
		endpoints: []endpoint{{"control plane (dashboard, API, metrics)", "http://" + s.Control.Listen + "/"}},
		stopAfter: time.Second})
	// Facades honour X-Strata-Priority only from the peer the requests
	// arrive from: the userspace LB connects from loopback (placeChildren
	// sets the edge's address in xdp mode, where DSR keeps it). The edge
	// strips the header from what clients send.
	for _, n := range s.Facades.Nodes {
		out = append(out, child{name: n.ID, tier: tierFacade,
			args: append([]string{"facade", "--listen", n.Listen, "--state", strings.Join(stateAddrs, ","),
				"--origin", "http://" + s.Origin.Listen, "--node-id", n.ID,
				"--max-inflight", strconv.Itoa(s.Facades.MaxInflight), "--metrics", n.Metrics,
				"--state-secret-file", files.stateSecret,
				"--trust-priority-from", "127.0.0.0/8,::1/128",
				"--fixed-limit=" + strconv.FormatBool(s.Facades.FixedLimit), "--queue-len", strconv.Itoa(s.Facades.QueueLen),
				"--max-queue-time", s.Facades.MaxQueueTime.String(), "--request-timeout", s.Facades.RequestTimeout.String(),
				"--drain-delay", s.Facades.DrainDelay.String(), "--drain-timeout", s.Facades.DrainTimeout.String()},
				append(accessLog(s.Facades.AccessLog, s.Facades.AccessLogSample, files, n.ID), common...)...),
			ready: probe(n.Metrics), listens: []string{n.Listen, n.Metrics}, metrics: n.Metrics,
			endpoints: []endpoint{{"facade " + n.ID, "http://" + n.Listen}}, stopAfter: 3 * time.Second})
	}
	// The LB serves every service of the stack file with its health policy;
	// its drain fits inside its stop grace.
	lbArgs := []string{"lb", "--mode", s.Mode, "--config", files.config, "--metrics", s.LB.Metrics, "--drain", "800ms",
		"--slow-start", s.LB.Health.SlowStart.String(), "--max-buffered", strconv.FormatInt(int64(s.LB.MaxBuffered), 10),
		"--first-byte-timeout", s.LB.FirstByteTimeout.String(), "--outliers", strconv.Itoa(*s.LB.Outliers),
		"--outlier-ejection", s.LB.OutlierEjection.String()}
	for _, o := range []struct {
		flag string
		set  bool
		v    string
	}{
		{"--connect-timeout", s.LB.ConnectTimeout != 0, s.LB.ConnectTimeout.String()},
		{"--idle-timeout", s.LB.IdleTimeout != 0, s.LB.IdleTimeout.String()},
		{"--max-conns", s.LB.MaxConns != 0, strconv.Itoa(s.LB.MaxConns)},
		{"--loops", s.LB.Loops != 0, strconv.Itoa(s.LB.Loops)},
	} {
		if o.set {
			lbArgs = append(lbArgs, o.flag, o.v)
		}
	}
	if s.LB.Iface != "" {
		lbArgs = append(lbArgs, "--iface", s.LB.Iface)
	}
	var lbListens []string
	var lbEndpoints []endpoint
	for _, svc := range s.LB.Services {
		lbListens = append(lbListens, svc.VIP)
		lbEndpoints = append(lbEndpoints, endpoint{"load balancer VIP " + svc.Name + " (" + s.Mode + ")", svc.VIP})
	}
	out = append(out, child{name: "lb", tier: tierLB, args: append(lbArgs, common...),
		ready: probe(s.LB.Metrics), listens: append(lbListens, s.LB.Metrics), endpoints: lbEndpoints, metrics: s.LB.Metrics,
		stopAfter: time.Second})
	out = append(out, child{name: "edge", tier: tierEdge,
		args: append(append([]string{"edge", "--listen", s.Edge.Listen, "--origin", "http://" + s.LB.Services[0].VIP,
			"--memory", strconv.FormatInt(int64(s.Edge.Memory), 10), "--metrics", s.Edge.Metrics}, append(edgeTuning(s.Edge), accessLog(s.Edge.AccessLog, s.Edge.AccessLogSample, files, "edge")...)...), common...),
		ready: probe(s.Edge.Metrics), listens: []string{s.Edge.Listen, s.Edge.Metrics}, metrics: s.Edge.Metrics,
		endpoints: []endpoint{{"edge (clients start here)", "http://" + s.Edge.Listen}}, stopAfter: 2 * time.Second})
	return out
}

func probe(addr string) string { return fmt.Sprintf("http://%s/readyz", addr) }

// accessLog is the --access-log flags of a child whose access log the
// stack file turns on: RUN_DIR/logs/NAME.access.log, beside its log.
func accessLog(on bool, sample float64, files runFiles, name string) []string {
	if !on {
		return nil
	}
	return []string{"--access-log", filepath.Join(files.logDir, name+".access.log"),
		"--access-log-sample", strconv.FormatFloat(sample, 'f', -1, 64)}
}

// edgeTuning is every edge setting of the stack file as strata edge's flags.
func edgeTuning(e config.Edge) []string {
	args := []string{"--max-object", strconv.FormatInt(int64(e.MaxObject), 10),
		"--grace", e.Grace.String(), "--keep", e.Keep.String(),
		"--origin-timeout", e.OriginTimeout.String(),
		"--origin-retry-budget", strconv.FormatFloat(*e.OriginRetryBudget, 'f', -1, 64),
		"--origin-max-conns", strconv.Itoa(e.OriginMaxConns), "--max-conns", strconv.Itoa(e.MaxConns),
		"--max-conns-per-ip", strconv.Itoa(*e.MaxConnsPerIP),
		"--idle-timeout", e.IdleTimeout.String(), "--header-timeout", e.HeaderTimeout.String(),
		"--store-set-cookie=" + strconv.FormatBool(e.StoreSetCookie)}
	if len(e.PurgeFrom) > 0 {
		args = append(args, "--purge-from", strings.Join(e.PurgeFrom, ","))
	}
	if len(e.MaxConnsPerIPExempt) > 0 {
		args = append(args, "--max-conns-per-ip-exempt", strings.Join(e.MaxConnsPerIPExempt, ","))
	}
	if e.PurgeTokenFile != "" {
		args = append(args, "--purge-token-file", e.PurgeTokenFile)
	}
	return args
}

// stateTuning is the state settings the stack file gives; the ones it
// leaves at 0 keep strata state's own defaults.
func stateTuning(st config.State) []string {
	var args []string
	add := func(flag string, set bool, v string) {
		if set {
			args = append(args, flag, v)
		}
	}
	add("--max-conns", st.MaxConns != 0, strconv.Itoa(st.MaxConns))
	add("--max-frame", st.MaxFrame != 0, strconv.FormatInt(int64(st.MaxFrame), 10))
	add("--idle-timeout", st.IdleTimeout != 0, st.IdleTimeout.String())
	add("--slow-timeout", st.SlowTimeout != 0, st.SlowTimeout.String())
	add("--event-loops", st.EventLoops != 0, strconv.Itoa(st.EventLoops))
	add("--busy-poll", st.BusyPoll != 0, st.BusyPoll.String())
	add("--procs", st.Procs != 0, strconv.Itoa(st.Procs))
	return args
}
