// Package userspace is the load balancer's fallback mode: an L4 TCP proxy on
// gnet event loops for hosts where XDP is not allowed (containers without
// CAP_BPF or CAP_NET_ADMIN) or not wanted.
//
// Each accepted client connection is hashed by its flow (source, VIP, ports,
// protocol) into the service's scheduling table, so a flow reaches the same
// backend that XDP mode would pick for it. The backend connection is
// registered on the client's own event loop, which lets the two sides hand
// bytes to each other without locks or copies on the common path: a read on
// one side is written straight to the other.
//
// What is dangerous here:
//   - gnet has no way to pause reading: it reads whenever the socket is
//     readable and keeps what the handler leaves in an unbounded inbound
//     buffer. Backpressure therefore removes a side's socket from its
//     loop's read interest itself (gnetreg.go, backpressure.go) once the
//     other side's outbound queue passes Options.MaxBuffered, and a
//     per-loop stall list resumes it when that queue has drained.
//   - gnet closes a connection as soon as its peer sends FIN. A
//     half-closing side is kept alive through a duplicate of its socket
//     and written to directly from the loop (halfclose.go); a session
//     whose direct write would block leaves the event loop: both sockets
//     are duplicated and handed to a goroutine pair with blocking copies.
//   - Backend sockets are connected on the event loop and handed to gnet's
//     internal registration through go:linkname (gnetreg.go), because gnet
//     v2.9.7 only adopts sockets from a worker goroutine. A gnet upgrade
//     must keep those two symbols or the build fails.
//   - All session state is touched only on the owning event loop; other
//     goroutines (a slow backend connect, idle sweeper, Apply) reach it through Execute or
//     the concurrency-safe Close.
package userspace
