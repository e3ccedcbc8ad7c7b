package httpserve

import (
	"bytes"
	"container/list"
	"io"
	"net"
	"net/http"
	"net/netip"
	"sync"
)

// conn is an accepted connection under admission (admit.go).
type conn struct {
	net.Conn
	a *admission

	// Touched only by the goroutine that serves the connection, which
	// reads it; net/http's background reads start after a request.
	started, spoke, refused bool

	// Guarded by a.mu.
	phase phase
	state http.ConnState
	key   netip.Addr
	addr  *addrConns // nil when no per-address bound applies
	// Its elements on the lists of its phase and state (silent, heads or
	// idle), when it is on them.
	elem, addrElem *list.Element
}

// headEnd ends a request head. net/http also accepts bare LFs, which
// clients do not send: such a head is admitted as still arriving.
var headEnd = []byte("\r\n\r\n")

// Read admits the connection with the first bytes it reads; a connection
// shed before or refused then reads EOF, which net/http closes without an
// answer.
func (c *conn) Read(p []byte) (int, error) {
	if !c.started {
		c.started = true
		if !c.a.start(c) {
			c.spoke, c.refused = true, true
		}
	}
	if c.spoke {
		if c.refused {
			return 0, io.EOF
		}
		return c.Conn.Read(p)
	}
	n, err := c.Conn.Read(p)
	if n == 0 {
		return n, err
	}
	c.spoke = true
	if !c.a.admit(c, bytes.Contains(p[:n], headEnd)) {
		c.refused = true
		_ = c.Conn.Close()
		return 0, io.EOF
	}
	return n, err
}

// CloseWrite is what net/http calls before it lingers up to half a second
// after an error answer or an unread body, so that the client can read the
// answer before the close: from here the connection is the first to shed.
func (c *conn) CloseWrite() error {
	c.a.closeWrite(c)
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}

// Close closes the connection and frees what it holds.
func (c *conn) Close() error {
	err := c.Conn.Close()
	c.a.mu.Lock()
	c.a.releaseLocked(c)
	c.a.mu.Unlock()
	return err
}

// listener accepts while fewer than cap(a.pending) of its connections are
// waiting for their first read.
type listener struct {
	net.Listener
	a         *admission
	done      chan struct{}
	closeOnce sync.Once
}

func newListener(ln net.Listener, a *admission) *listener {
	return &listener{Listener: ln, a: a, done: make(chan struct{})}
}

func (l *listener) Accept() (net.Conn, error) {
	if l.a.pending != nil {
		select {
		case l.a.pending <- struct{}{}:
		case <-l.done:
			return nil, net.ErrClosed
		}
	}
	nc, err := l.Listener.Accept()
	if err != nil {
		if l.a.pending != nil {
			<-l.a.pending
		}
		return nil, err
	}
	c := &conn{Conn: nc, a: l.a}
	l.a.accepted(c)
	return c, nil
}

func (l *listener) Close() error {
	l.closeOnce.Do(func() { close(l.done) })
	return l.Listener.Close()
}
