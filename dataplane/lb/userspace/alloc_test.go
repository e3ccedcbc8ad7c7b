package userspace

import (
	"io"
	"net"
	"net/netip"
	"testing"

	"github.com/strata-dp/strata/dataplane/lb"
)

// echoBackend echoes with a fixed buffer, so it allocates nothing per
// message and the measurement below sees only the proxy.
func echoBackend(t testing.TB) netip.AddrPort {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				buf := make([]byte, 64<<10)
				for {
					n, err := c.Read(buf)
					if err != nil {
						return
					}
					if _, err := c.Write(buf[:n]); err != nil {
						return
					}
				}
			}()
		}
	}()
	if tt, ok := t.(*testing.T); ok {
		tt.Cleanup(func() { ln.Close() })
	}
	return ln.Addr().(*net.TCPAddr).AddrPort()
}

// TestForwardingAllocatesNothing proves the steady-state data path (a
// read on one side written to the other, both ways) allocates nothing:
// the whole process is measured, proxy event loops included.
func TestForwardingAllocatesNothing(t *testing.T) {
	_, vip := startProxy(t, Options{}, echoBackend(t))
	c, err := net.Dial("tcp", vip.String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	msg := make([]byte, 512)
	buf := make([]byte, 512)
	roundTrip := func() {
		if _, err := c.Write(msg); err != nil {
			t.Fatal(err)
		}
		if _, err := io.ReadFull(c, buf); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < 100; i++ {
		roundTrip() // warm up: backend connected, buffers sized
	}
	if avg := testing.AllocsPerRun(2000, roundTrip); avg > 0.05 {
		t.Fatalf("%.3f allocations per proxied round trip, want 0", avg)
	}
}

func TestPickAllocatesNothing(t *testing.T) {
	tb, err := newTable(corpusService())
	if err != nil {
		t.Fatal(err)
	}
	src, dst := netip.MustParseAddr("198.18.0.10"), netip.MustParseAddr("198.18.1.1")
	var avoid [maxAttempts]netip.AddrPort
	if avg := testing.AllocsPerRun(1000, func() {
		tb.pick(tb.flowKey(flowHash(src, dst, 40000, 80, lb.TCP)), 1, &avoid)
	}); avg != 0 {
		t.Fatalf("%v allocations per pick", avg)
	}
}

func BenchmarkProxyRoundTrip(b *testing.B) {
	p := New(Options{})
	vip := freeAddrB(b)
	if err := p.Apply(b.Context(), config(vip, echoBackend(b))); err != nil {
		b.Fatal(err)
	}
	defer p.Shutdown(b.Context())
	c, err := net.Dial("tcp", vip.String())
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	msg, buf := make([]byte, 512), make([]byte, 512)
	b.ReportAllocs()
	b.SetBytes(512)
	for b.Loop() {
		c.Write(msg)
		io.ReadFull(c, buf)
	}
}

func freeAddrB(b *testing.B) netip.AddrPort {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).AddrPort()
}
