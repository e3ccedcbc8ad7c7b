// Package server serves a state engine over gnet/v2 event loops, in two
// protocols: Strata's binary protocol (package wire) and RESP2 (package
// resp), each on its own listener.
//
// Each connection's handler runs on its event loop and answers every whole
// command already received in one pass, writing all replies with one write,
// so pipelines cost one syscall each way. The request paths allocate
// nothing: arguments alias the loop's input buffer, replies are appended to
// a per-connection buffer, and counters are per event loop.
//
// Limits: connections (refused with an error reply once full), frame size
// (refused from the length header, before the body exists), idle time, and
// slow clients (a connection whose unsent replies exceed MaxOutbound, or stay
// unsent past SlowTimeout, is closed so it cannot hold memory or stall
// others). AUTH with a shared secret guards both protocols when configured.
//
// What is dangerous here is what a client can make the node hold or do on
// its event loop, which every other client of that loop waits for. So the
// bytes held for connections are bounded over the whole server
// (MaxBuffered, buffer.go), an unauthenticated connection may hold only a
// small command, a reply whose size the client chooses is bounded
// (MaxReply), a client that does not read gets no more commands served,
// SCAN's work per call is clamped and its glob matcher never backtracks
// (glob.go), and wrong secrets close the connection (auth.go).
package server
