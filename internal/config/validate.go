package config

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"

	"github.com/strata-dp/strata/dataplane/edge"
	"github.com/strata-dp/strata/dataplane/lb"
	"github.com/strata-dp/strata/dataplane/state"
)

// FieldError names the field that is wrong by its YAML path, the line it
// is on when the file gave it, and what it may be.
type FieldError struct {
	Field string // YAML path: edge.memory, lb.services[0].backends[1].addr
	Line  int    // 1-based; 0 when the value is a default or derived
	Value any
	// Allowed lists what the field accepts.
	Allowed string
	// Problem, when set, replaces "VALUE is invalid" (decoding errors:
	// unknown field, not a size, duplicate key).
	Problem string
}

func (e *FieldError) Error() string {
	var b strings.Builder
	b.WriteString("config: ")
	b.WriteString(e.Field)
	if e.Line > 0 {
		fmt.Fprintf(&b, " (line %d)", e.Line)
	}
	b.WriteString(": ")
	switch {
	case e.Problem != "":
		b.WriteString(e.Problem)
		if e.Allowed != "" {
			b.WriteString("; " + e.Allowed)
		}
	default:
		fmt.Fprintf(&b, "%v is invalid (allowed: %s)", e.Value, e.Allowed)
	}
	return b.String()
}

func oneOf(field, value string, allowed ...string) error {
	for _, a := range allowed {
		if value == a {
			return nil
		}
	}
	return &FieldError{Field: field, Value: strconv.Quote(value), Allowed: strings.Join(allowed, ", ")}
}

func hostPort(field, value string) error {
	host, port, err := net.SplitHostPort(value)
	if err == nil {
		var p int
		p, err = strconv.Atoi(port)
		if err == nil && (p < 1 || p > 65535) {
			err = errors.New("port out of range")
		}
		if err == nil && host != "" {
			if _, perr := netip.ParseAddr(host); perr != nil {
				err = perr
			}
		}
	}
	if err != nil {
		return &FieldError{Field: field, Value: strconv.Quote(value), Allowed: "IP:PORT with a port in 1..65535"}
	}
	return nil
}

// Validate checks every field and returns the first problem, naming the field
// and the allowed values. Two listeners on one address are an error too.
func (s *Stack) Validate() error {
	if _, err := netip.ParseAddr(s.Host); err != nil {
		return &FieldError{Field: "host", Value: strconv.Quote(s.Host), Allowed: "an IP address, e.g. 127.0.0.1"}
	}
	checks := []error{
		oneOf("mode", s.Mode, "userspace", "xdp", "auto"),
		oneOf("log.format", s.Log.Format, "text", "json"),
		oneOf("log.level", s.Log.Level, "debug", "info", "warn", "error"),
	}
	for _, err := range checks {
		if err != nil {
			return err
		}
	}
	if len(s.State.Nodes) > 64 {
		return &FieldError{Field: "state.nodes", Value: len(s.State.Nodes), Allowed: "1..64 nodes"}
	}
	if len(s.Facades.Nodes) > 64 {
		return &FieldError{Field: "facades.nodes", Value: len(s.Facades.Nodes), Allowed: "1..64 nodes"}
	}
	if s.Facades.MaxInflight < 1 {
		return &FieldError{Field: "facades.max_inflight", Value: s.Facades.MaxInflight, Allowed: "a positive integer"}
	}
	if s.Origin.ErrorRate < 0 || s.Origin.ErrorRate > 1 {
		return &FieldError{Field: "origin.error_rate", Value: s.Origin.ErrorRate, Allowed: "0..1"}
	}
	if s.Edge.Memory < edge.MinMemoryBytes {
		return &FieldError{Field: "edge.memory", Value: s.Edge.Memory, Allowed: "at least 1MiB"}
	}
	if s.State.Memory < state.MinMemoryBytes {
		return &FieldError{Field: "state.memory", Value: s.State.Memory, Allowed: "at least 1MiB"}
	}
	if _, err := state.ParsePolicy(s.State.MaxMemoryPolicy); err != nil {
		return &FieldError{Field: "state.maxmemory_policy", Value: strconv.Quote(s.State.MaxMemoryPolicy), Allowed: "noeviction, fifo, lru"}
	}
	h := s.LB.Health
	if h.Check != "tcp" && h.Check != "off" && !strings.HasPrefix(h.Check, "http:/") {
		return &FieldError{Field: "lb.health.check", Value: strconv.Quote(h.Check), Allowed: "tcp, http:/PATH, off"}
	}
	if h.Rise < 1 {
		return &FieldError{Field: "lb.health.rise", Value: h.Rise, Allowed: "an integer >= 1"}
	}
	if h.Fall < 1 {
		return &FieldError{Field: "lb.health.fall", Value: h.Fall, Allowed: "an integer >= 1"}
	}
	if h.MaxEjected <= 0 || h.MaxEjected > 1 {
		return &FieldError{Field: "lb.health.max_ejected", Value: h.MaxEjected, Allowed: "a share in (0, 1]"}
	}
	if h.Timeout > h.Interval {
		return &FieldError{Field: "lb.health.timeout", Value: h.Timeout, Allowed: "at most lb.health.interval"}
	}
	if err := s.validateRoles(); err != nil {
		return err
	}
	if err := s.validateListeners(); err != nil {
		return err
	}
	if _, err := s.LBConfig(); err != nil {
		return err
	}
	return nil
}

// validateListeners checks every address a process of the stack binds and
// rejects any address used twice.
func (s *Stack) validateListeners() error {
	type listener struct{ field, addr string }
	ls := []listener{
		{"edge.listen", s.Edge.Listen}, {"edge.metrics", s.Edge.Metrics},
		{"lb.metrics", s.LB.Metrics},
		{"origin.listen", s.Origin.Listen}, {"origin.metrics", s.Origin.Metrics},
		{"control.listen", s.Control.Listen},
	}
	for i, n := range s.State.Nodes {
		p := fmt.Sprintf("state.nodes[%d].", i)
		ls = append(ls, listener{p + "listen", n.Listen}, listener{p + "metrics", n.Metrics})
		if n.RESP != "" {
			ls = append(ls, listener{p + "resp", n.RESP})
		}
	}
	for i, n := range s.Facades.Nodes {
		p := fmt.Sprintf("facades.nodes[%d].", i)
		ls = append(ls, listener{p + "listen", n.Listen}, listener{p + "metrics", n.Metrics})
	}
	for i, svc := range s.LB.Services {
		ls = append(ls, listener{fmt.Sprintf("lb.services[%d].vip", i), svc.VIP})
	}
	seen := map[string]string{}
	for _, l := range ls {
		if err := hostPort(l.field, l.addr); err != nil {
			return err
		}
		if prev, dup := seen[l.addr]; dup {
			return &FieldError{Field: l.field, Value: l.addr, Allowed: "an address not already used by " + prev}
		}
		seen[l.addr] = l.field
	}
	return nil
}

// LBConfig converts the lb section into the load balancer's own vocabulary.
func (s *Stack) LBConfig() (lb.Config, error) {
	var out lb.Config
	for i, svc := range s.LB.Services {
		field := fmt.Sprintf("lb.services[%d]", i)
		vip, err := netip.ParseAddrPort(svc.VIP)
		if err != nil {
			return out, &FieldError{Field: field + ".vip", Value: strconv.Quote(svc.VIP), Allowed: "IP:PORT"}
		}
		proto, err := lb.ParseProto(svc.Proto)
		if err != nil {
			return out, &FieldError{Field: field + ".proto", Value: strconv.Quote(svc.Proto), Allowed: "tcp, udp"}
		}
		if err := oneOf(field+".scheduler", svc.Scheduler, "maglev", "wrr"); err != nil {
			return out, err
		}
		if err := oneOf(field+".forwarding", svc.Forwarding, "l2", "ipip"); err != nil {
			return out, err
		}
		ls := lb.Service{Name: svc.Name, VIP: vip, Proto: proto,
			Scheduler: lb.Scheduler(svc.Scheduler), Forwarding: lb.Forwarding(svc.Forwarding)}
		if len(svc.Backends) == 0 {
			return out, &FieldError{Field: field + ".backends", Value: "[]", Allowed: "at least one backend"}
		}
		for j, b := range svc.Backends {
			ap, err := netip.ParseAddrPort(b.Addr)
			if err != nil {
				return out, &FieldError{Field: fmt.Sprintf("%s.backends[%d].addr", field, j), Value: strconv.Quote(b.Addr), Allowed: "IP:PORT"}
			}
			w := b.EffectiveWeight()
			if w > lb.MaxWeight {
				return out, &FieldError{Field: fmt.Sprintf("%s.backends[%d].weight", field, j), Value: w, Allowed: fmt.Sprintf("0..%d", lb.MaxWeight)}
			}
			ls.Backends = append(ls.Backends, lb.Backend{Addr: ap, Weight: w})
		}
		out.Services = append(out.Services, ls)
	}
	if err := out.Validate(); err != nil {
		return out, fmt.Errorf("config: lb.services: %w", err)
	}
	return out, nil
}

// UnpooledFacades names the facade nodes no service sends traffic to: a
// pool written out in the file that a facade added later is not in.
func (s *Stack) UnpooledFacades() []string {
	pooled := map[string]bool{}
	for _, svc := range s.LB.Services {
		for _, b := range svc.Backends {
			pooled[b.Addr] = true
		}
	}
	var out []string
	for _, n := range s.Facades.Nodes {
		if !pooled[n.Listen] {
			out = append(out, n.ID)
		}
	}
	return out
}
