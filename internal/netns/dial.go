package netns

import (
	"context"
	"net"
	"runtime"

	vnetns "github.com/vishvananda/netns"
)

// Dialer creates sockets inside a namespace: one goroutine, locked to an OS
// thread that lives in ns, makes every socket; the connections work from any
// goroutine afterwards. Close stops it; the thread is retired, never reused.
type Dialer struct {
	reqs chan dialReq
	done chan struct{}
}

type dialReq struct {
	ctx           context.Context
	network, addr string
	res           chan dialRes
}

type dialRes struct {
	c   net.Conn
	err error
}

// NewDialer starts a dialer for ns.
func NewDialer(ns string) (*Dialer, error) {
	d := &Dialer{reqs: make(chan dialReq), done: make(chan struct{})}
	ready := make(chan error, 1)
	go func() {
		// Never unlocked: the thread ends with the goroutine.
		runtime.LockOSThread()
		h, err := vnetns.GetFromName(ns)
		if err == nil {
			err = vnetns.Set(h)
			_ = h.Close()
		}
		ready <- err
		if err != nil {
			return
		}
		var nd net.Dialer
		for {
			select {
			case <-d.done:
				return
			case r := <-d.reqs:
				c, err := nd.DialContext(r.ctx, r.network, r.addr)
				r.res <- dialRes{c, err}
			}
		}
	}()
	if err := <-ready; err != nil {
		return nil, err
	}
	return d, nil
}

// DialContext has the signature of net.Dialer.DialContext, for
// http.Transport.
func (d *Dialer) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	r := dialReq{ctx: ctx, network: network, addr: addr, res: make(chan dialRes, 1)}
	select {
	case d.reqs <- r:
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-d.done:
		return nil, net.ErrClosed
	}
	res := <-r.res
	return res.c, res.err
}

// Close stops the dialer.
func (d *Dialer) Close() { close(d.done) }
