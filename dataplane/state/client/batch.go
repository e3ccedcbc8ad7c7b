package client

import (
	"context"
	"encoding/binary"
	"errors"
	"time"

	"github.com/strata-dp/strata/dataplane/state/wire"
)

// KV is one entry of MSet.
type KV struct{ Key, Value []byte }

// MGet returns the values of keys in order; a missing key gives nil. Keys
// are grouped per node and each group is one MGET frame.
func (c *Client) MGet(ctx context.Context, keys [][]byte) ([][]byte, error) {
	out := make([][]byte, len(keys))
	groups := c.group(len(keys), func(i int) []byte { return keys[i] })
	type sent struct {
		cn  *conn
		cl  *call
		idx []int
	}
	var all []sent
	for ni, idx := range groups {
		if len(idx) == 0 {
			continue
		}
		gk := make([][]byte, len(idx))
		for j, i := range idx {
			gk[j] = keys[i]
		}
		body := wire.AppendMGet(nil, 0, gk)[wire.HeaderSize:]
		cn, err := c.nodes[ni].pick(ctx)
		if err != nil {
			return nil, err
		}
		cl, err := cn.send(request{op: wire.OpMGet, value: body})
		if err != nil {
			return nil, err
		}
		all = append(all, sent{cn, cl, idx})
	}
	var firstErr error
	for _, s := range all {
		if err := s.cn.wait(ctx, s.cl); err != nil {
			if firstErr == nil {
				firstErr = err
			}
			continue
		}
		if err := statusErr(wire.OpMGet, s.cl.status); err != nil && firstErr == nil {
			firstErr = err
		}
		rest := s.cl.value
		for _, i := range s.idx {
			st, v, r, ok, _ := wire.NextMGetItem(rest)
			if !ok {
				if firstErr == nil {
					firstErr = ErrProtocol
				}
				break
			}
			rest = r
			if st == wire.StatusOK {
				out[i] = v
			}
		}
		release(s.cl)
	}
	return out, firstErr
}

// MSet stores every entry with the same ttl; each node's group is one
// MSET frame. It is not atomic across keys.
func (c *Client) MSet(ctx context.Context, kvs []KV, ttl time.Duration) error {
	groups := c.group(len(kvs), func(i int) []byte { return kvs[i].Key })
	type sent struct {
		cn *conn
		cl *call
	}
	var all []sent
	for ni, idx := range groups {
		if len(idx) == 0 {
			continue
		}
		g := make([]wire.KV, len(idx))
		for j, i := range idx {
			g[j] = wire.KV{Key: kvs[i].Key, Value: kvs[i].Value}
		}
		frame := wire.AppendMSet(nil, 0, g, ttlMs(ttl))
		cn, err := c.nodes[ni].pick(ctx)
		if err != nil {
			return err
		}
		cl, err := cn.send(request{op: wire.OpMSet, extras: frame[wire.HeaderSize : wire.HeaderSize+8], value: frame[wire.HeaderSize+8:]})
		if err != nil {
			return err
		}
		all = append(all, sent{cn, cl})
	}
	var errs []error
	for _, s := range all {
		if err := s.cn.wait(ctx, s.cl); err != nil {
			errs = append(errs, err)
			continue
		}
		errs = append(errs, statusErr(wire.OpMSet, s.cl.status))
		release(s.cl)
	}
	return errors.Join(errs...)
}

// group splits n keys into per-node index lists.
func (c *Client) group(n int, key func(int) []byte) [][]int {
	groups := make([][]int, len(c.nodes))
	for i := range n {
		ni := c.NodeFor(key(i))
		groups[ni] = append(groups[ni], i)
	}
	return groups
}

// Result is the outcome of one pipelined operation, filled by Exec.
type Result struct {
	Value   []byte  // Get
	Version Version // Get, Set
	N       int64   // Incr; 1 when Delete removed a key
	Err     error   // ErrNotFound for a missing Get, or the server's status
}

// Pipeline collects operations and sends each node's share in one write.
type Pipeline struct {
	c   *Client
	ops []pipeOp
}

type pipeOp struct {
	node int
	req  request
	res  *Result
}

// Pipeline starts an empty pipeline.
func (c *Client) Pipeline() *Pipeline { return &Pipeline{c: c} }

func (p *Pipeline) add(key []byte, r request) *Result {
	res := &Result{}
	p.ops = append(p.ops, pipeOp{node: p.c.NodeFor(key), req: r, res: res})
	return res
}

// Get queues a GET.
func (p *Pipeline) Get(key []byte) *Result { return p.add(key, request{op: wire.OpGet, key: key}) }

// Set queues a SET.
func (p *Pipeline) Set(key, value []byte, ttl time.Duration) *Result {
	x := binary.BigEndian.AppendUint64(nil, ttlMs(ttl))
	return p.add(key, request{op: wire.OpSet, extras: x, key: key, value: value})
}

// Delete queues a DELETE.
func (p *Pipeline) Delete(key []byte) *Result {
	return p.add(key, request{op: wire.OpDelete, key: key})
}

// Incr queues an INCR.
func (p *Pipeline) Incr(key []byte, delta int64) *Result {
	x := binary.BigEndian.AppendUint64(nil, uint64(delta))
	return p.add(key, request{op: wire.OpIncr, extras: x, key: key})
}

// Len is the number of queued operations.
func (p *Pipeline) Len() int { return len(p.ops) }

// Exec sends every queued operation and waits for all answers. It returns
// a transport or context error; per-operation outcomes are in the Results.
// The pipeline is empty afterwards.
func (p *Pipeline) Exec(ctx context.Context) error {
	defer func() { p.ops = p.ops[:0] }()
	if p.c.closed.Load() {
		return ErrClosed
	}
	type batch struct {
		cn    *conn
		ops   []pipeOp
		calls []*call
	}
	batches := make([]batch, len(p.c.nodes))
	for _, op := range p.ops {
		batches[op.node].ops = append(batches[op.node].ops, op)
	}
	for ni := range batches {
		b := &batches[ni]
		if len(b.ops) == 0 {
			continue
		}
		cn, err := p.c.nodes[ni].pick(ctx)
		if err != nil {
			return err
		}
		reqs := make([]request, len(b.ops))
		for i, op := range b.ops {
			reqs[i] = op.req
		}
		b.cn, b.calls = cn, make([]*call, len(reqs))
		if err := cn.sendMany(reqs, b.calls); err != nil {
			return err
		}
	}
	var firstErr error
	for _, b := range batches {
		for i, cl := range b.calls {
			if err := b.cn.wait(ctx, cl); err != nil {
				b.ops[i].res.Err = err
				if firstErr == nil {
					firstErr = err
				}
				continue
			}
			fill(b.ops[i].res, cl)
			release(cl)
		}
	}
	return firstErr
}

func fill(r *Result, cl *call) {
	r.Err = statusErr(cl.op, cl.status)
	switch cl.op {
	case wire.OpGet:
		r.Value, r.Version = cl.value, versionOf(cl)
		if r.Err == nil && r.Value == nil {
			r.Value = []byte{}
		}
	case wire.OpSet:
		r.Version = versionOf(cl)
	case wire.OpIncr:
		n, _ := wire.Uint64Extras(cl.extras[:cl.nExtras])
		r.N = int64(n)
	case wire.OpDelete:
		if r.Err == nil {
			r.N = 1
		} else if errors.Is(r.Err, ErrNotFound) {
			r.Err = nil
		}
	}
}
