package main

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/strata-dp/strata/bench"
	"github.com/strata-dp/strata/bench/loadgen"
	"github.com/strata-dp/strata/bench/report"
)

func init() {
	register(&command{
		name:    "bench",
		summary: "run the side-by-side benchmark suite (one scenario, all, or the report)",
		run:     runBench,
	})
}

const benchSynopsis = `NAME [--json FILE] [--quick] [--runs N] [--label TEXT]
       strata bench all --json-dir DIR [--quick] [--runs N] [--label TEXT]
       strata bench report --json-dir DIR [--readme README.md]
       strata bench list
       strata bench serve origin|raw-facade|overhead-framework|overhead-raw --listen ADDR
       strata bench flood --target IP:PORT [--duration D] [--flows N] [--workers N]
         (helpers that scenarios start as processes of their own: servers,
         and a TCP SYN generator run inside a test bed's client namespace)

Scenarios run Strata and the peer a user would pick instead (Redis, Varnish,
nginx, HAProxy, nftables) side by side on loopback, alternating runs, and
write JSON (docs/INTERFACES.md, "Benchmark results"). 'all' also writes
DIR/REPORT.md and one SVG chart per scenario; 'report' rewrites the part of
README.md between <!-- bench:start --> and <!-- bench:end -->.
Peers found missing are skipped and named in the JSON's "skipped" list.`

func runBench(ctx context.Context, args []string, env *environment) error {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		// Only --help gets here usefully: it documents every flag of every
		// form of the command.
		fs := newFlagSet("bench", benchSynopsis, env)
		var bf benchFlags
		bf.bind(fs)
		fs.String("json", "", "NAME: write the results to this file (default: a table on stdout)")
		fs.String("json-dir", "bench/results", "all: directory for <scenario>.json, <scenario>.svg and REPORT.md; report: where to read them")
		fs.String("only", "", "all: comma-separated scenarios to run instead of all")
		fs.String("readme", "", "report: rewrite the <!-- bench:start -->...<!-- bench:end --> section of this file")
		if err := parseFlags(fs, args, false); err != nil {
			return err
		}
		return usagef("missing scenario name (one of %s, all, report, list)", strings.Join(scenarioNames(), ", "))
	}
	switch name, rest := args[0], args[1:]; name {
	case "list":
		for _, s := range bench.Scenarios() {
			fmt.Fprintf(env.stdout, "%-14s %s\n", s.Name, s.Summary)
		}
		return nil
	case "report":
		return runBenchReport(rest, env)
	case "serve":
		return runBenchServe(ctx, rest, env)
	case "flood":
		return runBenchFlood(ctx, rest, env)
	case "all":
		return runBenchAll(ctx, rest, env)
	default:
		return runBenchOne(ctx, name, rest, env)
	}
}

func scenarioNames() []string {
	var names []string
	for _, s := range bench.Scenarios() {
		names = append(names, s.Name)
	}
	return names
}

// benchFlags are the flags shared by one scenario and 'all'.
type benchFlags struct {
	quick bool
	runs  int
	label string
}

func (b *benchFlags) bind(fs interface {
	BoolVar(*bool, string, bool, string)
	IntVar(*int, string, int, string)
	StringVar(*string, string, string, string)
}) {
	fs.BoolVar(&b.quick, "quick", false, "smoke run: one short run per system, no warm-up (figures mean little)")
	fs.IntVar(&b.runs, "runs", 0, fmt.Sprintf("runs per system after the warm-up (default %d; 1 with --quick)", bench.DefaultRuns))
	fs.StringVar(&b.label, "label", "", "label recorded in the results (e.g. 'noisy: machine busy')")
}

func (b *benchFlags) options(env *environment) (bench.Options, error) {
	if b.runs < 0 || b.runs > 100 {
		return bench.Options{}, usagef("--runs: %d is out of range (1..100)", b.runs)
	}
	return bench.Options{Quick: b.quick, Runs: b.runs, Label: b.label, Log: env.stderr, Progress: progressFor(env)}, nil
}

// progressFor draws bars only when stderr is the process's terminal.
func progressFor(env *environment) *bench.Progress {
	if f, ok := env.stderr.(*os.File); ok {
		return bench.NewProgress(f)
	}
	return nil
}

func runBenchOne(ctx context.Context, name string, args []string, env *environment) error {
	sc, err := bench.Lookup(name)
	if err != nil {
		return usagef("%v", err)
	}
	fs := newFlagSet("bench", benchSynopsis, env)
	var bf benchFlags
	bf.bind(fs)
	jsonPath := fs.String("json", "", "write the results to this file (default: a table on stdout)")
	if err := parseFlags(fs, args, false); err != nil {
		return err
	}
	opts, err := bf.options(env)
	if err != nil {
		return err
	}
	f, err := bench.RunScenario(ctx, sc, opts)
	if err != nil {
		return err
	}
	if *jsonPath != "" {
		if err := f.Write(*jsonPath); err != nil {
			return err
		}
	}
	return report.WriteTable(env.stdout, f)
}

func runBenchAll(ctx context.Context, args []string, env *environment) error {
	fs := newFlagSet("bench", benchSynopsis, env)
	var bf benchFlags
	bf.bind(fs)
	dir := fs.String("json-dir", "bench/results", "directory for <scenario>.json, <scenario>.svg and REPORT.md")
	only := fs.String("only", "", "comma-separated scenarios to run instead of all")
	if err := parseFlags(fs, args, false); err != nil {
		return err
	}
	opts, err := bf.options(env)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(*dir, 0o755); err != nil {
		return fmt.Errorf("results dir: %w", err)
	}
	list := bench.Scenarios()
	if *only != "" {
		list = nil
		for _, n := range strings.Split(*only, ",") {
			sc, err := bench.Lookup(strings.TrimSpace(n))
			if err != nil {
				return usagef("--only: %v", err)
			}
			list = append(list, sc)
		}
	}
	start := time.Now()
	var failed []string
	for _, sc := range list {
		t0 := time.Now()
		f, err := bench.RunScenario(ctx, sc, opts)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			fmt.Fprintf(env.stderr, "bench %s: %v\n", sc.Name, err)
			failed = append(failed, sc.Name)
			continue
		}
		if err := f.Write(filepath.Join(*dir, sc.Name+".json")); err != nil {
			return err
		}
		if err := report.WriteChartFile(filepath.Join(*dir, sc.Name+".svg"), f); err != nil {
			return err
		}
		if err := report.WriteTable(env.stdout, f); err != nil {
			return err
		}
		fmt.Fprintln(env.stdout)
		fmt.Fprintf(env.stderr, "bench %s: done in %v\n", sc.Name, time.Since(t0).Round(time.Second))
	}
	if err := report.WriteReportFile(*dir); err != nil {
		return err
	}
	fmt.Fprintf(env.stderr, "bench all: %d scenarios in %v, results in %s\n", len(list), time.Since(start).Round(time.Second), *dir)
	if len(failed) > 0 {
		return fmt.Errorf("scenarios failed: %s", strings.Join(failed, ", "))
	}
	return nil
}

func runBenchReport(args []string, env *environment) error {
	fs := newFlagSet("bench report", "--json-dir DIR [--readme README.md]", env)
	dir := fs.String("json-dir", "bench/results", "directory holding <scenario>.json files")
	readme := fs.String("readme", "", "rewrite the <!-- bench:start -->...<!-- bench:end --> section of this file")
	if err := parseFlags(fs, args, false); err != nil {
		return err
	}
	if err := report.WriteReportFile(*dir); err != nil {
		if errors.Is(err, report.ErrNoResults) {
			return usagef("--json-dir: %v", err)
		}
		return err
	}
	if *readme != "" {
		if err := report.UpdateReadme(*readme, *dir); err != nil {
			if errors.Is(err, report.ErrNoMarkers) {
				return usagef("--readme: %v", err)
			}
			return err
		}
	}
	return nil
}

// runBenchServe runs the helper servers scenarios start as processes of
// their own: the shared origin and the raw fasthttp facade peer.
func runBenchServe(ctx context.Context, args []string, env *environment) error {
	if len(args) == 0 {
		return usagef("serve: missing kind (origin, raw-facade, overhead-framework or overhead-raw)")
	}
	kind, synopsis := args[0], "--listen ADDR[,ADDR...]"
	if strings.HasPrefix(kind, "-") { // --help before the kind
		kind, synopsis = "origin|raw-facade|overhead-framework|overhead-raw", synopsis+" [flags]"
	} else {
		args = args[1:]
	}
	fs := newFlagSet("bench serve "+kind, synopsis, env)
	var listen stringList
	fs.Var(&listen, "listen", "address to serve on (repeatable or comma-separated)")
	size := fs.Int("size", 1024, "origin: body size in bytes")
	slow := fs.Duration("slow", 50*time.Millisecond, "origin: delay for paths under /slow/")
	id := fs.String("id", "raw-1", "raw-facade: node id returned by /whoami")
	state := fs.String("state", "", "raw-facade: state node (binary protocol) for GET /api/products/{id}")
	origin := fs.String("origin", "", "raw-facade: sample origin URL (http://HOST:PORT) for product misses")
	if err := parseFlags(fs, args, false); err != nil {
		return err
	}
	if strings.Contains(kind, "|") {
		return usagef("serve: missing kind (origin, raw-facade, overhead-framework or overhead-raw)")
	}
	if len(listen) == 0 {
		return usagef("serve %s: --listen is required", kind)
	}
	switch kind {
	case "origin":
		if *size <= 0 || *size > 1<<20 {
			return usagef("--size: %d is out of range (1..1048576)", *size)
		}
		o := &bench.Origin{Size: *size, SlowDelay: *slow}
		return o.Serve(ctx, listen)
	case "overhead-framework", "overhead-raw":
		return bench.ServeOverheadPair(ctx, strings.TrimPrefix(kind, "overhead-"), listen)
	case "raw-facade":
		if (*state == "") != (*origin == "") {
			return usagef("--state and --origin go together")
		}
		r := &bench.RawFacade{ID: *id, State: *state, Origin: *origin}
		return r.Serve(ctx, listen)
	default:
		return usagef("serve: unknown kind %q (origin, raw-facade, overhead-framework or overhead-raw)", kind)
	}
}

// runBenchFlood sends TCP SYNs at a target as fast as it can and prints how
// many it sent; the lb-xdp scenario runs it inside a test bed's client
// namespace and counts what the backends receive.
func runBenchFlood(ctx context.Context, args []string, env *environment) error {
	fs := newFlagSet("bench flood", "--target IP:PORT [--duration D] [--flows N] [--workers N]", env)
	target := fs.String("target", "", "IPv4 address and port to send SYNs to")
	dur := fs.Duration("duration", 3*time.Second, "how long to send")
	flows := fs.Int("flows", 1024, "distinct source ports to cycle over (1..60000)")
	workers := fs.Int("workers", 1, "sending goroutines, one raw socket each (1..64)")
	if err := parseFlags(fs, args, false); err != nil {
		return err
	}
	dst, err := netip.ParseAddrPort(*target)
	if err != nil || !dst.Addr().Is4() {
		return usagef("--target: %q is not an IPv4 address and port", *target)
	}
	switch {
	case *dur <= 0 || *dur > time.Minute:
		return usagef("--duration: %v is out of range (0..1m]", *dur)
	case *flows < 1 || *flows > 60000:
		return usagef("--flows: %d is out of range (1..60000)", *flows)
	case *workers < 1 || *workers > 64:
		return usagef("--workers: %d is out of range (1..64)", *workers)
	}
	sent, err := loadgen.SynFlood(ctx, dst, *flows, *workers, *dur)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.stdout, "sent %d\n", sent)
	return nil
}
