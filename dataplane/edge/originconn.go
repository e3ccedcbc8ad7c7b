package edge

import (
	"context"
	"crypto/tls"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/valyala/fasthttp"
)

// Connections to the origin are tracked so that a failed request can tell
// whether it went out on a keep-alive connection that had carried a
// response before and then broke before a byte of this one arrived (the
// origin closed it while idle: one retry on another connection is the
// usual remedy) or on a fresh one (the origin itself refused, and a retry
// would only double the load on it). fasthttp's own retries know no such
// difference: they retried a GET five times against an origin that reset
// every connection.

// connTracker knows every open origin connection by its local address,
// and keeps failed ones until their failure has been looked up (or for a
// minute).
type connTracker struct {
	tlsConfig *tls.Config // nil for http origins

	mu    sync.Mutex
	conns map[netip.AddrPort]*trackedConn
}

type trackedConn struct {
	net.Conn
	t     *connTracker
	local netip.AddrPort
	tls   *tls.Conn // for Handshake, so fasthttp does not wrap it again

	read        atomic.Int64 // response bytes read, ever
	readAtWrite atomic.Int64 // read when the last request was written
	failed      atomic.Bool
	closedAt    atomic.Int64 // unix nanoseconds, once closed after a failure
	closeOnce   sync.Once
}

func newConnTracker(tlsConfig *tls.Config) *connTracker {
	return &connTracker{tlsConfig: tlsConfig, conns: map[netip.AddrPort]*trackedConn{}}
}

// dial is the HostClient's DialTimeout: fasthttp's own dialer, TLS done
// here (below the tracking, so that handshake bytes do not count as a
// response).
func (t *connTracker) dial(addr string, timeout time.Duration) (net.Conn, error) {
	var nc net.Conn
	var err error
	if timeout > 0 {
		nc, err = fasthttp.DialTimeout(addr, timeout)
	} else {
		nc, err = fasthttp.Dial(addr)
	}
	if err != nil {
		return nil, err
	}
	c := &trackedConn{Conn: nc, t: t}
	if t.tlsConfig != nil {
		tc := tls.Client(nc, t.tlsConfig)
		ctx, cancel := context.WithTimeout(context.Background(), max(timeout, time.Second))
		err := tc.HandshakeContext(ctx)
		cancel()
		if err != nil {
			_ = nc.Close()
			return nil, err
		}
		c.Conn, c.tls = tc, tc
	}
	if ap, ok := addrPort(nc.LocalAddr()); ok {
		c.local = ap
		now := time.Now().UnixNano()
		t.mu.Lock()
		for k, old := range t.conns {
			if at := old.closedAt.Load(); at != 0 && now-at > int64(time.Minute) {
				delete(t.conns, k)
			}
		}
		t.conns[ap] = c
		t.mu.Unlock()
	}
	return c, nil
}

// brokeWhenReused reports whether the request that failed on the
// connection with local address la had been written to a connection that
// carried a response before, and nothing of its own response arrived.
func (t *connTracker) brokeWhenReused(la net.Addr) bool {
	ap, ok := addrPort(la)
	if !ok {
		return false // never connected
	}
	t.mu.Lock()
	c := t.conns[ap]
	if c != nil && c.closedAt.Load() != 0 {
		delete(t.conns, ap)
	}
	t.mu.Unlock()
	if c == nil {
		return false
	}
	at := c.readAtWrite.Load()
	return at > 0 && c.read.Load() == at
}

func addrPort(a net.Addr) (netip.AddrPort, bool) {
	ta, ok := a.(*net.TCPAddr)
	if !ok || ta == nil {
		return netip.AddrPort{}, false
	}
	return ta.AddrPort(), true
}

func (c *trackedConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.read.Add(int64(n))
	if err != nil {
		c.failed.Store(true)
	}
	return n, err
}

// Write marks where a request starts: HTTP/1.1 without pipelining writes a
// request only after the previous response was read whole.
func (c *trackedConn) Write(p []byte) (int, error) {
	c.readAtWrite.Store(c.read.Load())
	n, err := c.Conn.Write(p)
	if err != nil {
		c.failed.Store(true)
	}
	return n, err
}

func (c *trackedConn) Handshake() error {
	if c.tls != nil {
		return c.tls.Handshake()
	}
	return nil
}

func (c *trackedConn) Close() error {
	err := c.Conn.Close()
	c.closeOnce.Do(func() {
		if !c.local.IsValid() {
			return
		}
		c.t.mu.Lock()
		if c.failed.Load() {
			c.closedAt.Store(time.Now().UnixNano()) // kept for brokeWhenReused
		} else if c.t.conns[c.local] == c {
			delete(c.t.conns, c.local)
		}
		c.t.mu.Unlock()
	})
	return err
}
