package stack_test

import (
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/strata-dp/strata/dataplane/state/slot"
	"github.com/strata-dp/strata/internal/config"
)

// TestStrataUpMetricsMatchTraffic runs one userspace stack, sends a known
// mix through the edge and checks every tier's /metrics against it: the
// deltas between a scrape right before the mix and one right after.
//
// What else reaches each tier during the mix, and so which checks are
// exact:
//   - edge: nothing. The control plane polls the edge's metrics listener,
//     not its serving port, and the e2e probe through the edge ran before
//     strata up printed its table. Exact.
//   - facades: the LB's health checks (GET /readyz on the serving port)
//     are probes, counted in no request family; the control plane polls
//     the metrics listener. Route counts and unrouted are exact.
//   - origin: only the facades fetch /products/{id}. Exact.
//   - state: the facades' state clients send AUTH when they dial a pool
//     connection (on demand, so at any time) and nothing in the
//     background; every other (protocol, command) is exact per node.
//   - LB: connections_total counts new TCP sessions, and the edge keeps
//     its upstream connections alive across requests (from the start-up
//     probe on), so how many sessions the edge opens is not the test's to
//     know: ≥ the one connection the test opens to the VIP itself. Bytes
//     likewise: ≥ what the test itself saw cross the LB.
func TestStrataUpMetricsMatchTraffic(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the whole stack as processes; skipped in -short mode")
	}
	// 127.0.0.61-65 are the other stack tests' hosts.
	u := startUp(t, "127.0.0.66")
	cfg := u.cfg
	edge := "http://" + cfg.Edge.Listen

	before := scrapeStack(t, cfg)

	// The known mix. Each step: the edge's outcome and status class for it.
	type step struct {
		method, path string
		header       map[string]string
		status       int
		outcome      string
	}
	const unknown = "999999" // the origin has products 1..1000
	steps := []step{
		// Not in the edge's store nor the state tier: the edge fetches and
		// stores the answer (Cache-Control: public, max-age=30); the facade
		// misses the state tier, takes the lease, loads from the origin,
		// stores product:7 and gives the lease back.
		{"GET", "/api/products/7", nil, 200, "miss"},
		// Fresh in the edge's store: neither the LB nor a facade sees these.
		{"GET", "/api/products/7", nil, 200, "hit"},
		{"GET", "/api/products/7", nil, 200, "hit"},
		// The facade's 404 carries Cache-Control: no-store (errors are never
		// stored, nor cached aside): uncacheable. The edge remembers the URL
		// as uncacheable (hit-for-pass, 10 s), so the same GET again is a
		// pass, and the facade misses and loads it again.
		{"GET", "/api/products/" + unknown, nil, 404, "uncacheable"},
		{"GET", "/api/products/" + unknown, nil, 404, "pass"},
		// The client's no-store: fetched but not stored, a pass; the facade
		// caches product:8 aside all the same.
		{"GET", "/api/products/8", map[string]string{"Cache-Control": "no-store"}, 200, "pass"},
		// Another method: a pass; no facade route has POST here, so the
		// facade answers 405 unrouted, without touching the state tier.
		{"POST", "/api/products/7", nil, 405, "pass"},
	}
	var toClientSeen int // body bytes of answers that crossed the LB
	for _, s := range steps {
		resp, body := request(t, s.method, edge+s.path, "", s.header)
		if resp.StatusCode != s.status {
			t.Fatalf("%s %s: %s %q, want %d", s.method, s.path, resp.Status, body, s.status)
		}
		t.Logf("%s %s: %d, Cache-Status %q", s.method, s.path, resp.StatusCode, resp.Header.Get("Cache-Status"))
		if s.outcome != "hit" {
			toClientSeen += len(body)
		}
	}
	// One session the test opens to the VIP itself, so that the LB's
	// connection counter must move whatever the edge's pool does. /whoami
	// touches neither the product route nor the state tier, and names the
	// facade that answered.
	direct := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: httpClient.Timeout}
	vip := cfg.LB.Services[0].VIP
	resp, err := direct.Get("http://" + vip + "/whoami")
	if err != nil {
		t.Fatalf("GET /whoami on the VIP: %v", err)
	}
	whoamiNode := resp.Header.Get("X-Strata-Node")
	whoamiBody, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != 200 || whoamiNode == "" {
		t.Fatalf("GET /whoami on the VIP: %s (%v), X-Strata-Node %q", resp.Status, err, whoamiNode)
	}
	toClientSeen += len(whoamiBody)
	direct.CloseIdleConnections()

	// The edge accounts a request once its answer is flushed, so a client
	// can read the answer a moment before the counter moves; the LB may
	// count bytes just after writing them. Wait (generously) until both
	// have caught up with what the test saw before the final scrape; the
	// facades, the origin and the state nodes count before they answer.
	lbKey := map[string]string{"service": "tcp/" + vip, "direction": "to_client"}
	after := waitStack(t, cfg, func(after stackScrape) bool {
		return delta(before.edge, after.edge, "strata_edge_requests_total", nil) >= float64(len(steps)) &&
			delta(before.lb, after.lb, "strata_lb_backend_bytes_total", lbKey) >= float64(toClientSeen)
	})

	t.Run("edge", func(t *testing.T) {
		want := map[[2]string]float64{}
		perOutcome := map[string]float64{}
		for _, s := range steps {
			want[[2]string{s.outcome, strconv.Itoa(s.status/100) + "xx"}]++
			perOutcome[s.outcome]++
		}
		// Exact, every outcome and status class (absent ones 0): nothing
		// but the mix reaches the edge's serving port.
		for _, o := range []string{"synthetic", "hit", "stale", "collapsed", "revalidated", "miss", "uncacheable", "pass", "error"} {
			for _, c := range []string{"other", "1xx", "2xx", "3xx", "4xx", "5xx"} {
				l := map[string]string{"outcome": o, "status": c}
				if got := delta(before.edge, after.edge, "strata_edge_requests_total", l); got != want[[2]string{o, c}] {
					t.Errorf("strata_edge_requests_total%v grew by %v, want %v", l, got, want[[2]string{o, c}])
				}
			}
			l := map[string]string{"outcome": o}
			if got := delta(before.edge, after.edge, "strata_edge_request_duration_seconds_count", l); got != perOutcome[o] {
				t.Errorf("strata_edge_request_duration_seconds_count%v grew by %v, want %v", l, got, perOutcome[o])
			}
		}
		// The older counters, exact too: hits are the fresh stored answers;
		// misses every GET lookup without a usable stored response (the
		// miss, the uncacheable 404, the hit-for-pass, the no-store GET);
		// passes the other methods.
		for family, w := range map[string]float64{
			"strata_edge_hits_total":   perOutcome["hit"],
			"strata_edge_misses_total": 4,
			"strata_edge_passes_total": 1,
		} {
			if got := delta(before.edge, after.edge, family, nil); got != w {
				t.Errorf("%s grew by %v, want %v", family, got, w)
			}
		}
	})

	t.Run("facades", func(t *testing.T) {
		// Exact: the edge forwarded the miss, the uncacheable 404 and the
		// GET passes on /api/products/{id}; the hits reached no facade.
		route := map[string]string{"method": "GET", "route": "/api/products/{id}"}
		want := map[string]float64{"2xx": 2, "4xx": 2}
		for _, c := range []string{"other", "1xx", "2xx", "3xx", "4xx", "5xx"} {
			route["status"] = c
			var got float64
			for i := range cfg.Facades.Nodes {
				got += delta(before.facades[i], after.facades[i], "strata_facade_route_requests_total", route)
			}
			if got != want[c] {
				t.Errorf("sum over facades of strata_facade_route_requests_total%v grew by %v, want %v", route, got, want[c])
			}
		}
		var forwarded float64
		for _, s := range steps {
			if s.method == "GET" && s.outcome != "hit" {
				forwarded++
			}
		}
		if forwarded != want["2xx"]+want["4xx"] {
			t.Errorf("the edge forwarded %v GETs of the route, the facades are expected to count %v", forwarded, want["2xx"]+want["4xx"])
		}
		// Exact: the POST, 405; probes are not counted.
		var unrouted, whoami float64
		for i, n := range cfg.Facades.Nodes {
			unrouted += delta(before.facades[i], after.facades[i], "strata_facade_unrouted_total", nil)
			d := delta(before.facades[i], after.facades[i], "strata_facade_route_requests_total",
				map[string]string{"method": "GET", "route": "/whoami", "status": "2xx"})
			whoami += d
			if n.ID == whoamiNode && d != 1 {
				t.Errorf("%s answered GET /whoami on the VIP, its /whoami 2xx count grew by %v, want 1", n.ID, d)
			}
		}
		if unrouted != 1 {
			t.Errorf("sum over facades of strata_facade_unrouted_total grew by %v, want 1", unrouted)
		}
		if whoami != 1 {
			t.Errorf("sum over facades of /whoami 2xx grew by %v, want 1", whoami)
		}
	})

	t.Run("origin", func(t *testing.T) {
		// Exact: every request a facade forwarded for the route loaded from
		// the origin (product 7 and 8 once, the unknown id twice: a 404 is
		// not cached aside).
		l := map[string]string{"route": "/products"}
		if got := delta(before.origin, after.origin, "strata_origin_requests_total", l); got != 4 {
			t.Errorf("strata_origin_requests_total%v grew by %v, want 4", l, got)
		}
	})

	t.Run("lb", func(t *testing.T) {
		svc := cfg.LB.Services[0]
		facadeAddrs := map[string]bool{}
		for _, b := range svc.Backends {
			facadeAddrs[b.Addr] = true
		}
		for _, n := range cfg.Facades.Nodes {
			if !facadeAddrs[n.Listen] {
				t.Fatalf("facade %s (%s) is not a backend of %s: %v", n.ID, n.Listen, svc.Name, svc.Backends)
			}
		}
		// The LB labels a service tcp/VIP:PORT (docs/LB-USERSPACE.md,
		// Metrics), not by its name in the stack's config.
		key := "tcp/" + svc.VIP
		// Every per-backend series of the facade service names one of its
		// configured backends, each of them has one.
		for _, family := range []string{"strata_lb_backend_connections_total", "strata_lb_backend_bytes_total",
			"strata_lb_backend_active_connections", "strata_lb_backend_connect_failures_total"} {
			seen := map[string]bool{}
			for _, s := range after.lb.series(family, map[string]string{"service": key}) {
				if !facadeAddrs[s.labels["backend"]] {
					t.Errorf("%s%v: backend is no facade address of the stack's config %v", family, s.labels, svc.Backends)
				}
				seen[s.labels["backend"]] = true
			}
			if len(seen) != len(facadeAddrs) {
				t.Errorf("%s{service=%q} has series for %v, want every backend of %v", family, key, seen, svc.Backends)
			}
		}
		// ≥, not =: the edge's upstream keep-alive decides how many of
		// the mix's requests opened sessions; the test's own /whoami did.
		sel := map[string]string{"service": key}
		if got := delta(before.lb, after.lb, "strata_lb_backend_connections_total", sel); got < 1 {
			t.Errorf("sum over backends of strata_lb_backend_connections_total%v grew by %v, want ≥ 1", sel, got)
		}
		for _, n := range cfg.Facades.Nodes {
			if n.ID != whoamiNode {
				continue
			}
			l := map[string]string{"service": key, "backend": n.Listen}
			if got := delta(before.lb, after.lb, "strata_lb_backend_connections_total", l); got < 1 {
				t.Errorf("%s answered the test's own session, strata_lb_backend_connections_total%v grew by %v, want ≥ 1", n.ID, l, got)
			}
		}
		// Lower bounds: the request lines the test sent through the LB,
		// and the answer bodies it read back (headers add to both).
		var toBackendSent int
		for _, s := range steps {
			if s.outcome != "hit" {
				toBackendSent += len(s.method + " " + s.path + " HTTP/1.1\r\n")
			}
		}
		toBackendSent += len("GET /whoami HTTP/1.1\r\n")
		for dir, min := range map[string]int{"to_backend": toBackendSent, "to_client": toClientSeen} {
			l := map[string]string{"service": key, "direction": dir}
			if got := delta(before.lb, after.lb, "strata_lb_backend_bytes_total", l); got < float64(min) {
				t.Errorf("sum over backends of strata_lb_backend_bytes_total%v grew by %v, want ≥ %d", l, got, min)
			}
		}
	})

	t.Run("state", func(t *testing.T) {
		n := len(cfg.State.Nodes)
		owner := func(key string) int { return slot.Owner(slot.Of([]byte(key)), n) }
		// What facade/cache.go does per forwarded request: GET the key;
		// on a miss SetNX the lease (a binary SET with NX, counted "set"),
		// and after the load SET the key (when the load succeeded) and
		// DEL the lease, each on the node that owns that key: the state
		// client's slot.Owner over the addresses in --state order, which
		// strata up gives every facade as state.nodes' order.
		want := make([]map[string]float64, n)
		for i := range want {
			want[i] = map[string]float64{}
		}
		load := func(key string, found bool) {
			want[owner(key)]["get"]++
			want[owner("lease:"+key)]["set"]++
			if found {
				want[owner(key)]["set"]++
			}
			want[owner("lease:"+key)]["del"]++
		}
		load("product:7", true)
		load("product:"+unknown, false)
		load("product:"+unknown, false)
		load("product:8", true)
		t.Logf("owners: product:7 %d, lease %d; product:%s %d, lease %d; product:8 %d, lease %d",
			owner("product:7"), owner("lease:product:7"), unknown, owner("product:"+unknown),
			owner("lease:product:"+unknown), owner("product:8"), owner("lease:product:8"))
		for i, node := range cfg.State.Nodes {
			// Every (protocol, command) series on the node, before or after.
			cmds := map[[2]string]bool{{"binary", "get"}: true, {"binary", "set"}: true, {"binary", "del"}: true}
			for _, p := range []metricPage{before.state[i], after.state[i]} {
				for _, s := range p.series("strata_state_commands_total", nil) {
					cmds[[2]string{s.labels["protocol"], s.labels["command"]}] = true
				}
			}
			for pc := range cmds {
				l := map[string]string{"protocol": pc[0], "command": pc[1]}
				got := delta(before.state[i], after.state[i], "strata_state_commands_total", l)
				w := 0.0
				if pc[0] == "binary" {
					w = want[i][pc[1]]
				}
				switch {
				case pc == [2]string{"binary", "auth"}:
					// ≥ 0: a state client AUTHs each pool connection it
					// dials, on demand.
				case got != w:
					t.Errorf("%s (node %d): strata_state_commands_total%v grew by %v, want %v", node.ID, i, l, got, w)
				}
			}
		}
	})
}

// stackScrape is one /metrics page of each process of a stack.
type stackScrape struct {
	edge, lb, origin metricPage
	facades, state   []metricPage
}

func scrapeStack(t *testing.T, cfg *config.Stack) stackScrape {
	t.Helper()
	s := stackScrape{
		edge:   parseMetrics(t, scrape(t, cfg.Edge.Metrics)),
		lb:     parseMetrics(t, scrape(t, cfg.LB.Metrics)),
		origin: parseMetrics(t, scrape(t, cfg.Origin.Metrics)),
	}
	for _, n := range cfg.Facades.Nodes {
		s.facades = append(s.facades, parseMetrics(t, scrape(t, n.Metrics)))
	}
	for _, n := range cfg.State.Nodes {
		s.state = append(s.state, parseMetrics(t, scrape(t, n.Metrics)))
	}
	return s
}

// waitStack scrapes the stack until done says the scrape is complete, for
// up to 10 s, and returns the last scrape.
func waitStack(t *testing.T, cfg *config.Stack, done func(stackScrape) bool) stackScrape {
	t.Helper()
	for i := 0; ; i++ {
		s := scrapeStack(t, cfg)
		if done(s) || i == 50 {
			return s
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// sample is one line of a Prometheus text page.
type sample struct {
	name   string
	labels map[string]string
	value  float64
}

type metricPage []sample

// parseMetrics reads a Prometheus text exposition page. Label values may
// hold braces and commas (route="/api/products/{id}"), so labels are read
// as quoted strings, not split.
func parseMetrics(t *testing.T, page string) metricPage {
	t.Helper()
	var out metricPage
	for _, line := range strings.Split(page, "\n") {
		if line == "" || line[0] == '#' {
			continue
		}
		s, err := parseSample(line)
		if err != nil {
			t.Fatalf("metrics line %q: %v", line, err)
		}
		out = append(out, s)
	}
	return out
}

func parseSample(line string) (sample, error) {
	s := sample{labels: map[string]string{}}
	i := strings.IndexAny(line, "{ ")
	if i <= 0 {
		return s, errors.New("no name")
	}
	s.name, line = line[:i], line[i:]
	if line[0] == '{' {
		line = line[1:]
		for {
			line = strings.TrimLeft(line, ", ")
			if line == "" {
				return s, errors.New("unterminated labels")
			}
			if line[0] == '}' {
				line = line[1:]
				break
			}
			eq := strings.Index(line, `="`)
			if eq <= 0 {
				return s, errors.New("bad label")
			}
			key := line[:eq]
			line = line[eq+2:]
			var v strings.Builder
			j := 0
			for ; j < len(line) && line[j] != '"'; j++ {
				if line[j] == '\\' && j+1 < len(line) {
					j++
					switch line[j] {
					case 'n':
						v.WriteByte('\n')
					default:
						v.WriteByte(line[j])
					}
					continue
				}
				v.WriteByte(line[j])
			}
			if j == len(line) {
				return s, errors.New("unterminated label value")
			}
			s.labels[key] = v.String()
			line = line[j+1:]
		}
	}
	fields := strings.Fields(line)
	if len(fields) == 0 {
		return s, errors.New("no value")
	}
	v, err := strconv.ParseFloat(fields[0], 64)
	if err != nil {
		return s, err
	}
	s.value = v
	return s, nil
}

// series are the samples of name whose labels include match.
func (p metricPage) series(name string, match map[string]string) []sample {
	var out []sample
next:
	for _, s := range p {
		if s.name != name {
			continue
		}
		for k, v := range match {
			if s.labels[k] != v {
				continue next
			}
		}
		out = append(out, s)
	}
	return out
}

// sum adds the samples of name whose labels include match.
func (p metricPage) sum(name string, match map[string]string) float64 {
	var v float64
	for _, s := range p.series(name, match) {
		v += s.value
	}
	return v
}

// has reports whether the page holds the family name at all.
func (p metricPage) has(name string) bool {
	for _, s := range p {
		if s.name == name {
			return true
		}
	}
	return false
}

// delta is how much the samples of name matching match grew between two
// scrapes. A family missing from the later page fails the test: a delta of
// 0 from a family that stopped being exported must not pass as "nothing
// happened".
func delta(before, after metricPage, name string, match map[string]string) float64 {
	if !after.has(name) {
		return -1e9 // reported by the caller's comparison as a wrong delta
	}
	return after.sum(name, match) - before.sum(name, match)
}
