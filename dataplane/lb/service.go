package lb

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
)

// Proto is an IP protocol number carried by a virtual service.
type Proto uint8

const (
	TCP Proto = 6
	UDP Proto = 17
)

func (p Proto) String() string {
	switch p {
	case TCP:
		return "tcp"
	case UDP:
		return "udp"
	}
	return fmt.Sprintf("proto(%d)", uint8(p))
}

// ParseProto accepts "tcp" or "udp".
func ParseProto(s string) (Proto, error) {
	switch strings.ToLower(s) {
	case "tcp", "":
		return TCP, nil
	case "udp":
		return UDP, nil
	}
	return 0, fmt.Errorf("%w: %q (allowed: tcp, udp)", ErrBadProto, s)
}

// Scheduler picks how new flows are spread over a service's backends.
type Scheduler string

const (
	// Maglev is weighted Maglev consistent hashing (the default).
	Maglev Scheduler = "maglev"
	// RoundRobin is a weighted round-robin ring.
	RoundRobin Scheduler = "wrr"
)

// Forwarding is how the XDP mode hands a packet to its backend; the userspace
// mode proxies and ignores it.
type Forwarding string

const (
	// L2 rewrites the destination MAC; backends share the segment and hold
	// the VIP on their loopback (direct server return).
	L2 Forwarding = "l2"
	// IPIP encapsulates in IPv4/IPv6-in-IP for routed fabrics.
	IPIP Forwarding = "ipip"
)

// MaxWeight bounds a backend weight so that weighted tables stay small and
// sums cannot overflow.
const MaxWeight = 1 << 16

// Backend is one real server of a service. Weight 0 drains it: existing
// flows stay, new flows go elsewhere.
type Backend struct {
	Addr   netip.AddrPort
	Weight uint32
	// MAC is the next-hop hardware address for L2 forwarding in XDP mode.
	MAC net.HardwareAddr
}

// ID is the stable identity that orders backends in every scheduling table,
// so that independent LB nodes build identical tables.
func (b Backend) ID() string { return b.Addr.String() }

// Service is one virtual service: VIP, port and protocol, and its pool.
type Service struct {
	Name       string
	VIP        netip.AddrPort
	Proto      Proto
	Scheduler  Scheduler
	Forwarding Forwarding
	Backends   []Backend
}

// Key identifies the service on the wire.
func (s Service) Key() string { return s.Proto.String() + "/" + s.VIP.String() }

// Config is a whole load-balancer configuration, applied as one generation.
type Config struct {
	Services []Service
}

// ErrConfig is the error of every invalid load-balancer configuration: each
// error below wraps it, and so does every error of the node's own
// configuration (package balancer), with the field it is about.
var ErrConfig = errors.New("lb: invalid configuration")

// Errors returned by Validate and ParseBackend; each wraps ErrConfig.
var (
	ErrNoServices     = fmt.Errorf("%w: no virtual services", ErrConfig)
	ErrDuplicateVIP   = fmt.Errorf("%w: duplicate virtual service", ErrConfig)
	ErrNoBackends     = fmt.Errorf("%w: service has no backends", ErrConfig)
	ErrBadWeight      = fmt.Errorf("%w: backend weight out of range", ErrConfig)
	ErrDuplicateAddr  = fmt.Errorf("%w: duplicate backend", ErrConfig)
	ErrBadScheduler   = fmt.Errorf("%w: unknown scheduler", ErrConfig)
	ErrBadForwarding  = fmt.Errorf("%w: unknown forwarding", ErrConfig)
	ErrInvalidAddress = fmt.Errorf("%w: invalid address", ErrConfig)
	ErrBadProto       = fmt.Errorf("%w: unknown protocol", ErrConfig)
)

// Defaults of a service, the values the flags of `strata lb` start from.
const (
	DefaultProto      = TCP
	DefaultScheduler  = Maglev
	DefaultForwarding = L2
)

// Validate checks the configuration as a whole; an invalid configuration is
// never applied in part.
func (c Config) Validate() error {
	if len(c.Services) == 0 {
		return ErrNoServices
	}
	seen := map[string]bool{}
	for _, s := range c.Services {
		if !s.VIP.IsValid() || s.VIP.Port() == 0 {
			return fmt.Errorf("%w: service %q vip %v", ErrInvalidAddress, s.Name, s.VIP)
		}
		if seen[s.Key()] {
			return fmt.Errorf("%w: %s", ErrDuplicateVIP, s.Key())
		}
		seen[s.Key()] = true
		switch s.Scheduler {
		case Maglev, RoundRobin, "":
		default:
			return fmt.Errorf("%w: service %q scheduler %q (allowed: maglev, wrr)", ErrBadScheduler, s.Name, s.Scheduler)
		}
		switch s.Forwarding {
		case L2, IPIP, "":
		default:
			return fmt.Errorf("%w: service %q forwarding %q (allowed: l2, ipip)", ErrBadForwarding, s.Name, s.Forwarding)
		}
		if len(s.Backends) == 0 {
			return fmt.Errorf("%w: %s", ErrNoBackends, s.Key())
		}
		addrs := map[netip.AddrPort]bool{}
		for _, b := range s.Backends {
			if !b.Addr.IsValid() {
				return fmt.Errorf("%w: backend of %s", ErrInvalidAddress, s.Key())
			}
			if addrs[b.Addr] {
				return fmt.Errorf("%w: %v in %s", ErrDuplicateAddr, b.Addr, s.Key())
			}
			addrs[b.Addr] = true
			if b.Weight > MaxWeight {
				return fmt.Errorf("%w: %v has %d (allowed 0..%d)", ErrBadWeight, b.Addr, b.Weight, MaxWeight)
			}
		}
	}
	return nil
}

// Applier is implemented by every balancer mode. Apply swaps in a whole new
// generation atomically: after it returns, new flows use the new tables and
// existing flows keep their backends.
type Applier interface {
	Apply(ctx context.Context, cfg Config) error
}

// ParseBackend parses ADDR:PORT[=WEIGHT]; the weight defaults to 1.
func ParseBackend(s string) (Backend, error) {
	addr, weight, hasWeight := strings.Cut(s, "=")
	ap, err := netip.ParseAddrPort(addr)
	if err != nil {
		return Backend{}, fmt.Errorf("%w: backend %q: want ADDR:PORT[=WEIGHT]: %v", ErrInvalidAddress, s, err)
	}
	b := Backend{Addr: ap, Weight: 1}
	if hasWeight {
		var w uint32
		if _, err := fmt.Sscanf(weight, "%d", &w); err != nil || fmt.Sprint(w) != weight {
			return Backend{}, fmt.Errorf("%w: backend %q: weight %q is not an integer 0..%d", ErrBadWeight, s, weight, MaxWeight)
		}
		if w > MaxWeight {
			return Backend{}, fmt.Errorf("%w: backend %q: weight %d out of range 0..%d", ErrBadWeight, s, w, MaxWeight)
		}
		b.Weight = w
	}
	return b, nil
}
