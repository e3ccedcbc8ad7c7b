package bench

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/strata-dp/strata/bench/loadgen"
)

func init() {
	register(&Scenario{
		Name:    "state",
		Systems: []string{"strata", "redis"},
		Summary: "state node vs redis-server: redis-benchmark GET/SET (P1, P16), Go clients, RSS for 1M values",
		Run:     runStateScenario,
	})
}

// stateNode is one running key-value server reachable over RESP.
type stateNode struct {
	proc *Process
	resp string // host:port of the RESP listener
	bin  string // the binary protocol's listener (strata only)
}

// Conditions of the state scenario (issue 3, "Performance").
const (
	stateClients   = 50
	stateValueSize = 64
	// stateMemory is Strata's --memory: room for the RSS test's million
	// values, so that no eviction flatters its memory figure.
	stateMemory = 512 << 20
	// goClientRun is one Go-client run: shorter than the HTTP runs, as the
	// state scenario has four measurements per system.
	goClientRun = 2 * time.Second
)

func (h *Harness) startStrataState(ctx context.Context) (*stateNode, error) {
	if err := h.Strata.HasFlag(ctx, "state", "--resp"); err != nil {
		return nil, err
	}
	bin, err := FreeAddr()
	if err != nil {
		return nil, err
	}
	resp, err := FreeAddr()
	if err != nil {
		return nil, err
	}
	p, err := h.Strata.Start("strata state", "state", "--listen", bin, "--resp", resp,
		"--memory", strconv.Itoa(stateMemory), "--metrics", "", "--log-level", "warn")
	if err != nil {
		return nil, err
	}
	h.Track(p)
	if err := p.WaitTCP(ctx, resp, 15*time.Second); err != nil {
		return nil, err
	}
	return &stateNode{proc: p, resp: resp, bin: bin}, nil
}

func (h *Harness) startRedis(ctx context.Context) (*stateNode, error) {
	bin, err := LookTool("redis-server")
	if err != nil {
		return nil, err
	}
	port, err := FreePort()
	if err != nil {
		return nil, err
	}
	dir := fmt.Sprintf("%s/redis-%d", h.Dir, port)
	if err := mkdir(dir); err != nil {
		return nil, err
	}
	conf, err := RenderPeerConfig(dir, "redis.conf", map[string]any{"Port": port, "Dir": dir})
	if err != nil {
		return nil, err
	}
	p, err := Start("redis-server", bin, conf)
	if err != nil {
		return nil, err
	}
	h.Track(p)
	addr := "127.0.0.1:" + strconv.Itoa(port)
	if err := p.WaitTCP(ctx, addr, 10*time.Second); err != nil {
		return nil, err
	}
	return &stateNode{proc: p, resp: addr}, nil
}

func runStateScenario(ctx context.Context, h *Harness) error {
	h.Version(ctx, "redis-server")
	h.Version(ctx, "redis-benchmark")
	nodes := map[string]*stateNode{}
	var systems []string
	for _, sys := range []string{"strata", "redis"} {
		var n *stateNode
		var err error
		if sys == "strata" {
			n, err = h.startStrataState(ctx)
		} else {
			n, err = h.startRedis(ctx)
		}
		if err != nil {
			h.Skip(sys, "", err)
			continue
		}
		nodes[sys] = n
		systems = append(systems, sys)
	}
	if len(systems) == 0 {
		return nil
	}
	requests := map[int]int{1: Pick(h.Opts, 20_000, 150_000), 16: Pick(h.Opts, 200_000, 1_500_000)}
	runs := h.Opts.runs()
	if h.Opts.Runs == 0 && !h.Opts.Quick {
		runs = redisBenchRuns
	}
	h.Condition("redis_benchmark", fmt.Sprintf("-c %d -d %d, one invocation per test (set, then get); -n %d unpipelined, %d with -P 16; %d alternating runs per system", stateClients, stateValueSize, requests[1], requests[16], runs))
	if _, err := LookTool("redis-benchmark"); err != nil {
		for _, s := range systems {
			h.Skip(s, "redis-benchmark", err)
		}
	} else {
		for _, pipe := range []int{1, 16} {
			name := fmt.Sprintf("redis-benchmark -P %d", pipe)
			err := h.AlternateRuns(ctx, name, systems, runs, func(ctx context.Context, sys string) ([]Sample, error) {
				return redisBenchTrial(ctx, nodes[sys], pipe, requests[pipe])
			})
			if err != nil {
				return err
			}
		}
	}
	if err := h.goClients(ctx, nodes, systems); err != nil {
		return err
	}
	return h.stateRSS(ctx, systems)
}

// goClients compares the Go way in: Strata's binary protocol client against
// go-redis on Redis, same concurrency and pipelining.
func (h *Harness) goClients(ctx context.Context, nodes map[string]*stateNode, systems []string) error {
	dur := h.Opts.RunDuration(goClientRun)
	h.Condition("go_clients", fmt.Sprintf("%d goroutines, one connection each, GET over %d keys of %d bytes, %v per run", stateClients, 10_000, stateValueSize, dur))
	var runnable []string
	for _, sys := range systems {
		if sys == "strata" && newStrataWorker == nil {
			h.Skip("strata", "go-client", fmt.Errorf("%w: the binary protocol client (dataplane/state/client) is not in this build", ErrMissing))
			continue
		}
		// Both servers get the same keys over RESP so every GET hits.
		if _, err := loadgen.LoadRESP(ctx, nodes[sys].resp, 10_000, stateValueSize); err != nil {
			h.Skip(sys, "go-client", err)
			continue
		}
		runnable = append(runnable, sys)
	}
	if len(runnable) == 0 {
		return nil
	}
	for _, pipe := range []int{1, 16} {
		name := fmt.Sprintf("go-client-get-p%d", pipe)
		err := h.Alternate(ctx, name, runnable, func(ctx context.Context, sys string) ([]Sample, error) {
			l := loadgen.KVLoad{Clients: stateClients, Pipeline: pipe, Duration: h.runDurationOf(goClientRun), Keys: 10_000}
			worker := loadgen.GoRedisWorker(nodes[sys].resp, false, stateValueSize)
			if sys == "strata" {
				worker = newStrataWorker(nodes[sys].bin)
			}
			r, err := l.RunKV(ctx, worker)
			if err != nil {
				return nil, err
			}
			if r.Misses > 0 {
				return nil, fmt.Errorf("%d GETs missed keys loaded before the run: not the read path this measures", r.Misses)
			}
			return []Sample{
				{name, MetricOps, r.OpsPerSec},
				{name, MetricP99, float64(r.Hist.Quantile(0.99)) / float64(time.Millisecond)},
			}, nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// redisBenchRuns is the number of alternating runs per system of the
// redis-benchmark measurements in a full run, more than DefaultRuns: the
// single-threaded load generator is the bottleneck unpipelined, so the two
// servers land within a few percent of each other and run-to-run noise on a
// shared machine is of the same size.
const redisBenchRuns = 7

// redisBenchTrial runs redis-benchmark once per test against node, reading
// the server's processor time around each so that its cost per operation
// is measured too: the figure that still separates the servers when the
// load generator, not the server, limits the throughput.
func redisBenchTrial(ctx context.Context, node *stateNode, pipe, requests int) ([]Sample, error) {
	host, port, err := splitHostPort(node.resp)
	if err != nil {
		return nil, err
	}
	var out []Sample
	for _, test := range []string{"set", "get"} {
		before, err := node.proc.CPUSeconds()
		if err != nil {
			return nil, err
		}
		rb := loadgen.RedisBenchmark{Host: host, Port: port, Clients: stateClients, Requests: requests, DataSize: stateValueSize, Pipeline: pipe, Tests: []string{test}}
		rs, err := rb.Run(ctx)
		if err != nil {
			return nil, err
		}
		after, err := node.proc.CPUSeconds()
		if err != nil {
			return nil, err
		}
		if len(rs) != 1 {
			return nil, fmt.Errorf("redis-benchmark -t %s reported %d tests, want 1", test, len(rs))
		}
		r := rs[0]
		n := fmt.Sprintf("%s-p%d", test, pipe)
		out = append(out,
			Sample{n, MetricOps, r.OpsPerSec},
			Sample{n, MetricP99, r.P99ms},
			Sample{n, MetricServerCPU, (after - before) * 1e6 / float64(requests)},
			Sample{n, MetricLoadgenCPU, r.LoadgenCPU},
		)
	}
	return out, nil
}

// newStrataWorker builds KVLoad workers on Strata's binary protocol client;
// it is set by the file that imports that client, once it exists.
var newStrataWorker func(addr string) func() (loadgen.KVBatch, func(), error)

// stateRSS loads the same values into a fresh node of each system and
// reads its resident memory (issue 3: one million 64-byte values).
func (h *Harness) stateRSS(ctx context.Context, systems []string) error {
	n := Pick(h.Opts, 100_000, 1_000_000)
	name := fmt.Sprintf("rss-%dk-values", n/1000)
	h.Condition("rss", fmt.Sprintf("%d keys of 11-14 bytes with %d-byte values loaded over RESP (pipelined), fresh process each; strata --memory %d", n, stateValueSize, stateMemory))
	for _, sys := range systems {
		h.Opts.Progress.show(h.file.Scenario, name, Step{System: sys, Run: 1}, 0, 1)
		var node *stateNode
		var err error
		if sys == "strata" {
			node, err = h.startStrataState(ctx)
		} else {
			node, err = h.startRedis(ctx)
		}
		if err != nil {
			h.Skip(sys, name, err)
			continue
		}
		held, err := loadgen.LoadRESP(ctx, node.resp, n, stateValueSize)
		if err != nil {
			h.Skip(sys, name, err)
			node.proc.Stop(5 * time.Second)
			continue
		}
		// Let background reclamation and allocator settle before reading.
		time.Sleep(500 * time.Millisecond)
		rss, err := node.proc.RSSBytes()
		node.proc.Stop(5 * time.Second)
		if err != nil {
			h.Skip(sys, name, err)
			continue
		}
		h.Record(sys, Sample{name, MetricRSS, mib(rss)})
		h.Record(sys, Sample{name, MetricKeysHeld, float64(held)})
	}
	h.Opts.Progress.clear()
	return nil
}
