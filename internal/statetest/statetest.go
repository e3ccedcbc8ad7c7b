// Package statetest starts a real Strata state node in-process for tests of
// the tiers above it (the facades), on an ephemeral loopback port, and stops
// it when the test ends.
package statetest

import (
	"context"
	"testing"
	"time"

	"github.com/strata-dp/strata/dataplane/state"
	"github.com/strata-dp/strata/dataplane/state/client"
	"github.com/strata-dp/strata/dataplane/state/server"
)

// Node is a running state node.
type Node struct {
	Addr string
	srv  *server.Server
	eng  *state.Engine
}

// Start runs a state node with a small memory bound until the test ends.
func Start(tb testing.TB) *Node {
	tb.Helper()
	eng, err := state.New(state.Config{MemoryBytes: 16 << 20})
	if err != nil {
		tb.Fatal(err)
	}
	srv, err := server.New(server.Config{Engine: eng, Listen: "127.0.0.1:0", EventLoops: 1})
	if err != nil {
		_ = eng.Close()
		tb.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		_ = eng.Close()
		tb.Fatal(err)
	}
	n := &Node{Addr: srv.Addr(), srv: srv, eng: eng}
	tb.Cleanup(n.Stop)
	return n
}

// Stop shuts the node down; later operations against it fail. Safe to call
// more than once.
func (n *Node) Stop() {
	if n.srv == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = n.srv.Shutdown(ctx)
	_ = n.eng.Close()
	n.srv = nil
}

// Dial connects a client to the node, closed when the test ends.
func (n *Node) Dial(tb testing.TB) *client.Client {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := client.Dial(ctx, []string{n.Addr}, client.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = c.Close() })
	return c
}
