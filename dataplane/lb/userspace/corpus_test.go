package userspace

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/strata-dp/strata/dataplane/lb"
)

var update = flag.Bool("update", false, "rewrite golden files")

// corpusPath is shared with the XDP tests: both modes must send every flow
// in it to the backend it names.
const corpusPath = "../testdata/flows.golden"

type corpusFlow struct {
	src, dst netip.AddrPort
	backend  netip.AddrPort
}

// readCorpus parses the service header ("service VIP" and "backend
// ADDR:PORT WEIGHT" lines) and the flows ("tcp SRC DST BACKEND").
func readCorpus(t *testing.T, r io.Reader) (lb.Service, []corpusFlow) {
	t.Helper()
	svc := lb.Service{Name: "corpus", Proto: lb.TCP}
	var flows []corpusFlow
	sc := bufio.NewScanner(r)
	for line := 1; sc.Scan(); line++ {
		f := strings.Fields(sc.Text())
		if len(f) == 0 || strings.HasPrefix(f[0], "#") {
			continue
		}
		var err error
		switch {
		case f[0] == "service" && len(f) == 2:
			svc.VIP, err = netip.ParseAddrPort(f[1])
		case f[0] == "backend" && len(f) == 3:
			var w uint64
			var ap netip.AddrPort
			ap, err = netip.ParseAddrPort(f[1])
			if err == nil {
				w, err = strconv.ParseUint(f[2], 10, 32)
			}
			svc.Backends = append(svc.Backends, lb.Backend{Addr: ap, Weight: uint32(w)})
		case f[0] == "tcp" && len(f) == 4:
			var fl corpusFlow
			if fl.src, err = netip.ParseAddrPort(f[1]); err == nil {
				if fl.dst, err = netip.ParseAddrPort(f[2]); err == nil {
					fl.backend, err = netip.ParseAddrPort(f[3])
				}
			}
			flows = append(flows, fl)
		default:
			err = fmt.Errorf("unknown line")
		}
		if err != nil {
			t.Fatalf("%s:%d: %v", corpusPath, line, err)
		}
	}
	return svc, flows
}

func corpusService() lb.Service {
	svc := lb.Service{Name: "corpus", Proto: lb.TCP, VIP: netip.MustParseAddrPort("198.18.1.1:80")}
	for i, w := range []uint32{1, 1, 2, 1} {
		svc.Backends = append(svc.Backends, lb.Backend{
			Addr: netip.AddrPortFrom(netip.AddrFrom4([4]byte{198, 18, 0, byte(101 + i)}), 80), Weight: w})
	}
	return svc
}

func writeCorpus(t *testing.T) {
	t.Helper()
	svc := corpusService()
	tb, err := newTable(svc)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	b.WriteString("# Flow corpus shared by the userspace and XDP tests: each tcp line is\n")
	b.WriteString("# SRC DST and the backend both modes must choose (weighted Maglev over\n")
	b.WriteString("# flowhash.Hash). Regenerate: go test ./dataplane/lb/userspace -run Corpus -update\n")
	fmt.Fprintf(&b, "service %s\n", svc.VIP)
	for _, be := range svc.Backends {
		fmt.Fprintf(&b, "backend %s %d\n", be.Addr, be.Weight)
	}
	for i := 0; i < 256; i++ {
		src := netip.AddrPortFrom(netip.AddrFrom4([4]byte{198, 18, byte(i % 4), byte(10 + i%200)}), uint16(32768+i*97))
		var avoid [maxAttempts]netip.AddrPort
		got, _ := tb.pick(tb.flowKey(flowHash(src.Addr(), svc.VIP.Addr(), src.Port(), svc.VIP.Port(), lb.TCP)), 0, &avoid)
		fmt.Fprintf(&b, "tcp %s %s %s\n", src, svc.VIP, got)
	}
	if err := os.WriteFile(corpusPath, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestFlowCorpus runs the shared corpus through the userspace choice path:
// the table a new connection consults, attempt 0.
func TestFlowCorpus(t *testing.T) {
	if *update {
		writeCorpus(t)
	}
	f, err := os.Open(corpusPath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	svc, flows := readCorpus(t, f)
	tb, err := newTable(svc)
	if err != nil {
		t.Fatal(err)
	}
	if len(flows) < 100 {
		t.Fatalf("corpus holds %d flows, want at least 100", len(flows))
	}
	for _, fl := range flows {
		var avoid [maxAttempts]netip.AddrPort
		h := flowHash(fl.src.Addr(), fl.dst.Addr(), fl.src.Port(), fl.dst.Port(), lb.TCP)
		if got, _ := tb.pick(tb.flowKey(h), 0, &avoid); got != fl.backend {
			t.Errorf("flow %s -> %s: userspace picks %s, corpus says %s", fl.src, fl.dst, got, fl.backend)
		}
	}
}

// TestProxyChoiceMatchesTable checks real connections: each one lands on
// the backend that the shared table gives for its actual 5-tuple.
func TestProxyChoiceMatchesTable(t *testing.T) {
	ids := map[netip.AddrPort]string{}
	var backends []netip.AddrPort
	for i := 0; i < 4; i++ {
		id := fmt.Sprintf("b%d", i)
		b := whoamiBackend(t, id)
		ids[b] = id
		backends = append(backends, b)
	}
	p, vip := startProxy(t, Options{}, backends...)
	tb := p.snapshot()[0].table.Load()
	for i := 0; i < 40; i++ {
		var local netip.AddrPort
		tr := &http.Transport{DisableKeepAlives: true}
		tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
			c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
			if err == nil {
				local = c.LocalAddr().(*net.TCPAddr).AddrPort()
			}
			return c, err
		}
		c := &http.Client{Transport: tr, Timeout: 5 * time.Second}
		resp, err := c.Get("http://" + vip.String() + "/whoami")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		var avoid [maxAttempts]netip.AddrPort
		want, _ := tb.pick(flowHash(local.Addr(), vip.Addr(), local.Port(), vip.Port(), lb.TCP), 0, &avoid)
		if string(body) != ids[want] {
			t.Fatalf("flow %s -> %s answered by %s, table says %s", local, vip, body, ids[want])
		}
	}
}
