package userspace

import (
	"net"
	"unsafe"

	"github.com/panjf2000/gnet/v2"
	"golang.org/x/sys/unix"
)

// gnet v2 can only adopt a socket that is already a connected *net.TCPConn
// (EventLoop.Enroll), and it does so from a worker goroutine that duplicates
// the descriptor and hops back onto the loop. For a new connection per
// request that costs more than the connect itself, so the proxy creates the
// backend socket on the event loop and hands it to gnet's own registration,
// the function Enroll ends in. The two symbols below are gnet v2.9.7
// internals: if gnet renames them, the build fails at link time rather than
// misbehaving (go.mod pins the version). Every proxy test connects this
// way; TestProxyConnectTimeoutMovesOn covers a connect left in progress.

//go:linkname gnetNewStreamConn github.com/panjf2000/gnet/v2.newStreamConn
func gnetNewStreamConn(proto string, fd int, el unsafe.Pointer, sa unix.Sockaddr, localAddr, remoteAddr net.Addr) unsafe.Pointer

//go:linkname gnetRegister0 github.com/panjf2000/gnet/v2.(*eventloop).register0
func gnetRegister0(el, c unsafe.Pointer) error

// gnetEventloop mirrors the head of gnet v2.9.7's eventloop struct, up to
// its poller, and gnetPoller the head of netpoll.Poller: gnet cannot pause
// reading a connection, so backpressure changes the connection's epoll
// interest itself (setReading). A layout change cannot make that misbehave
// quietly: EPOLL_CTL_MOD on anything but the loop's own epoll descriptor
// fails (ENOENT, EINVAL, EBADF), setReading reports it and the session falls
// back to leaving the loop, and the backpressure tests fail (checkPaused).
type gnetEventloop struct {
	listeners map[int]unsafe.Pointer
	idx       int
	engine    unsafe.Pointer
	poller    *gnetPoller
}

type gnetPoller struct{ fd int }

// Epoll interest as gnet registers it (netpoll.ReadEvents, WriteEvents).
const (
	gnetReadEvents  = unix.EPOLLIN | unix.EPOLLPRI
	gnetWriteEvents = unix.EPOLLOUT
)

// setReading turns reading c on or off on its loop's poller, keeping the
// write interest gnet needs while c's outbound queue is not empty. It must
// run on c's loop. gnet itself turns reading back on when it flushes c's
// queue or queues a partial write, so a paused side is paused again after
// each write to it.
func setReading(c gnet.Conn, on bool) error {
	loop := c.EventLoop()
	el := (*gnetEventloop)((*iface)(unsafe.Pointer(&loop)).data)
	if el == nil || el.poller == nil {
		return unix.EINVAL
	}
	var ev uint32
	if on {
		ev = gnetReadEvents
	}
	if c.OutboundBuffered() > 0 {
		ev |= gnetWriteEvents
	}
	fd := c.Fd()
	return unix.EpollCtl(el.poller.fd, unix.EPOLL_CTL_MOD, fd, &unix.EpollEvent{Events: ev, Fd: int32(fd)})
}

// iface is the layout of a non-empty interface value.
type iface struct{ tab, data unsafe.Pointer }

// registerOnLoop makes fd, a connected TCP socket, a gnet connection on the
// event loop of like (which must be a gnet TCP connection) with ctx as its
// context. It must run on that loop; gnet calls OnOpen before it returns.
// On error gnet has closed fd unless OnOpen already ran.
func registerOnLoop(like gnet.Conn, fd int, sa unix.Sockaddr, remote net.Addr, ctx any) error {
	loop := like.EventLoop()
	el := (*iface)(unsafe.Pointer(&loop)).data
	c := gnetNewStreamConn("tcp", fd, el, sa, like.LocalAddr(), remote)
	gc := like
	(*iface)(unsafe.Pointer(&gc)).data = c // same dynamic type: gnet's *conn
	gc.SetContext(ctx)
	return gnetRegister0(el, c)
}
