package server

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/panjf2000/gnet/v2"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/strata-dp/strata/internal/latency"
)

// cmd identifies a command for counting, over both protocols.
type cmd uint8

const (
	cmdOther cmd = iota
	cmdPing
	cmdEcho
	cmdAuth
	cmdHello
	cmdSelect
	cmdGet
	cmdSet
	cmdSetNX
	cmdSetEX
	cmdPSetEX
	cmdGetDel
	cmdDel
	cmdExists
	cmdExpire
	cmdPExpire
	cmdTTL
	cmdPTTL
	cmdPersist
	cmdIncr
	cmdIncrBy
	cmdDecr
	cmdDecrBy
	cmdMGet
	cmdMSet
	cmdStrlen
	cmdAppend
	cmdDBSize
	cmdFlushDB
	cmdFlushAll
	cmdScan
	cmdInfo
	cmdCommand
	cmdClient
	cmdConfig
	cmdQuit
	cmdCAS
	numCmds
)

var cmdNames = [numCmds]string{
	"other", "ping", "echo", "auth", "hello", "select", "get", "set", "setnx", "setex", "psetex",
	"getdel", "del", "exists", "expire", "pexpire", "ttl", "pttl", "persist", "incr", "incrby",
	"decr", "decrby", "mget", "mset", "strlen", "append", "dbsize", "flushdb", "flushall",
	"scan", "info", "command", "client", "config", "quit", "cas",
}

// loopStats are the counters of one event loop; only that loop writes
// them, so the atomics are uncontended.
type loopStats struct {
	cmds     [2][numCmds]atomic.Uint64
	hits     atomic.Uint64
	misses   atomic.Uint64
	bytesIn  atomic.Uint64
	bytesOut atomic.Uint64
	tooLarge atomic.Uint64 // replies refused over MaxReply

	// cmdTime is the server time of sampled commands by protocol and
	// command: of each command, the first and then one in every is timed,
	// counted by sinceSample, which only the loop touches.
	cmdTime     [2][numCmds]latency.Histogram
	sinceSample [2][numCmds]uint32
	every       uint32
}

// cmdSampleEvery is how many commands of a kind make one timed command:
// on the development VM a pair of clock reads costs 0.2-1 µs, more than a
// GET. Timing every command cost 65-100% of pipelined throughput, one in 16
// about 10%, one in 64 less than the benchmarks' noise (docs/STATE.md).
const cmdSampleEvery = 64

// cmdBounds are the buckets of strata_state_command_duration_seconds: an
// in-memory command takes a microsecond or less; the tail is a large MGET,
// SCAN or FLUSHALL.
var cmdBounds = latency.NewBounds(2.5e-7, 5e-7, 1e-6, 2.5e-6, 5e-6, 1e-5, 2.5e-5, 5e-5, 1e-4, 2.5e-4, 5e-4, 1e-3, 5e-3, 1e-2, 0.1)

// sample reports whether this command is timed: the loop's first of its
// kind, then one in every. A rare command is seen at once; a frequent one
// pays for the clock one time in every.
func (ls *loopStats) sample(p protocol, c cmd) bool {
	n := ls.sinceSample[p][c]
	if n+1 >= ls.every {
		ls.sinceSample[p][c] = 0
	} else {
		ls.sinceSample[p][c] = n + 1
	}
	return n == 0
}

// timed records a sampled command's duration.
func (ls *loopStats) timed(p protocol, c cmd, d time.Duration) {
	ls.cmdTime[p][c].Observe(cmdBounds, d)
}

type statsSet struct {
	mu     sync.Mutex
	byLoop map[gnet.EventLoop]*loopStats
	all    []*loopStats
	hist   [2]prometheus.Histogram
	once   sync.Once
	// cmdEvery overrides cmdSampleEvery for loops created after it is set
	// (tests time every command).
	cmdEvery atomic.Uint32
}

func (st *statsSet) init() {
	st.once.Do(func() {
		st.byLoop = map[gnet.EventLoop]*loopStats{}
		for p := range st.hist {
			st.hist[p] = prometheus.NewHistogram(prometheus.HistogramOpts{
				Name:        "strata_state_batch_seconds",
				Help:        "Server time to answer one read batch of commands (one event-loop wake-up); one batch in 16 is sampled.",
				ConstLabels: prometheus.Labels{"protocol": protocol(p).String()},
				Buckets:     []float64{1e-6, 2.5e-6, 5e-6, 1e-5, 2.5e-5, 5e-5, 1e-4, 2.5e-4, 5e-4, 1e-3, 5e-3, 1e-2, 0.1},
			})
		}
	})
}

func (st *statsSet) forLoop(el gnet.EventLoop) *loopStats {
	st.init()
	st.mu.Lock()
	defer st.mu.Unlock()
	ls, ok := st.byLoop[el]
	if !ok {
		ls = &loopStats{every: cmdSampleEvery}
		if n := st.cmdEvery.Load(); n > 0 {
			ls.every = n
		}
		st.byLoop[el] = ls
		st.all = append(st.all, ls)
	}
	return ls
}

func (st *statsSet) observe(p protocol, d time.Duration) {
	st.init()
	st.hist[p].Observe(d.Seconds())
}

// totals sums the counters of every loop.
type totals struct {
	cmds                            [2][numCmds]uint64
	cmdTime                         [2][numCmds]latency.Snapshot
	hits, misses, bytesIn, bytesOut uint64
	commands, tooLarge              uint64
}

func (st *statsSet) totals() totals {
	st.mu.Lock()
	defer st.mu.Unlock()
	var t totals
	for _, ls := range st.all {
		for p := range ls.cmds {
			for c := range ls.cmds[p] {
				n := ls.cmds[p][c].Load()
				t.cmds[p][c] += n
				t.commands += n
				t.cmdTime[p][c].Add(&ls.cmdTime[p][c])
			}
		}
		t.hits += ls.hits.Load()
		t.misses += ls.misses.Load()
		t.bytesIn += ls.bytesIn.Load()
		t.bytesOut += ls.bytesOut.Load()
		t.tooLarge += ls.tooLarge.Load()
	}
	return t
}
