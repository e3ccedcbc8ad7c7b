package userspace

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"sort"
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/strata-dp/strata/dataplane/lb"
)

// ErrUnsupported is returned for configurations the userspace mode cannot
// carry (UDP services).
var ErrUnsupported = errors.New("userspace: unsupported")

// Proxy is the userspace balancer: one gnet engine per virtual service.
type Proxy struct {
	opts Options

	mu       sync.Mutex // serialises Apply and Shutdown
	services map[string]*service
	closed   bool
}

var _ lb.Applier = (*Proxy)(nil)

// New returns a proxy with no services; Apply starts them.
func New(opts Options) *Proxy {
	return &Proxy{opts: opts.withDefaults(), services: map[string]*service{}}
}

// Apply makes cfg the running configuration: new VIPs start listening,
// removed ones drain for at most as long as ctx allows, and existing ones
// swap their table atomically while their sessions stay on their backends.
// An invalid configuration changes nothing.
func (p *Proxy) Apply(ctx context.Context, cfg lb.Config) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	tables := map[string]*table{}
	for _, svc := range cfg.Services {
		if svc.Proto != lb.TCP {
			return fmt.Errorf("%w: %s (the userspace mode proxies TCP only)", ErrUnsupported, svc.Key())
		}
		t, err := newTable(svc)
		if err != nil {
			return err
		}
		tables[svc.Key()] = t
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return errors.New("userspace: proxy is shut down")
	}
	var started []*service
	for key, t := range tables {
		if s, ok := p.services[key]; ok {
			s.apply(t)
			continue
		}
		s, err := startService(t, p.opts)
		if err != nil {
			for _, s := range started {
				s.stop(ctx) //nolint:errcheck // rolling back a failed Apply
				delete(p.services, s.key)
			}
			return err
		}
		started = append(started, s)
		p.services[key] = s
	}
	var errs []error
	for key, s := range p.services {
		if _, keep := tables[key]; !keep {
			errs = append(errs, s.stop(ctx))
			delete(p.services, key)
		}
	}
	ensureProcs(len(p.services) * p.opts.Loops)
	return errors.Join(errs...)
}

// Shutdown stops accepting, lets open sessions finish until ctx is done,
// then closes the rest.
func (p *Proxy) Shutdown(ctx context.Context) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = true
	var wg sync.WaitGroup
	errs := make([]error, 0, len(p.services))
	var emu sync.Mutex
	for key, s := range p.services {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := s.stop(ctx)
			emu.Lock()
			errs = append(errs, err)
			emu.Unlock()
		}()
		delete(p.services, key)
	}
	wg.Wait()
	return errors.Join(errs...)
}

// VIPs lists the addresses the proxy listens on.
func (p *Proxy) VIPs() []netip.AddrPort {
	var out []netip.AddrPort
	for _, s := range p.snapshot() {
		out = append(out, s.vip())
	}
	return out
}

// Active is the number of open client connections over all services.
func (p *Proxy) Active() int64 {
	var n int64
	for _, s := range p.snapshot() {
		n += s.active.Load()
	}
	return n
}

// Collector exports the proxy's counters to Prometheus.
func (p *Proxy) Collector() prometheus.Collector { return collector{p} }

func (p *Proxy) snapshot() []*service {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]*service, 0, len(p.services))
	for _, s := range p.services {
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].key < out[j].key })
	return out
}
