package balancer

import (
	"errors"
	"net/netip"
	"strings"
	"testing"

	"github.com/strata-dp/strata/dataplane/lb"
	"github.com/strata-dp/strata/dataplane/lb/mode"
)

func services() lb.Config {
	return lb.Config{Services: []lb.Service{{
		Name: "web", VIP: netip.MustParseAddrPort("127.0.0.1:8080"), Proto: lb.TCP,
		Backends: []lb.Backend{{Addr: netip.MustParseAddrPort("127.0.0.1:9000"), Weight: 1}},
	}}}
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name  string
		edit  func(c *Config)
		field string // "" for a valid configuration
	}{
		{"defaults", func(*Config) {}, ""},
		{"userspace, everything off", func(c *Config) {
			c.Mode, c.Health.Check, c.Health.SlowStart, c.Health.Outliers, c.Proxy.FirstByteTimeout = mode.Userspace, "off", 0, 0, 0
		}, ""},
		{"http check", func(c *Config) { c.Health.Check = "http:/readyz" }, ""},
		{"xdp with an interface", func(c *Config) { c.Mode, c.XDP.Iface = mode.XDPGeneric, "eth0" }, ""},
		{"bounds", func(c *Config) { c.Health.MaxEjected, c.Proxy.MaxBuffered, c.Proxy.Loops = 1, 4<<10, 1024 }, ""},
		{"services", func(c *Config) { c.Services = lb.Config{} }, "no virtual services"},
		{"mode", func(c *Config) { c.Mode = "ebpf" }, "Mode"},
		{"xdp without an interface", func(c *Config) { c.Mode = mode.XDPNative }, "XDP.Iface"},
		{"check", func(c *Config) { c.Health.Check = "ping" }, "Health.Check"},
		{"interval", func(c *Config) { c.Health.Interval = 0 }, "Health.Interval"},
		{"timeout", func(c *Config) { c.Health.Timeout = -1 }, "Health.Timeout"},
		{"max ejected 0", func(c *Config) { c.Health.MaxEjected = 0 }, "Health.MaxEjected"},
		{"max ejected above 1", func(c *Config) { c.Health.MaxEjected = 1.5 }, "Health.MaxEjected"},
		{"rise", func(c *Config) { c.Health.Rise = 0 }, "Health.Rise"},
		{"fall", func(c *Config) { c.Health.Fall = 0 }, "Health.Fall"},
		{"slow start", func(c *Config) { c.Health.SlowStart = -1 }, "Health.SlowStart"},
		{"outliers", func(c *Config) { c.Health.Outliers = -1 }, "Health.Outliers"},
		{"outlier ejection", func(c *Config) { c.Health.OutlierEjection = 0 }, "Health.OutlierEjection"},
		{"max conns", func(c *Config) { c.Proxy.MaxConns = 0 }, "Proxy.MaxConns"},
		{"max buffered small", func(c *Config) { c.Proxy.MaxBuffered = 4<<10 - 1 }, "Proxy.MaxBuffered"},
		{"max buffered large", func(c *Config) { c.Proxy.MaxBuffered = 64<<20 + 1 }, "Proxy.MaxBuffered"},
		{"first byte timeout", func(c *Config) { c.Proxy.FirstByteTimeout = -1 }, "Proxy.FirstByteTimeout"},
		{"loops negative", func(c *Config) { c.Proxy.Loops = -1 }, "Proxy.Loops"},
		{"loops too many", func(c *Config) { c.Proxy.Loops = 1025 }, "Proxy.Loops"},
		{"connect timeout", func(c *Config) { c.Proxy.ConnectTimeout = 0 }, "Proxy.ConnectTimeout"},
		{"idle timeout", func(c *Config) { c.Proxy.IdleTimeout = 0 }, "Proxy.IdleTimeout"},
		{"drain", func(c *Config) { c.Drain = -1 }, "Drain"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := DefaultConfig(services())
			tt.edit(&c)
			err := c.Validate()
			if tt.field == "" {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			if !errors.Is(err, lb.ErrConfig) || !strings.Contains(err.Error(), tt.field) {
				t.Fatalf("Validate: %v, want lb.ErrConfig naming %s", err, tt.field)
			}
		})
	}
}

// TestOffIsZero: in a node configuration zero turns a feature off, where
// the options of health and userspace take zero for their default.
func TestOffIsZero(t *testing.T) {
	c := DefaultConfig(services())
	c.Health.SlowStart, c.Health.Outliers, c.Proxy.FirstByteTimeout = 0, 0, 0
	h, p := c.Health.options(nil), c.Proxy.options(nil, nil)
	if h.SlowStart >= 0 || h.Outliers >= 0 || p.FirstByteTimeout >= 0 {
		t.Errorf("zero did not turn off: slow start %v, outliers %d, first byte %v", h.SlowStart, h.Outliers, p.FirstByteTimeout)
	}
	d := DefaultConfig(services())
	if h := d.Health.options(nil); h.SlowStart <= 0 || h.Outliers <= 0 {
		t.Errorf("defaults turned off: %+v", h)
	}
}
