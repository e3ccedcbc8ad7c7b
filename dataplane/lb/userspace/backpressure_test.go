package userspace

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// The stalled-peer tests move streamTotal bytes through a session whose
// receiver stops reading. Without backpressure the proxy reads all of it
// into memory; with it, the sender blocks once the kernel's socket buffers
// and the proxy's bound are full. The kernel's share depends on the host:
// the proxy's receiving socket may grow to tcp_rmem's maximum (32 MiB on
// some hosts, a few MiB on others), the senders' to tcp_wmem's. So
// stalledBound is what the kernel may hold plus 8 MiB, and streamTotal
// twice that (at least 64 MiB), so that taking everything in still fails;
// the heap bound is the proxy's own share, whatever the host.
var (
	stalledBound = kernelBuffered() + 8<<20
	streamTotal  = max(64<<20, 2*stalledBound)
)

const heapBound = 24 << 20

// kernelBuffered is the most a loopback TCP session's kernel buffers can
// hold between a sender and a receiver that stopped reading, through the
// proxy: two receive and two send buffers at their autotuning maxima.
func kernelBuffered() int64 {
	return 2*sysctlMax("/proc/sys/net/ipv4/tcp_rmem", 6<<20) + 2*sysctlMax("/proc/sys/net/ipv4/tcp_wmem", 4<<20)
}

// sysctlMax reads the third field (the maximum) of a tcp_rmem-style
// sysctl, or def when it cannot.
func sysctlMax(path string, def int64) int64 {
	b, err := os.ReadFile(path)
	if err != nil {
		return def
	}
	f := strings.Fields(string(b))
	if len(f) != 3 {
		return def
	}
	n, err := strconv.ParseInt(f[2], 10, 64)
	if err != nil {
		return def
	}
	return n
}

// pattern is the byte at offset i of every test stream, so the receiver
// can check order and content without holding a copy.
func pattern(i int64) byte { return byte(i*7 + i>>13) }

// writeStream writes n pattern bytes to c, counting them in sent.
func writeStream(c net.Conn, n int64, sent *atomic.Int64) error {
	buf := make([]byte, 64<<10)
	for off := int64(0); off < n; {
		k := min(int64(len(buf)), n-off)
		for i := range k {
			buf[i] = pattern(off + i)
		}
		m, err := c.Write(buf[:k])
		off += int64(m)
		sent.Add(int64(m))
		if err != nil {
			return err
		}
	}
	return nil
}

// readStream reads n pattern bytes from r and checks them.
func readStream(r io.Reader, n int64) error {
	br := bufio.NewReaderSize(r, 64<<10)
	for off := int64(0); off < n; off++ {
		b, err := br.ReadByte()
		if err != nil {
			return fmt.Errorf("after %d of %d bytes: %w", off, n, err)
		}
		if b != pattern(off) {
			return fmt.Errorf("byte %d is %d, want %d", off, b, pattern(off))
		}
	}
	return nil
}

// waitStalled waits until sent stops growing (the sender is blocked) and
// returns it; on a proxy without backpressure that is only when all of the
// stream has been taken in.
func waitStalled(sent *atomic.Int64) int64 {
	last, since := int64(-1), time.Now()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if n := sent.Load(); n != last {
			last, since = n, time.Now()
		} else if time.Since(since) > 400*time.Millisecond {
			break
		}
	}
	return last
}

func heapInuse() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapInuse
}

// oneConnBackend accepts one connection and hands it to serve.
func oneConnBackend(t *testing.T, serve func(net.Conn)) netip.AddrPort {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		serve(c)
	}()
	return ln.Addr().(*net.TCPAddr).AddrPort()
}

// TestProxyBackpressureStalledClient: a backend streams a large response
// to a client that stops reading. The proxy must stop reading the backend
// (bounded memory), and deliver every byte in order once the client reads.
func TestProxyBackpressureStalledClient(t *testing.T) {
	var sent atomic.Int64
	backend := oneConnBackend(t, func(c net.Conn) {
		c.Read(make([]byte, 1)) // the request
		writeStream(c, streamTotal, &sent)
	})
	p, vip := startProxy(t, Options{}, backend)
	before := heapInuse()
	c, err := net.Dial("tcp", vip.String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.(*net.TCPConn).SetReadBuffer(64 << 10)
	c.Write([]byte{1})
	stalled := waitStalled(&sent)
	grown := int64(heapInuse()) - int64(before)
	t.Logf("backend sent %d MiB while the client read nothing; proxy heap grew %d KiB", stalled>>20, grown>>10)
	if stalled > stalledBound {
		t.Errorf("the proxy took in %d MiB from the backend for a client that reads nothing, want at most %d MiB", stalled>>20, stalledBound>>20)
	}
	if grown > heapBound {
		t.Errorf("heap grew %d MiB, want at most %d MiB", grown>>20, heapBound>>20)
	}
	checkPaused(t, p)
	c.SetReadDeadline(time.Now().Add(30 * time.Second))
	if err := readStream(c, streamTotal); err != nil {
		t.Fatal(err)
	}
}

// TestProxyBackpressureStalledBackend: a client uploads to a backend that
// does not read. The proxy must stop reading the client, and deliver every
// byte once the backend reads.
func TestProxyBackpressureStalledBackend(t *testing.T) {
	release := make(chan struct{})
	result := make(chan error, 1)
	backend := oneConnBackend(t, func(c net.Conn) {
		c.(*net.TCPConn).SetReadBuffer(64 << 10)
		<-release
		c.SetReadDeadline(time.Now().Add(30 * time.Second))
		result <- readStream(c, streamTotal)
	})
	p, vip := startProxy(t, Options{}, backend)
	before := heapInuse()
	c, err := net.Dial("tcp", vip.String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var sent atomic.Int64
	go writeStream(c, streamTotal, &sent)
	stalled := waitStalled(&sent)
	grown := int64(heapInuse()) - int64(before)
	t.Logf("client sent %d MiB while the backend read nothing; proxy heap grew %d KiB", stalled>>20, grown>>10)
	if stalled > stalledBound {
		t.Errorf("the proxy took in %d MiB from the client for a backend that reads nothing, want at most %d MiB", stalled>>20, stalledBound>>20)
	}
	if grown > heapBound {
		t.Errorf("heap grew %d MiB, want at most %d MiB", grown>>20, heapBound>>20)
	}
	checkPaused(t, p)
	close(release)
	if err := <-result; err != nil {
		t.Fatal(err)
	}
}

// checkPaused fails if backpressure did not pause a side on the loop, or if
// gnet's poller refused (a gnet layout change, see gnetreg.go).
func checkPaused(t *testing.T, p *Proxy) {
	t.Helper()
	m := p.snapshot()[0].m
	if m.pauseFailed.Load() != 0 {
		t.Errorf("%d pauses refused by the poller: gnet's eventloop layout no longer matches gnetreg.go", m.pauseFailed.Load())
	}
	if m.paused.Load() == 0 {
		t.Error("no side was paused")
	}
}
