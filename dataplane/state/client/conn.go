package client

import (
	"bufio"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"sync"
	"time"

	"github.com/strata-dp/strata/dataplane/state/wire"
)

// call is one request in flight.
type call struct {
	id        uint32
	op        wire.Opcode
	done      chan struct{}
	status    wire.Status
	extras    [wire.GetExtrasLen]byte
	nExtras   int
	value     []byte
	err       error
	abandoned bool // guarded by conn.mu
}

var callPool = sync.Pool{New: func() any { return &call{done: make(chan struct{}, 1)} }}

func getCall() *call {
	cl := callPool.Get().(*call)
	cl.status, cl.nExtras, cl.value, cl.err, cl.abandoned = 0, 0, nil, nil, false
	return cl
}

// request is what a caller asks a connection to send.
type request struct {
	op     wire.Opcode
	flags  uint16
	extras []byte
	key    []byte
	value  []byte
}

// conn is one multiplexed connection to a node.
type conn struct {
	nc       net.Conn
	maxFrame int

	mu      sync.Mutex
	wbuf    []byte
	pending []*call
	nextID  uint32
	err     error // set once the connection failed
	// flushing is set while one caller writes wbuf out for everyone: the
	// first caller to queue a request becomes the flusher, later callers
	// only append, and the flusher keeps writing until wbuf stays empty.
	flushing bool
	spare    []byte // the flusher's second buffer
}

func dialConn(ctx context.Context, addr string, o *Options) (*conn, error) {
	d := net.Dialer{Timeout: o.DialTimeout, KeepAlive: 30 * time.Second}
	nc, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("state: dial %s: %w", addr, err)
	}
	c := &conn{
		nc: nc, maxFrame: o.MaxFrame,
		wbuf: make([]byte, 0, 4096),
	}
	go c.readLoop()
	if len(o.Secret) > 0 {
		cl, err := c.send(request{op: wire.OpAuth, value: o.Secret})
		if err == nil {
			err = c.wait(ctx, cl)
		}
		if err == nil {
			err = statusErr(wire.OpAuth, cl.status)
			release(cl)
		}
		if err != nil {
			c.fail(err)
			return nil, fmt.Errorf("state: auth %s: %w", addr, err)
		}
	}
	return c, nil
}

// send queues r and writes it out unless another caller is writing.
func (c *conn) send(r request) (*call, error) {
	if err := c.check(r); err != nil {
		return nil, err
	}
	cl := getCall()
	cl.op = r.op
	c.mu.Lock()
	if c.err != nil {
		err := c.err
		c.mu.Unlock()
		callPool.Put(cl)
		return nil, err
	}
	c.nextID++
	cl.id = c.nextID
	c.wbuf = wire.AppendFrame(c.wbuf, wire.Header{Opcode: r.op, Flags: r.flags, ID: cl.id}, r.extras, r.key, r.value)
	c.pending = append(c.pending, cl)
	c.flushLocked()
	return cl, nil
}

// sendMany queues several requests under one lock, so they go out in one
// write: the pipeline path.
func (c *conn) sendMany(rs []request, calls []*call) error {
	c.mu.Lock()
	if c.err != nil {
		err := c.err
		c.mu.Unlock()
		return err
	}
	for _, r := range rs {
		if err := c.check(r); err != nil {
			c.mu.Unlock()
			return err
		}
	}
	for i, r := range rs {
		cl := getCall()
		cl.op = r.op
		c.nextID++
		cl.id = c.nextID
		c.wbuf = wire.AppendFrame(c.wbuf, wire.Header{Opcode: r.op, Flags: r.flags, ID: cl.id}, r.extras, r.key, r.value)
		c.pending = append(c.pending, cl)
		calls[i] = cl
	}
	c.flushLocked()
	return nil
}

// check refuses a request the server would refuse by closing the
// connection (and failing every other call on it).
func (c *conn) check(r request) error {
	if n := len(r.extras) + len(r.key) + len(r.value); n > c.maxFrame {
		return fmt.Errorf("%w: request body of %d bytes, limit %d", ErrTooLarge, n, c.maxFrame)
	}
	if len(r.key) > 1<<16-1 {
		return fmt.Errorf("%w: key of %d bytes", ErrTooLarge, len(r.key))
	}
	return nil
}

// wait blocks until cl is answered or ctx ends; a call abandoned by ctx is
// dropped by the reader when its response arrives.
func (c *conn) wait(ctx context.Context, cl *call) error {
	select {
	case <-cl.done:
		return cl.err
	case <-ctx.Done():
		c.mu.Lock()
		select {
		case <-cl.done: // answered meanwhile
			c.mu.Unlock()
			return cl.err
		default:
		}
		cl.abandoned = true
		c.mu.Unlock()
		return ctx.Err()
	}
}

func release(cl *call) { callPool.Put(cl) }

// flushLocked is called with c.mu held and releases it. Unless another
// caller is already flushing, it writes wbuf out, again and again while
// other callers keep appending, so concurrent requests share writes
// without a writer goroutine to hand them to.
func (c *conn) flushLocked() {
	if c.flushing {
		c.mu.Unlock()
		return
	}
	c.flushing = true
	for len(c.wbuf) > 0 && c.err == nil {
		buf := c.wbuf
		c.wbuf = c.spare[:0]
		c.mu.Unlock()
		_, err := c.nc.Write(buf)
		if err != nil {
			c.fail(fmt.Errorf("state: write: %w", err))
		}
		c.mu.Lock()
		if cap(buf) <= 1<<20 {
			c.spare = buf[:0]
		} else {
			c.spare = nil
		}
	}
	c.flushing = false
	c.mu.Unlock()
}

func (c *conn) readLoop() {
	br := bufio.NewReaderSize(c.nc, 64<<10)
	var hdr [wire.HeaderSize]byte
	var body []byte
	for {
		if _, err := io.ReadFull(br, hdr[:]); err != nil {
			c.fail(fmt.Errorf("state: read: %w", err))
			return
		}
		n := int(binary.BigEndian.Uint32(hdr[16:]))
		if n > c.maxFrame {
			c.fail(fmt.Errorf("%w: response of %d bytes", ErrProtocol, n))
			return
		}
		body = append(body[:0], hdr[:]...)
		body = append(body, make([]byte, n)...)
		if _, err := io.ReadFull(br, body[wire.HeaderSize:]); err != nil {
			c.fail(fmt.Errorf("state: read: %w", err))
			return
		}
		f, _, err := wire.Decode(body, c.maxFrame)
		if err != nil {
			c.fail(fmt.Errorf("%w: %v", ErrProtocol, err))
			return
		}
		c.mu.Lock()
		if len(c.pending) == 0 || c.pending[0].id != f.ID {
			c.mu.Unlock()
			c.fail(fmt.Errorf("%w: response id %d does not match the oldest request", ErrProtocol, f.ID))
			return
		}
		cl := c.pending[0]
		c.pending[0] = nil
		c.pending = c.pending[1:]
		if len(c.pending) == 0 {
			c.pending = c.pending[:0:0]
		}
		abandoned := cl.abandoned
		if !abandoned {
			cl.status = f.Status
			cl.nExtras = copy(cl.extras[:], f.Extras)
			if len(f.Value) > 0 {
				cl.value = append([]byte(nil), f.Value...)
			}
			cl.done <- struct{}{}
		}
		c.mu.Unlock()
		if abandoned {
			callPool.Put(cl)
		}
		if cap(body) > 1<<20 {
			body = nil
		}
	}
}

// fail closes the connection and fails every call in flight.
func (c *conn) fail(err error) {
	c.mu.Lock()
	if c.err != nil {
		c.mu.Unlock()
		return
	}
	c.err = err
	pending := c.pending
	c.pending = nil
	for _, cl := range pending {
		if !cl.abandoned {
			cl.err = err
			cl.done <- struct{}{}
		}
	}
	c.mu.Unlock()
	_ = c.nc.Close()
}

func (c *conn) broken() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err != nil
}
