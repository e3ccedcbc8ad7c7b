package loadgen

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// RedisBenchmark is one run of redis-benchmark against host:port.
type RedisBenchmark struct {
	Host     string
	Port     int
	Clients  int
	Requests int
	DataSize int
	Pipeline int
	Tests    []string // e.g. get, set
}

// RedisBenchResult is one test line of redis-benchmark --csv.
type RedisBenchResult struct {
	Test      string // lower case: "get", "set"
	OpsPerSec float64
	P50ms     float64
	P99ms     float64
	MaxMs     float64
	// LoadgenCPU is the share of one processor redis-benchmark itself used
	// over the whole invocation (user + system time over wall time). Near
	// 1.0 the load generator, single-threaded, was the bottleneck, and the
	// throughput says more about it than about the server.
	LoadgenCPU float64
}

// ErrRedisBenchOutput is returned when the CSV cannot be understood.
var ErrRedisBenchOutput = errors.New("unexpected redis-benchmark output")

// Args are the command-line arguments for redis-benchmark.
func (b *RedisBenchmark) Args() []string {
	p := b.Pipeline
	if p <= 0 {
		p = 1
	}
	return []string{
		"-h", b.Host, "-p", strconv.Itoa(b.Port),
		"-c", strconv.Itoa(b.Clients), "-n", strconv.Itoa(b.Requests),
		"-d", strconv.Itoa(b.DataSize), "-P", strconv.Itoa(p),
		"-t", strings.Join(b.Tests, ","), "--csv",
	}
}

// Run executes redis-benchmark and parses its CSV.
func (b *RedisBenchmark) Run(ctx context.Context) ([]RedisBenchResult, error) {
	cmd := exec.CommandContext(ctx, "redis-benchmark", b.Args()...)
	start := time.Now()
	out, err := cmd.Output()
	wall := time.Since(start)
	if err != nil {
		return nil, fmt.Errorf("redis-benchmark: %w: %s", err, lastLines(string(out), 3))
	}
	res, err := ParseRedisBenchCSV(string(out))
	if err != nil {
		return nil, err
	}
	if ps := cmd.ProcessState; ps != nil && wall > 0 {
		cpu := (ps.UserTime() + ps.SystemTime()).Seconds() / wall.Seconds()
		for i := range res {
			res[i].LoadgenCPU = cpu
		}
	}
	return res, nil
}

// ParseRedisBenchCSV reads the --csv report of redis-benchmark 7
// ("test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms",...).
func ParseRedisBenchCSV(out string) ([]RedisBenchResult, error) {
	rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrRedisBenchOutput, err)
	}
	if len(rows) < 2 {
		return nil, fmt.Errorf("%w: no result rows in %q", ErrRedisBenchOutput, lastLines(out, 3))
	}
	col := map[string]int{}
	for i, h := range rows[0] {
		col[h] = i
	}
	for _, need := range []string{"test", "rps", "p50_latency_ms", "p99_latency_ms", "max_latency_ms"} {
		if _, ok := col[need]; !ok {
			return nil, fmt.Errorf("%w: header lacks %q", ErrRedisBenchOutput, need)
		}
	}
	var res []RedisBenchResult
	for _, row := range rows[1:] {
		if len(row) != len(rows[0]) {
			return nil, fmt.Errorf("%w: row %v", ErrRedisBenchOutput, row)
		}
		f := func(name string) (float64, error) {
			v, err := strconv.ParseFloat(row[col[name]], 64)
			if err != nil {
				return 0, fmt.Errorf("%w: %s=%q", ErrRedisBenchOutput, name, row[col[name]])
			}
			return v, nil
		}
		var r RedisBenchResult
		r.Test = strings.ToLower(row[col["test"]])
		if r.OpsPerSec, err = f("rps"); err != nil {
			return nil, err
		}
		if r.P50ms, err = f("p50_latency_ms"); err != nil {
			return nil, err
		}
		if r.P99ms, err = f("p99_latency_ms"); err != nil {
			return nil, err
		}
		if r.MaxMs, err = f("max_latency_ms"); err != nil {
			return nil, err
		}
		res = append(res, r)
	}
	return res, nil
}
