package edge

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/strata-dp/strata/dataplane/edge/cachecontrol"
)

// flight is one origin fetch that concurrent requests for the same key wait
// for instead of sending their own.
type flight struct {
	done   chan struct{}
	obj    atomic.Pointer[object] // set only when the response was stored
	ready  chan struct{}          // closed when stream is published
	stream atomic.Pointer[growing]
}

// publish lets waiters read a shareable body while it arrives.
func (f *flight) publish(g *growing) {
	f.stream.Store(g)
	close(f.ready)
}

type flightGroup struct {
	mu sync.Mutex
	m  map[string]*flight
}

// join returns the flight for key and whether the caller leads it.
func (g *flightGroup) join(key []byte) (*flight, bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if f, ok := g.m[string(key)]; ok {
		return f, false
	}
	f := &flight{done: make(chan struct{}), ready: make(chan struct{})}
	g.m[string(key)] = f
	return f, true
}

func (g *flightGroup) finish(key []byte, f *flight, o *object) {
	if o != nil {
		f.obj.Store(o)
	}
	g.mu.Lock()
	delete(g.m, string(key))
	g.mu.Unlock()
	close(f.done)
}

// fetchCoalesced fetches for c, sharing one origin request among concurrent
// requests for the same stored key. Waiters get the leader's response only
// when it was stored (so never a private or Set-Cookie one) and matches
// their variant; otherwise each goes to the origin itself.
func (e *Edge) fetchCoalesced(c *conn, rcc *cachecontrol.Directives, headOnly bool, stale *object, fwd string) {
	if rcc.NoStore {
		e.fetch(c, nil, rcc, headOnly, stale, fwd)
		return
	}
	switch {
	case stale != nil:
		c.scratch = append(c.scratch[:0], stale.key...)
	case fwd == "vary-miss":
		c.scratch = append(c.scratch[:0], c.vkey...)
	default:
		c.scratch = append(c.scratch[:0], c.key...)
	}
	key := string(c.scratch)
	f, leader := e.flights.join([]byte(key))
	if leader {
		o := e.fetch(c, f, rcc, headOnly, stale, fwd)
		e.flights.finish([]byte(key), f, o)
		return
	}
	e.m.coalesced.Inc()
	t := time.NewTimer(2 * e.cfg.OriginTimeout)
	select {
	case <-f.done:
		t.Stop()
	case <-f.ready:
		t.Stop()
		if g := f.stream.Load(); g != nil && (len(g.varyNames) == 0 || c.matchesVariantValues(g.varyNames, g.varyValues)) {
			c.serveGrowing(g, fwd, headOnly)
			return
		}
		<-f.done
	case <-t.C:
	}
	// A response that sets a cookie is never handed to another client's
	// request, even when --store-set-cookie stored it.
	if o := f.obj.Load(); o != nil && !o.setCookie && c.matchesVariant(o) {
		age := o.age(e.now())
		c.outcome = outcomeCollapsed
		c.serveStored(o, age, csForward(fwd, o.status, true, "", true), max(0, o.lifetime-age), headOnly)
		return
	}
	e.fetch(c, nil, rcc, headOnly, stale, fwd)
}

// matchesVariant reports whether c's request selects o under o's Vary.
func (c *conn) matchesVariant(o *object) bool {
	return len(o.varyNames) == 0 || c.matchesVariantValues(o.varyNames, o.varyValues)
}

func (c *conn) matchesVariantValues(names []string, values string) bool {
	c.scratch = appendVaryValues(c.scratch[:0], names, &c.req)
	return string(c.scratch) == values
}
