package main

import (
	"context"
	"flag"
	"math"
	"os"
	"runtime"
	"runtime/debug"
	"strings"
	"time"

	"github.com/strata-dp/strata/dataplane/state"
	"github.com/strata-dp/strata/dataplane/state/server"
	"github.com/strata-dp/strata/internal/bytesize"
	"github.com/strata-dp/strata/internal/config"
	"github.com/strata-dp/strata/internal/lifecycle"
	"github.com/strata-dp/strata/internal/telemetry"
)

func init() {
	register(&command{
		name:    "state",
		summary: "run a state node (binary protocol, optionally RESP2)",
		run:     runState,
	})
}

// stateFlags are a state node's flags; config turns them into the
// engine's and the server's configurations, which judge them.
type stateFlags struct {
	listen, resp, memory, policy, data, secretFile string
	maxFrame, maxReply, maxBuffered, nodeID        string
	insecureNoAuth                                 bool
	maxConns, loops, procs                         int
	epoch                                          uint
	idle, slow, busyPoll                           time.Duration
}

func (f *stateFlags) bind(fs *flag.FlagSet) {
	fs.StringVar(&f.listen, "listen", "127.0.0.1:7001", "address of the binary protocol")
	fs.StringVar(&f.resp, "resp", "", "address of RESP2 (redis-cli, redis-benchmark, Redis clients); empty: off")
	fs.StringVar(&f.memory, "memory", bytesize.Size(server.DefaultMemoryBytes).String(), "bound on live data (maxmemory, what INFO's used_memory counts): bytes or with a suffix KiB, MiB, GiB (also KB, MB, GB); near the bound the shard queues span up to about a third more, to reclaim the space of rewritten values")
	fs.StringVar(&f.policy, "maxmemory-policy", state.PolicyNoEviction.String(), "when live data reaches --memory: noeviction refuses writes that would grow it (-OOM / status OutOfMemory; deletes, reads and writes that do not grow still work), fifo evicts the oldest keys, lru evicts approximately least recently used keys (fifo and lru are for pure caching)")
	fs.StringVar(&f.data, "data", "", "reserved for persistence (a later release); must be empty for now")
	fs.StringVar(&f.secretFile, "auth-secret-file", "", "file holding a shared secret that clients must send with AUTH (both protocols); "+
		"required when --listen or --resp is not a loopback address")
	fs.BoolVar(&f.insecureNoAuth, "insecure-no-auth", false, "serve without a secret on a non-loopback address: anyone who reaches the node "+
		"reads and overwrites every key (only for a network that nothing else can reach)")
	fs.IntVar(&f.maxConns, "max-conns", server.DefaultMaxConns, "maximum open client connections over both listeners")
	fs.StringVar(&f.maxFrame, "max-frame", bytesize.Size(server.DefaultMaxFrame).String(), "largest binary frame body or RESP command")
	fs.StringVar(&f.maxReply, "max-reply", bytesize.Size(server.DefaultMaxReply).String(), "largest reply whose size the client chooses (MGET, SCAN); larger ones are refused with an error")
	fs.StringVar(&f.maxBuffered, "max-buffered", "", "bound on bytes held for all connections together (incomplete commands, unsent replies); past it the connection that grows is closed (default: a quarter of --memory, at least 64MiB, at most 1GiB)")
	fs.DurationVar(&f.idle, "idle-timeout", 0, "close connections idle this long (0: never)")
	fs.DurationVar(&f.slow, "slow-timeout", server.DefaultSlowTimeout, "close connections whose replies stay unsent this long")
	fs.StringVar(&f.nodeID, "node-id", "", "node name in INFO and logs (default: state-PORT)")
	fs.UintVar(&f.epoch, "epoch", state.DefaultEpoch, "version epoch stamped on writes (raised on failover by the cluster)")
	fs.IntVar(&f.loops, "event-loops", 0, "gnet event loops per listener (0: half the CPUs, at least 1)")
	fs.DurationVar(&f.busyPoll, "busy-poll", 0, "keep an event loop polling this long after client traffic before it sleeps, so clients on this host need not wake it (e.g. 50us; 0: off; costs processor time after traffic)")
	fs.IntVar(&f.procs, "procs", 0, "CPUs the Go runtime schedules on, GOMAXPROCS (0: as many as --event-loops; the GOMAXPROCS environment variable wins)")
}

// config parses the flags into the engine's and the server's
// configurations (the server's without Engine and Logger) and has them
// judged: a value that does not parse is a usage error naming its flag,
// one out of range a usage error from the configuration's Validate.
func (f *stateFlags) config() (state.Config, server.Config, error) {
	var ec state.Config
	var sc server.Config
	mem, err := bytesize.Parse(f.memory)
	if err != nil {
		return ec, sc, usagef("--memory: %q is not a size (e.g. 268435456, 64MiB, 1GiB)", f.memory)
	}
	pol, err := state.ParsePolicy(f.policy)
	if err != nil {
		return ec, sc, usagef("--maxmemory-policy: %q is not noeviction, fifo or lru", f.policy)
	}
	frame, err := bytesize.Parse(f.maxFrame)
	if err != nil {
		return ec, sc, usagef("--max-frame: %q is not a size", f.maxFrame)
	}
	reply, err := bytesize.Parse(f.maxReply)
	if err != nil {
		return ec, sc, usagef("--max-reply: %q is not a size", f.maxReply)
	}
	buffered := bytesize.Size(server.MaxBufferedFor(int64(mem)))
	if f.maxBuffered != "" {
		if buffered, err = bytesize.Parse(f.maxBuffered); err != nil {
			return ec, sc, usagef("--max-buffered: %q is not a size", f.maxBuffered)
		}
	}
	if f.data != "" {
		return ec, sc, usagef("--data: persistence is not available yet; leave --data empty")
	}
	if f.procs < 0 {
		return ec, sc, usagef("--procs: %d must be 0 (as many as --event-loops) or more", f.procs)
	}
	if f.epoch > math.MaxUint32 {
		return ec, sc, usagef("--epoch: %d must be between 1 and 4294967295", f.epoch)
	}
	var secret []byte
	if f.secretFile != "" {
		b, err := os.ReadFile(f.secretFile)
		if err != nil {
			return ec, sc, usagef("--auth-secret-file: %v", err)
		}
		if secret = []byte(strings.TrimSpace(string(b))); len(secret) == 0 {
			return ec, sc, usagef("--auth-secret-file: %s is empty", f.secretFile)
		}
	}
	if err := checkStateExposure(f.listen, f.resp, secret != nil, f.insecureNoAuth); err != nil {
		return ec, sc, err
	}
	nodeID := f.nodeID
	if nodeID == "" {
		nodeID = "state-" + portOf(f.listen, f.resp)
	}
	ec = state.Config{MemoryBytes: int64(mem), Policy: pol, Epoch: uint32(f.epoch)}
	sc = server.Config{
		Listen: f.listen, RESP: f.resp, NodeID: nodeID, Secret: secret,
		MaxConns: f.maxConns, MaxFrame: int(frame), MaxOutbound: server.DefaultMaxOutbound,
		MaxReply: int(reply), MaxBuffered: int64(buffered),
		IdleTimeout: f.idle, SlowTimeout: f.slow, EventLoops: f.loops, BusyPoll: f.busyPoll,
	}
	for _, validate := range []func() error{ec.Validate, sc.Validate} {
		if err := validate(); err != nil {
			return ec, sc, usagef("%v", err)
		}
	}
	return ec, sc, nil
}

func runState(ctx context.Context, args []string, env *environment) error {
	fs := newFlagSet("state", "--listen ADDR [--resp ADDR] [--memory BYTES] [--maxmemory-policy noeviction|fifo|lru] [flags]", env)
	var f stateFlags
	f.bind(fs)
	var tf telemetry.Flags
	tf.Bind(fs, "")
	if err := parseFlags(fs, args, false); err != nil {
		return err
	}
	ec, sc, err := f.config()
	if err != nil {
		return err
	}
	if sc.Logger, err = tf.Logger(env.stderr); err != nil {
		return usagef("%v", err)
	}

	tuneGC()
	tuneProcs(f.procs, f.loops)
	if sc.Engine, err = state.New(ec); err != nil {
		return err
	}
	defer func() {
		if err := sc.Engine.Close(); err != nil {
			sc.Logger.Warn("state engine close", "err", err)
		}
	}()
	if !sc.Engine.PeekEnabled() {
		sc.Logger.Warn("bigcache layout check failed: reads use the allocating public API")
	}
	srv, err := server.New(sc)
	if err != nil {
		return err
	}
	ts := telemetry.NewServer()
	ts.Registry.MustRegister(srv.Collector())
	if err := ts.Listen(tf.MetricsAddr); err != nil {
		return err
	}
	if err := srv.Start(); err != nil {
		return err
	}
	return lifecycle.Run(ctx, lifecycle.Role{
		Name: "state node", Log: sc.Logger, Telemetry: ts, Shutdown: srv.Shutdown,
		Attrs: []any{"node", sc.NodeID, "binary", srv.Addr(), "resp", srv.RESPAddr(),
			"memory", bytesize.Size(ec.MemoryBytes), "maxmemory_policy", ec.Policy, "metrics", ts.Addr()},
	})
}

// tuneGC keeps garbage from holding memory: the engine's data lives in a
// few large pointer-free arrays, so collections are cheap, but when a hash
// index grows the old table stays resident until the next cycle, which at
// the default GOGC=100 comes only when the heap doubles. GOGC in the
// environment still wins. No memory limit is set: the hash indexes grow
// with the number of keys, outside --memory, and a limit below the live
// heap would make the collector run without pause.
func tuneGC() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(20)
	}
}

// tuneProcs bounds the Go scheduler to the event loops. An event loop
// that finds no more events calls runtime.Gosched before blocking in
// epoll_wait (gnet's poller); with an idle P beside it, that wakes a second
// OS thread which takes the loop goroutine over while the first one parks:
// two futex calls and two context switches per wake-up. With as many Ps as
// loops there is no idle P to hand the loop to, and the node does not use
// more CPUs than its loops, which is also what a single-threaded
// redis-server gets. Measured on 2 CPUs with redis-benchmark -c 50
// unpipelined: context switches per 50k GETs fell from 25-37k to 13k.
func tuneProcs(procs, loops int) {
	if os.Getenv("GOMAXPROCS") != "" {
		return
	}
	if procs == 0 {
		procs = loops
		if procs == 0 {
			procs = server.DefaultEventLoops()
		}
	}
	runtime.GOMAXPROCS(procs)
}

// checkStateExposure is Redis's protected mode, made strict: a node that
// other hosts can reach must have a secret, unless the operator says in so
// many words that the network is private.
func checkStateExposure(listen, resp string, hasSecret, insecure bool) error {
	if hasSecret && insecure {
		return usagef("--insecure-no-auth: contradicts --auth-secret-file; give one of them")
	}
	if hasSecret || insecure {
		return nil
	}
	for _, a := range []string{listen, resp} {
		if !config.LoopbackAddr(a) {
			return usagef("--auth-secret-file: %s is not a loopback address; refusing to serve it without a secret "+
				"(give --auth-secret-file FILE, or --insecure-no-auth on a network nothing else reaches)", a)
		}
	}
	return nil
}

func portOf(addrs ...string) string {
	for _, a := range addrs {
		if i := strings.LastIndexByte(a, ':'); i >= 0 && a[i+1:] != "" && a[i+1:] != "0" {
			return a[i+1:]
		}
	}
	return "1"
}
