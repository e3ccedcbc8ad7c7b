package server

import (
	"context"
	"fmt"
	"net"
	"os"
	"sync/atomic"
	"time"

	"github.com/panjf2000/gnet/v2"
	"golang.org/x/sys/unix"
)

// Busy polling keeps an event loop awake for a short while after it served
// a client, instead of letting it sleep in epoll_wait at once.
//
// Why: on loopback, and on any host where clients and the server share the
// CPUs, a request's receive processing runs in the sending client's system
// call, and so does waking the server's thread when it sleeps. An efficient
// server sleeps often, so its clients pay that wake-up (an inter-processor
// interrupt and a scheduler pass) on many requests: profiled under
// redis-benchmark -P 16, it was 9.7% of the client's processor time against
// Strata and 5.7% against Redis, whose loop is busier. A loop that is still
// polling when the next request arrives costs its client nothing to wake.
// HAProxy's busy-polling and the spin-then-block of Seastar and DPDK
// applications are the same trade.
//
// How, without changing gnet: each loop gets a socket pair; one end is a
// gnet connection on that loop (the spinner), the other stays with us. A
// byte written to our end makes the spinner readable, so the loop's next
// epoll_wait returns at once; the spinner's handler writes another byte while
// the loop's last client traffic is more recent than the budget, and stops
// writing after it, letting the loop sleep. Client traffic re-arms it. The
// cost is processor time while idle after traffic: at most the budget per
// burst, three system calls per turn. Config.BusyPoll 0 turns it off.

// spinner is the busy-poll state of one event loop. Only that loop touches
// it once it is open, so its fields need no lock; turns is read by metrics.
type spinner struct {
	budget int64 // ns
	wfd    int   // our end of the pair
	open   bool  // gnet has opened the spinner's end on the loop
	armed  bool  // a byte is in flight: the loop will run the spinner
	last   int64 // unix ns of the loop's last client traffic
	turns  *atomic.Uint64
}

var spinByte = []byte{0}

// newSpinner creates the socket pair and asks loop to adopt one end. gnet
// registers it asynchronously; until it has, traffic leaves the spinner
// alone.
func (l *listener) newSpinner(loop gnet.EventLoop) (*spinner, error) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("busy poll: socketpair: %w", err)
	}
	f := os.NewFile(uintptr(fds[1]), "strata-busy-poll")
	nc, err := net.FileConn(f) // duplicates the descriptor
	_ = f.Close()
	if err != nil {
		_ = unix.Close(fds[0])
		return nil, fmt.Errorf("busy poll: %w", err)
	}
	sp := &spinner{budget: l.s.cfg.BusyPoll.Nanoseconds(), wfd: fds[0], turns: &l.s.busyTurns}
	// gnet duplicates nc's descriptor for itself and closes nc once the
	// loop has opened its copy.
	if _, err := loop.Enroll(gnet.NewContext(context.Background(), sp), nc); err != nil {
		_ = nc.Close()
		_ = unix.Close(fds[0])
		return nil, fmt.Errorf("busy poll: enroll: %w", err)
	}
	return sp, nil
}

// touch records client traffic on the loop and, when the loop is not
// polling already, starts it.
func (sp *spinner) touch(now time.Time) {
	sp.last = now.UnixNano()
	if sp.open && !sp.armed {
		sp.arm()
	}
}

func (sp *spinner) arm() {
	if _, err := unix.Write(sp.wfd, spinByte); err == nil {
		sp.armed = true
	}
}

// turn runs when the spinner's byte arrived: the loop has polled once
// more. It keeps the loop polling while within budget.
func (sp *spinner) turn(c gnet.Conn) gnet.Action {
	_, _ = c.Discard(-1)
	sp.armed = false
	sp.turns.Add(1)
	if time.Now().UnixNano()-sp.last < sp.budget {
		sp.arm()
	}
	return gnet.None
}

// close releases our end; gnet closes its own when the engine stops.
func (sp *spinner) close() {
	if sp.wfd >= 0 {
		_ = unix.Close(sp.wfd)
		sp.wfd = -1
	}
}
