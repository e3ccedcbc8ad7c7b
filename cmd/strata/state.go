package main

import (
	"context"
	"os"
	"runtime"
	"runtime/debug"
	"strings"
	"time"

	"github.com/strata-dp/strata/dataplane/state"
	"github.com/strata-dp/strata/dataplane/state/server"
	"github.com/strata-dp/strata/internal/bytesize"
	"github.com/strata-dp/strata/internal/config"
	"github.com/strata-dp/strata/internal/telemetry"
)

func init() {
	register(&command{
		name:    "state",
		summary: "run a state node (binary protocol, optionally RESP2)",
		run:     runState,
	})
}

func runState(ctx context.Context, args []string, env *environment) error {
	fs := newFlagSet("state", "--listen ADDR [--resp ADDR] [--memory BYTES] [--maxmemory-policy noeviction|fifo|lru] [flags]", env)
	listen := fs.String("listen", "127.0.0.1:7001", "address of the binary protocol")
	respAddr := fs.String("resp", "", "address of RESP2 (redis-cli, redis-benchmark, Redis clients); empty: off")
	memory := fs.String("memory", "256MiB", "bound on live data (maxmemory, what INFO's used_memory counts): bytes or with a suffix KiB, MiB, GiB (also KB, MB, GB); near the bound the shard queues span up to about a third more, to reclaim the space of rewritten values")
	policy := fs.String("maxmemory-policy", "noeviction", "when live data reaches --memory: noeviction refuses writes that would grow it (-OOM / status OutOfMemory; deletes, reads and writes that do not grow still work), fifo evicts the oldest keys, lru evicts approximately least recently used keys (fifo and lru are for pure caching)")
	data := fs.String("data", "", "reserved for persistence (a later release); must be empty for now")
	secretFile := fs.String("auth-secret-file", "", "file holding a shared secret that clients must send with AUTH (both protocols); "+
		"required when --listen or --resp is not a loopback address")
	insecureNoAuth := fs.Bool("insecure-no-auth", false, "serve without a secret on a non-loopback address: anyone who reaches the node "+
		"reads and overwrites every key (only for a network that nothing else can reach)")
	maxConns := fs.Int("max-conns", 20000, "maximum open client connections over both listeners")
	maxFrame := fs.String("max-frame", "4MiB", "largest binary frame body or RESP command")
	maxReply := fs.String("max-reply", "16MiB", "largest reply whose size the client chooses (MGET, SCAN); larger ones are refused with an error")
	maxBuffered := fs.String("max-buffered", "", "bound on bytes held for all connections together (incomplete commands, unsent replies); past it the connection that grows is closed (default: a quarter of --memory, at least 64MiB, at most 1GiB)")
	idle := fs.Duration("idle-timeout", 0, "close connections idle this long (0: never)")
	slow := fs.Duration("slow-timeout", 10*time.Second, "close connections whose replies stay unsent this long")
	nodeID := fs.String("node-id", "", "node name in INFO and logs (default: state-PORT)")
	epoch := fs.Uint("epoch", 1, "version epoch stamped on writes (raised on failover by the cluster)")
	loops := fs.Int("event-loops", 0, "gnet event loops per listener (0: half the CPUs, at least 1)")
	busyPoll := fs.Duration("busy-poll", 0, "keep an event loop polling this long after client traffic before it sleeps, so clients on this host need not wake it (e.g. 50us; 0: off; costs processor time after traffic)")
	procs := fs.Int("procs", 0, "CPUs the Go runtime schedules on, GOMAXPROCS (0: as many as --event-loops; the GOMAXPROCS environment variable wins)")
	var tf telemetry.Flags
	tf.Bind(fs, "")
	if err := parseFlags(fs, args, false); err != nil {
		return err
	}
	mem, err := bytesize.Parse(*memory)
	if err != nil || mem < 1<<20 {
		return usagef("--memory: %q is not a size of at least 1MiB (e.g. 268435456, 64MiB, 1GiB)", *memory)
	}
	pol, err := state.ParsePolicy(*policy)
	if err != nil {
		return usagef("--maxmemory-policy: %q is not noeviction, fifo or lru", *policy)
	}
	frame, err := bytesize.Parse(*maxFrame)
	if err != nil || frame < 1024 || frame > 1<<30 {
		return usagef("--max-frame: %q is not a size between 1KiB and 1GiB", *maxFrame)
	}
	reply, err := bytesize.Parse(*maxReply)
	if err != nil || reply < 64<<10 || reply > 1<<30 {
		return usagef("--max-reply: %q is not a size between 64KiB and 1GiB", *maxReply)
	}
	buffered := defaultMaxBuffered(mem)
	if *maxBuffered != "" {
		if buffered, err = bytesize.Parse(*maxBuffered); err != nil || buffered < 1<<20 {
			return usagef("--max-buffered: %q is not a size of at least 1MiB", *maxBuffered)
		}
	}
	if *data != "" {
		return usagef("--data: persistence is not available yet; leave --data empty")
	}
	if *maxConns < 1 {
		return usagef("--max-conns: %d must be at least 1", *maxConns)
	}
	if *listen == "" && *respAddr == "" {
		return usagef("--listen: at least one of --listen and --resp is required")
	}
	if *loops < 0 {
		return usagef("--event-loops: %d must be 0 (half the CPUs) or more", *loops)
	}
	if *busyPoll < 0 || *busyPoll > time.Second {
		return usagef("--busy-poll: %v must be between 0 (off) and 1s", *busyPoll)
	}
	if *procs < 0 {
		return usagef("--procs: %d must be 0 (as many as --event-loops) or more", *procs)
	}
	if *epoch < 1 || *epoch > 1<<32-1 {
		return usagef("--epoch: %d must be between 1 and 4294967295", *epoch)
	}
	var secret []byte
	if *secretFile != "" {
		b, err := os.ReadFile(*secretFile)
		if err != nil {
			return usagef("--auth-secret-file: %v", err)
		}
		if secret = []byte(strings.TrimSpace(string(b))); len(secret) == 0 {
			return usagef("--auth-secret-file: %s is empty", *secretFile)
		}
	}
	if err := checkStateExposure(*listen, *respAddr, secret != nil, *insecureNoAuth); err != nil {
		return err
	}
	log, err := tf.Logger(env.stderr)
	if err != nil {
		return usagef("%v", err)
	}
	if *nodeID == "" {
		*nodeID = "state-" + portOf(*listen, *respAddr)
	}

	tuneGC()
	tuneProcs(*procs, *loops)
	eng, err := state.New(state.Config{MemoryBytes: int64(mem), Policy: pol, Epoch: uint32(*epoch)})
	if err != nil {
		return err
	}
	defer eng.Close()
	if !eng.PeekEnabled() {
		log.Warn("bigcache layout check failed: reads use the allocating public API")
	}
	srv, err := server.New(server.Config{
		Engine: eng, Logger: log, Listen: *listen, RESP: *respAddr, NodeID: *nodeID,
		Secret: secret, MaxConns: *maxConns, MaxFrame: int(frame),
		MaxReply: int(reply), MaxBuffered: int64(buffered),
		IdleTimeout: *idle, SlowTimeout: *slow, EventLoops: *loops, BusyPoll: *busyPoll,
	})
	if err != nil {
		return err
	}
	ts := telemetry.NewServer()
	ts.Registry.MustRegister(srv.Collector())
	if err := ts.Listen(tf.MetricsAddr); err != nil {
		return err
	}
	mctx, stopMetrics := context.WithCancel(context.Background())
	defer stopMetrics()
	go ts.Serve(mctx, nil)
	if err := srv.Start(); err != nil {
		return err
	}
	ts.SetReady(true)
	log.Info("state node serving", "node", *nodeID, "binary", srv.Addr(), "resp", srv.RESPAddr(),
		"memory", mem, "maxmemory_policy", pol, "metrics", ts.Addr())

	<-ctx.Done()
	ts.SetReady(false)
	log.Info("state node draining")
	sctx, cancel := context.WithTimeout(context.Background(), 4*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		log.Warn("shutdown incomplete", "err", err)
	}
	return nil
}

// defaultMaxBuffered is --max-buffered's default: a quarter of --memory,
// within 64 MiB and 1 GiB. Buffered bytes sit outside --memory, in gnet's
// buffers, which may round a write up to twice its size, so the node's
// resident set can grow by up to twice the bound under attack.
func defaultMaxBuffered(mem bytesize.Size) bytesize.Size {
	return min(max(mem/4, 64<<20), 1<<30)
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
