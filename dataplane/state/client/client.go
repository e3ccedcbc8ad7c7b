package client

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/strata-dp/strata/dataplane/state/slot"
	"github.com/strata-dp/strata/dataplane/state/wire"
)

// Options tune a Client; the zero value is usable.
type Options struct {
	// PoolSize is the number of connections per node (default 4).
	PoolSize int
	// DialTimeout bounds one connection attempt (default 2s).
	DialTimeout time.Duration
	// Secret is sent with AUTH on every new connection when set.
	Secret []byte
	// MaxFrame bounds a response body (default wire.DefaultMaxBody).
	MaxFrame int
}

// Version is the version of a stored value (see docs/PROTOCOL.md).
type Version struct {
	Epoch uint32
	Seq   uint64
}

// Item is a value with its header.
type Item struct {
	Value   []byte
	Version Version
	TTL     time.Duration // -1: no expiry
}

// Client talks to one or more state nodes. It is safe for concurrent use.
type Client struct {
	opts   Options
	nodes  []*node
	closed atomic.Bool
}

type node struct {
	addr  string
	opts  *Options
	next  atomic.Uint32
	mu    sync.Mutex
	conns []*conn
}

// Dial connects to every node in addrs (one connection each now; the rest
// of the pool is dialled on demand) and returns a client.
func Dial(ctx context.Context, addrs []string, opts Options) (*Client, error) {
	if len(addrs) == 0 {
		return nil, errors.New("state: no node addresses")
	}
	if opts.PoolSize <= 0 {
		opts.PoolSize = 4
	}
	if opts.DialTimeout <= 0 {
		opts.DialTimeout = 2 * time.Second
	}
	if opts.MaxFrame <= 0 {
		opts.MaxFrame = wire.DefaultMaxBody
	}
	c := &Client{opts: opts}
	for _, a := range addrs {
		n := &node{addr: a, opts: &c.opts, conns: make([]*conn, opts.PoolSize)}
		c.nodes = append(c.nodes, n)
		if _, err := n.conn(ctx, 0); err != nil {
			_ = c.Close()
			return nil, err
		}
	}
	return c, nil
}

// Close closes every connection; calls in flight fail with ErrClosed.
func (c *Client) Close() error {
	if c.closed.Swap(true) {
		return nil
	}
	for _, n := range c.nodes {
		n.mu.Lock()
		for _, cn := range n.conns {
			if cn != nil {
				cn.fail(ErrClosed)
			}
		}
		n.mu.Unlock()
	}
	return nil
}

// Addrs returns the node addresses in slot-range order.
func (c *Client) Addrs() []string {
	out := make([]string, len(c.nodes))
	for i, n := range c.nodes {
		out[i] = n.addr
	}
	return out
}

// NodeFor returns the index of the node that owns key.
func (c *Client) NodeFor(key []byte) int {
	if len(c.nodes) == 1 {
		return 0
	}
	return slot.Owner(slot.Of(key), len(c.nodes))
}

// conn returns pool slot i of n, dialling it if absent or broken.
func (n *node) conn(ctx context.Context, i int) (*conn, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	cn := n.conns[i]
	if cn != nil && !cn.broken() {
		return cn, nil
	}
	cn, err := dialConn(ctx, n.addr, n.opts)
	if err != nil {
		return nil, err
	}
	n.conns[i] = cn
	return cn, nil
}

func (n *node) pick(ctx context.Context) (*conn, error) {
	i := int(n.next.Add(1)) % len(n.conns)
	return n.conn(ctx, i)
}

// do sends one request to the node owning key and waits for its answer.
// The caller releases the returned call.
func (c *Client) do(ctx context.Context, key []byte, r request) (*conn, *call, error) {
	if c.closed.Load() {
		return nil, nil, ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	cn, err := c.nodes[c.NodeFor(key)].pick(ctx)
	if err != nil {
		return nil, nil, err
	}
	cl, err := cn.send(r)
	if err != nil {
		return nil, nil, err
	}
	if err := cn.wait(ctx, cl); err != nil {
		return nil, nil, err
	}
	return cn, cl, nil
}

func ttlMs(ttl time.Duration) uint64 {
	if ttl <= 0 {
		return 0
	}
	return uint64(max(ttl.Milliseconds(), 1))
}

func versionOf(cl *call) Version {
	e, s, _ := wire.VersionExtras(cl.extras[:cl.nExtras])
	return Version{Epoch: e, Seq: s}
}

// Ping round-trips to every node.
func (c *Client) Ping(ctx context.Context) error {
	for _, n := range c.nodes {
		cn, err := n.pick(ctx)
		if err != nil {
			return err
		}
		cl, err := cn.send(request{op: wire.OpPing})
		if err != nil {
			return err
		}
		if err := cn.wait(ctx, cl); err != nil {
			return err
		}
		err = statusErr(wire.OpPing, cl.status)
		release(cl)
		if err != nil {
			return fmt.Errorf("state: ping %s: %w", n.addr, err)
		}
	}
	return nil
}
