package config

import (
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/strata-dp/strata/dataplane/edge"
	"github.com/strata-dp/strata/dataplane/lb/health"
	"github.com/strata-dp/strata/dataplane/lb/userspace"
	"github.com/strata-dp/strata/facade"
	"github.com/strata-dp/strata/internal/bytesize"
)

// Default ports of a stack (docs/INTERFACES.md); each binds to Stack.Host.
const (
	DefaultHost        = "127.0.0.1"
	PortEdge           = 8080
	PortVIP            = 8000
	PortFacadeFirst    = 8101
	PortOrigin         = 8200
	PortStateFirst     = 7001
	PortRESPFirst      = 6381
	PortControl        = 9090
	PortEdgeMetrics    = 9180
	PortLBMetrics      = 9181
	PortOriginMetrics  = 9182
	PortFacadeMetrics1 = 9201
	PortStateMetrics1  = 9301
	DefaultFacades     = 3
	DefaultStateNodes  = 3
)

// ApplyDefaults fills every field left empty. Defaults derive from Host, so
// a file that sets only `host: 127.0.0.2` gets a whole second stack.
func (s *Stack) ApplyDefaults() {
	if s.Host == "" {
		s.Host = DefaultHost
	}
	if s.derived == nil {
		s.derived = map[string]derivedValue{}
	}
	at := func(port int) string { return net.JoinHostPort(s.Host, strconv.Itoa(port)) }
	setStr := func(p *string, v string) {
		if *p == "" {
			*p = v
		}
	}
	// fromHost fills an address that follows host (and, for a node, its
	// place in the list), and marks it derived for Marshal.
	fromHost := func(path string, p *string, port int) {
		if *p == "" {
			*p = at(port)
			s.derive(path, *p, "host")
		}
	}
	setStr(&s.Mode, "userspace")
	setStr(&s.Log.Format, "text")
	setStr(&s.Log.Level, "info")

	fromHost("edge.listen", &s.Edge.Listen, PortEdge)
	fromHost("edge.metrics", &s.Edge.Metrics, PortEdgeMetrics)
	e := &s.Edge
	setSize(&e.Memory, edge.DefaultMemoryBytes)
	setSize(&e.MaxObject, edge.DefaultMaxObjectBytes)
	setPtr(&e.Keep, edge.DefaultKeep)
	setDur(&e.OriginTimeout, edge.DefaultOriginTimeout)
	setPtr(&e.OriginRetryBudget, edge.DefaultOriginRetryRatio)
	setInt(&e.OriginMaxConns, edge.DefaultOriginMaxConns)
	setInt(&e.MaxConns, edge.DefaultMaxConns)
	setPtr(&e.MaxConnsPerIP, edge.DefaultMaxConnsPerIP)
	setDur(&e.IdleTimeout, edge.DefaultIdleTimeout)
	setDur(&e.HeaderTimeout, edge.DefaultHeaderTimeout)
	if e.AccessLogSample == 0 {
		e.AccessLogSample = 1
	}
	if s.Facades.AccessLogSample == 0 {
		s.Facades.AccessLogSample = 1
	}

	if len(s.State.Nodes) == 0 {
		for i := 0; i < DefaultStateNodes; i++ {
			s.State.Nodes = append(s.State.Nodes, StateNode{})
		}
	}
	for i := range s.State.Nodes {
		n := &s.State.Nodes[i]
		setStr(&n.ID, fmt.Sprintf("state-%d", i+1))
		p := fmt.Sprintf("state.nodes[%d].", i)
		fromHost(p+"listen", &n.Listen, PortStateFirst+i)
		fromHost(p+"resp", &n.RESP, PortRESPFirst+i)
		fromHost(p+"metrics", &n.Metrics, PortStateMetrics1+i)
	}
	if s.State.Memory == 0 {
		s.State.Memory = 256 * bytesize.Size(1<<20)
	}
	setStr(&s.State.MaxMemoryPolicy, "noeviction")

	if len(s.Facades.Nodes) == 0 {
		for i := 0; i < DefaultFacades; i++ {
			s.Facades.Nodes = append(s.Facades.Nodes, FacadeNode{})
		}
	}
	for i := range s.Facades.Nodes {
		n := &s.Facades.Nodes[i]
		setStr(&n.ID, fmt.Sprintf("facade-%d", i+1))
		p := fmt.Sprintf("facades.nodes[%d].", i)
		fromHost(p+"listen", &n.Listen, PortFacadeFirst+i)
		fromHost(p+"metrics", &n.Metrics, PortFacadeMetrics1+i)
	}
	f := &s.Facades
	setInt(&f.MaxInflight, facade.DefaultMaxInflight)
	setInt(&f.QueueLen, facade.DefaultQueueLen)
	setDur(&f.MaxQueueTime, facade.DefaultMaxQueueTime)
	setDur(&f.RequestTimeout, facade.DefaultRequestTimeout)
	setPtr(&f.DrainDelay, facade.DefaultDrainDelay)
	setDur(&f.DrainTimeout, facade.DefaultDrainTimeout)

	fromHost("origin.listen", &s.Origin.Listen, PortOrigin)
	fromHost("origin.metrics", &s.Origin.Metrics, PortOriginMetrics)
	setStr(&s.Origin.Latency, "1ms")

	fromHost("control.listen", &s.Control.Listen, PortControl)

	fromHost("lb.metrics", &s.LB.Metrics, PortLBMetrics)
	if len(s.LB.Services) == 0 {
		s.LB.Services = []Service{{Name: "facades"}}
	}
	// The first service is the one the edge sends to: its VIP follows host.
	fromHost("lb.services[0].vip", &s.LB.Services[0].VIP, PortVIP)
	for i := range s.LB.Services {
		svc := &s.LB.Services[i]
		setStr(&svc.Name, fmt.Sprintf("service-%d", i+1))
		setStr(&svc.Proto, "tcp")
		setStr(&svc.Scheduler, "maglev")
		setStr(&svc.Forwarding, "l2")
		pooled := false
		if len(svc.Backends) == 0 && i == 0 {
			// The first service fronts the facade nodes unless told otherwise.
			for _, n := range s.Facades.Nodes {
				svc.Backends = append(svc.Backends, Backend{Addr: n.Listen})
			}
			pooled = true
		}
		for j := range svc.Backends {
			if svc.Backends[j].Weight == nil {
				one := uint32(1)
				svc.Backends[j].Weight = &one
			}
		}
		if pooled {
			s.derive(fmt.Sprintf("lb.services[%d].backends", i), svc.Backends, "facades.nodes (every facade, weight 1)")
		}
	}
	h := &s.LB.Health
	setStr(&h.Check, "http:/readyz")
	setDur(&h.Interval, health.DefaultInterval)
	setDur(&h.Timeout, health.DefaultTimeout)
	setInt(&h.Rise, health.DefaultRise)
	setInt(&h.Fall, health.DefaultFall)
	if h.MaxEjected == 0 {
		h.MaxEjected = health.DefaultMaxEjectedShare
	}
	setPtr(&h.SlowStart, health.DefaultSlowStart)
	setSize(&s.LB.MaxBuffered, userspace.DefaultMaxBuffered)
	setPtr(&s.LB.FirstByteTimeout, userspace.DefaultFirstByteTimeout)
	setPtr(&s.LB.Outliers, health.DefaultOutliers)
	setDur(&s.LB.OutlierEjection, health.DefaultOutlierEjection)

	r := &s.Restart
	if r.InitialBackoff == 0 {
		r.InitialBackoff = 200 * time.Millisecond
	}
	if r.MaxBackoff == 0 {
		r.MaxBackoff = 10 * time.Second
	}
	if r.StableAfter == 0 {
		r.StableAfter = 30 * time.Second
	}
}

func setInt(p *int, v int) {
	if *p == 0 {
		*p = v
	}
}

func setDur(p *time.Duration, v time.Duration) {
	if *p == 0 {
		*p = v
	}
}

func setSize(p *bytesize.Size, v int64) {
	if *p == 0 {
		*p = bytesize.Size(v)
	}
}

// setPtr fills a field whose zero value is a setting of its own (keep: 0
// keeps nothing), so only its absence takes the default.
func setPtr[T any](p **T, v T) {
	if *p == nil {
		*p = &v
	}
}
