package loadgen

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// Wrk is one closed-loop HTTP run of the wrk load generator.
type Wrk struct {
	URL      string
	Conns    int
	Threads  int
	Duration time.Duration
	// Headers are sent with every request ("Name: value").
	Headers []string
	// Script is a Lua file passed with -s; ScriptArgs follow "--".
	Script     string
	ScriptArgs []string
	// Prefix runs wrk through another command, e.g. "ip netns exec NS" to
	// load a network namespace test bed from its client namespace.
	Prefix []string
}

// WrkResult holds what wrk printed.
type WrkResult struct {
	RequestsPerSec float64
	Requests       uint64
	// Latency percentiles from --latency, in milliseconds.
	P50ms, P90ms, P99ms float64
	Non2xx              uint64
	SocketErrors        uint64
}

// ErrWrkOutput is returned when wrk's output cannot be understood.
var ErrWrkOutput = errors.New("unexpected wrk output")

// Args are the command-line arguments for wrk.
func (w *Wrk) Args() []string {
	threads := w.Threads
	if threads <= 0 {
		threads = 2
	}
	secs := int(w.Duration.Round(time.Second) / time.Second)
	if secs < 1 {
		secs = 1
	}
	args := []string{"-t", strconv.Itoa(threads), "-c", strconv.Itoa(w.Conns), "-d", strconv.Itoa(secs) + "s", "--latency", "--timeout", "5s"}
	for _, h := range w.Headers {
		args = append(args, "-H", h)
	}
	if w.Script != "" {
		args = append(args, "-s", w.Script)
	}
	args = append(args, w.URL)
	if len(w.ScriptArgs) > 0 {
		args = append(append(args, "--"), w.ScriptArgs...)
	}
	return args
}

// Run executes wrk and parses its report.
func (w *Wrk) Run(ctx context.Context) (*WrkResult, error) {
	argv := append(append(append([]string(nil), w.Prefix...), "wrk"), w.Args()...)
	out, err := exec.CommandContext(ctx, argv[0], argv[1:]...).CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("wrk %s: %w: %s", w.URL, err, lastLines(string(out), 3))
	}
	return ParseWrk(string(out))
}

// ParseWrk reads the text report of wrk --latency.
func ParseWrk(out string) (*WrkResult, error) {
	var r WrkResult
	var haveRPS bool
	inDist := false
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		fields := strings.Fields(line)
		switch {
		case strings.HasPrefix(line, "Latency Distribution"):
			inDist = true
		case inDist && len(fields) == 2 && strings.HasSuffix(fields[0], "%"):
			ms, err := parseWrkDuration(fields[1])
			if err != nil {
				return nil, err
			}
			switch fields[0] {
			case "50%":
				r.P50ms = ms
			case "90%":
				r.P90ms = ms
			case "99%":
				r.P99ms = ms
			}
		case strings.HasPrefix(line, "Requests/sec:") && len(fields) == 2:
			v, err := strconv.ParseFloat(fields[1], 64)
			if err != nil {
				return nil, fmt.Errorf("%w: %q", ErrWrkOutput, line)
			}
			r.RequestsPerSec, haveRPS = v, true
		case strings.Contains(line, "requests in") && len(fields) > 0:
			inDist = false
			r.Requests, _ = strconv.ParseUint(fields[0], 10, 64)
		case strings.HasPrefix(line, "Non-2xx or 3xx responses:") && len(fields) == 5:
			r.Non2xx, _ = strconv.ParseUint(fields[4], 10, 64)
		case strings.HasPrefix(line, "Socket errors:"):
			r.SocketErrors = sumSocketErrors(line)
		}
	}
	if !haveRPS {
		return nil, fmt.Errorf("%w: no Requests/sec line in %q", ErrWrkOutput, lastLines(out, 3))
	}
	return &r, nil
}

// parseWrkDuration turns "1.23ms", "850.00us" or "1.02s" into milliseconds.
func parseWrkDuration(s string) (float64, error) {
	units := []struct {
		suffix string
		ms     float64
	}{{"us", 0.001}, {"ms", 1}, {"m", 60000}, {"s", 1000}}
	for _, u := range units {
		if strings.HasSuffix(s, u.suffix) {
			v, err := strconv.ParseFloat(strings.TrimSuffix(s, u.suffix), 64)
			if err != nil {
				break
			}
			return v * u.ms, nil
		}
	}
	return 0, fmt.Errorf("%w: duration %q", ErrWrkOutput, s)
}

// sumSocketErrors adds the counts in "Socket errors: connect 0, read 1, write 0, timeout 2".
func sumSocketErrors(line string) uint64 {
	var total uint64
	for _, part := range strings.Split(strings.TrimPrefix(line, "Socket errors:"), ",") {
		f := strings.Fields(part)
		if len(f) == 2 {
			n, _ := strconv.ParseUint(f[1], 10, 64)
			total += n
		}
	}
	return total
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " | ")
}
