package config

import (
	"fmt"
	"net"
	"strconv"
	"time"

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
	at := func(port int) string { return net.JoinHostPort(s.Host, strconv.Itoa(port)) }
	setStr := func(p *string, v string) {
		if *p == "" {
			*p = v
		}
	}
	setStr(&s.Mode, "userspace")
	setStr(&s.Log.Format, "text")
	setStr(&s.Log.Level, "info")

	setStr(&s.Edge.Listen, at(PortEdge))
	setStr(&s.Edge.Metrics, at(PortEdgeMetrics))
	if s.Edge.Memory == 0 {
		s.Edge.Memory = 256 * bytesize.Size(1<<20)
	}

	if len(s.State.Nodes) == 0 {
		for i := 0; i < DefaultStateNodes; i++ {
			s.State.Nodes = append(s.State.Nodes, StateNode{})
		}
	}
	for i := range s.State.Nodes {
		n := &s.State.Nodes[i]
		setStr(&n.ID, fmt.Sprintf("state-%d", i+1))
		setStr(&n.Listen, at(PortStateFirst+i))
		setStr(&n.RESP, at(PortRESPFirst+i))
		setStr(&n.Metrics, at(PortStateMetrics1+i))
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
		setStr(&n.Listen, at(PortFacadeFirst+i))
		setStr(&n.Metrics, at(PortFacadeMetrics1+i))
	}
	if s.Facades.MaxInflight == 0 {
		s.Facades.MaxInflight = 512
	}

	setStr(&s.Origin.Listen, at(PortOrigin))
	setStr(&s.Origin.Metrics, at(PortOriginMetrics))
	setStr(&s.Origin.Latency, "1ms")

	setStr(&s.Control.Listen, at(PortControl))

	setStr(&s.LB.Metrics, at(PortLBMetrics))
	if len(s.LB.Services) == 0 {
		s.LB.Services = []Service{{Name: "facades", VIP: at(PortVIP)}}
	}
	for i := range s.LB.Services {
		svc := &s.LB.Services[i]
		setStr(&svc.Name, fmt.Sprintf("service-%d", i+1))
		setStr(&svc.Proto, "tcp")
		setStr(&svc.Scheduler, "maglev")
		setStr(&svc.Forwarding, "l2")
		if len(svc.Backends) == 0 && i == 0 {
			// The first service fronts the facade nodes unless told otherwise.
			for _, n := range s.Facades.Nodes {
				svc.Backends = append(svc.Backends, Backend{Addr: n.Listen})
			}
		}
		for j := range svc.Backends {
			if svc.Backends[j].Weight == nil {
				one := uint32(1)
				svc.Backends[j].Weight = &one
			}
		}
	}
	h := &s.LB.Health
	setStr(&h.Check, "http:/readyz")
	if h.Interval == 0 {
		h.Interval = 250 * time.Millisecond
	}
	if h.Timeout == 0 {
		h.Timeout = 200 * time.Millisecond
	}
	if h.Rise == 0 {
		h.Rise = 2
	}
	if h.Fall == 0 {
		h.Fall = 2
	}
	if h.MaxEjected == 0 {
		h.MaxEjected = 0.5
	}

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
