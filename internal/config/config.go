// Package config is the one YAML configuration of a whole Strata stack:
// tiers, addresses, virtual services and their pools, weights and policies.
// Every field has a documented default, so `strata up` needs no file at all;
// a file only states what differs. Decoding is strict: an unknown field is
// an error naming it, so a typo never silently falls back to a default.
package config

import (
	"time"

	"github.com/strata-dp/strata/internal/bytesize"
)

// Stack is the whole configuration.
type Stack struct {
	// Host is the loopback address every default listener binds to. Tests run
	// stacks side by side on 127.0.0.x hosts.
	Host string `yaml:"host"`
	// Mode of the load balancer: userspace (default), xdp or auto.
	Mode    string     `yaml:"mode"`
	Log     Log        `yaml:"log"`
	Edge    Edge       `yaml:"edge"`
	LB      LB         `yaml:"lb"`
	Facades Facades    `yaml:"facades"`
	Origin  Origin     `yaml:"origin"`
	State   State      `yaml:"state"`
	Control Control    `yaml:"control"`
	Restart RestartPol `yaml:"restart"`

	// derived are the values ApplyDefaults computed from other fields
	// (addresses from host, the first pool from the facade nodes), by
	// YAML path; Marshal leaves them out so they are computed again.
	derived map[string]derivedValue
}

// Log configures every process of the stack.
type Log struct {
	Format string `yaml:"format"` // text or json
	Level  string `yaml:"level"`  // debug, info, warn or error
}

// Edge is the forward-cache proxy (strata edge; the flag of the same name,
// dashes for underscores, says what each field does).
type Edge struct {
	Listen    string        `yaml:"listen"`
	Metrics   string        `yaml:"metrics"`
	Memory    bytesize.Size `yaml:"memory"`
	MaxObject bytesize.Size `yaml:"max_object"`
	// Grace serves stale this long past freshness (0: never).
	Grace time.Duration `yaml:"grace"`
	// Keep holds stale responses with validators for revalidation; 0 keeps
	// none, so it is a pointer: nil is the default.
	Keep              *time.Duration `yaml:"keep"`
	OriginTimeout     time.Duration  `yaml:"origin_timeout"`
	OriginRetryBudget *float64       `yaml:"origin_retry_budget"` // 0: never retry
	OriginMaxConns    int            `yaml:"origin_max_conns"`
	MaxConns          int            `yaml:"max_conns"`
	MaxConnsPerIP     *int           `yaml:"max_conns_per_ip"` // 0: no limit
	IdleTimeout       time.Duration  `yaml:"idle_timeout"`
	HeaderTimeout     time.Duration  `yaml:"header_timeout"`
	StoreSetCookie    bool           `yaml:"store_set_cookie"`
	// PurgeFrom are the networks allowed to purge (empty: loopback).
	PurgeFrom      []string `yaml:"purge_from,omitempty"`
	PurgeTokenFile string   `yaml:"purge_token_file,omitempty"`
	// MaxConnsPerIPExempt are networks max_conns_per_ip does not apply to.
	MaxConnsPerIPExempt []string `yaml:"max_conns_per_ip_exempt,omitempty"`
	// AccessLog writes a JSON line per request to RUN_DIR/logs/edge.access.log
	// (strata edge --access-log), AccessLogSample of them (0..1].
	AccessLog       bool    `yaml:"access_log"`
	AccessLogSample float64 `yaml:"access_log_sample"`
}

// LB is the load balancer and its virtual services.
type LB struct {
	Metrics  string    `yaml:"metrics"`
	Iface    string    `yaml:"iface"`
	Services []Service `yaml:"services"`
	Health   Health    `yaml:"health"`
	// The userspace proxy's backpressure bound and passive outlier
	// detection (strata lb --max-buffered, --first-byte-timeout,
	// --outliers, --outlier-ejection).
	MaxBuffered      bytesize.Size  `yaml:"max_buffered"`
	FirstByteTimeout *time.Duration `yaml:"first_byte_timeout"` // 0: off
	Outliers         *int           `yaml:"outliers"`           // 0: off
	OutlierEjection  time.Duration  `yaml:"outlier_ejection"`
	// The fields below are omitted (0) to keep strata lb's own default
	// (strata lb --connect-timeout, --idle-timeout, --max-conns, --loops).
	ConnectTimeout time.Duration `yaml:"connect_timeout,omitempty"`
	IdleTimeout    time.Duration `yaml:"idle_timeout,omitempty"`
	MaxConns       int           `yaml:"max_conns,omitempty"`
	Loops          int           `yaml:"loops,omitempty"` // 0: GOMAXPROCS
}

// Service is one virtual service (VIP:port/proto) and its pool.
type Service struct {
	Name       string    `yaml:"name"`
	VIP        string    `yaml:"vip"`
	Proto      string    `yaml:"proto"`      // tcp or udp
	Scheduler  string    `yaml:"scheduler"`  // maglev or wrr
	Forwarding string    `yaml:"forwarding"` // l2 or ipip (xdp mode)
	Backends   []Backend `yaml:"backends"`
}

// Backend is one member of a pool. Weight defaults to 1; 0 drains it.
type Backend struct {
	Addr   string  `yaml:"addr"`
	Weight *uint32 `yaml:"weight"`
}

// EffectiveWeight is the weight with the default applied.
func (b Backend) EffectiveWeight() uint32 {
	if b.Weight == nil {
		return 1
	}
	return *b.Weight
}

// Health is the active health check of every pool.
type Health struct {
	Check      string        `yaml:"check"` // tcp, http:/path or off
	Interval   time.Duration `yaml:"interval"`
	Timeout    time.Duration `yaml:"timeout"`
	Rise       int           `yaml:"rise"`
	Fall       int           `yaml:"fall"`
	MaxEjected float64       `yaml:"max_ejected"` // share of a pool, 0..1
	// SlowStart ramps a returning backend's weight over this long; 0 is
	// off, so nil is the default.
	SlowStart *time.Duration `yaml:"slow_start"`
}

// Facades are the stateless facade nodes of the sample application.
type Facades struct {
	Nodes []FacadeNode `yaml:"nodes"`
	// MaxInflight bounds the requests one node serves at once before
	// admission control queues or rejects.
	MaxInflight int `yaml:"max_inflight"`
	// FixedLimit keeps MaxInflight fixed instead of adapting below it.
	FixedLimit     bool          `yaml:"fixed_limit"`
	QueueLen       int           `yaml:"queue_len"`
	MaxQueueTime   time.Duration `yaml:"max_queue_time"`
	RequestTimeout time.Duration `yaml:"request_timeout"`
	// DrainDelay and DrainTimeout are the SIGTERM drain; strata up gives a
	// facade 3 s between SIGTERM and SIGKILL.
	DrainDelay   *time.Duration `yaml:"drain_delay"` // 0: none
	DrainTimeout time.Duration  `yaml:"drain_timeout"`
	// AccessLog writes a JSON line per request of each facade to
	// RUN_DIR/logs/ID.access.log (strata facade --access-log),
	// AccessLogSample of them (0..1].
	AccessLog       bool    `yaml:"access_log"`
	AccessLogSample float64 `yaml:"access_log_sample"`
}

// FacadeNode is one facade process.
type FacadeNode struct {
	ID      string `yaml:"id"`
	Listen  string `yaml:"listen"`
	Metrics string `yaml:"metrics"`
}

// Origin is the sample origin backend simulator behind the facades.
type Origin struct {
	Listen    string  `yaml:"listen"`
	Metrics   string  `yaml:"metrics"`
	Latency   string  `yaml:"latency"`    // a latency distribution, e.g. "2ms" or "normal:5ms,1ms"
	ErrorRate float64 `yaml:"error_rate"` // share of requests answered 503, 0..1
}

// State is the state tier.
type State struct {
	Memory bytesize.Size `yaml:"memory"` // per node: the bound on live data
	// MaxMemoryPolicy is what a node does when live data reaches Memory:
	// noeviction (default: the nodes hold sessions and carts, so writes are
	// refused rather than other keys dropped), fifo or lru (pure caching).
	MaxMemoryPolicy string      `yaml:"maxmemory_policy"`
	Nodes           []StateNode `yaml:"nodes"`
	// AuthSecretFile is the tier's AUTH secret; empty: strata up generates
	// one into the run directory (state.secret) at every start.
	AuthSecretFile string `yaml:"auth_secret_file,omitempty"`
	// The fields below are omitted (0) to keep strata state's own default.
	MaxConns    int           `yaml:"max_conns,omitempty"`
	MaxFrame    bytesize.Size `yaml:"max_frame,omitempty"`
	IdleTimeout time.Duration `yaml:"idle_timeout,omitempty"` // 0: never
	SlowTimeout time.Duration `yaml:"slow_timeout,omitempty"`
	EventLoops  int           `yaml:"event_loops,omitempty"` // 0: half the CPUs
	BusyPoll    time.Duration `yaml:"busy_poll,omitempty"`   // 0: off
	Procs       int           `yaml:"procs,omitempty"`       // 0: as many as event_loops
}

// FirstEpoch is the version epoch every state node of a stack starts at
// (strata state --epoch), and what the control plane reports for it.
const FirstEpoch = 1

// StateNode is one state process.
type StateNode struct {
	ID      string `yaml:"id"`
	Listen  string `yaml:"listen"` // binary protocol
	RESP    string `yaml:"resp"`   // RESP2; empty: derived from host
	Metrics string `yaml:"metrics"`
}

// Control is the control plane.
type Control struct {
	Listen string `yaml:"listen"` // admin API, dashboard and /metrics
}

// RestartPol is how `strata up` restarts a crashed child.
type RestartPol struct {
	InitialBackoff time.Duration `yaml:"initial_backoff"`
	MaxBackoff     time.Duration `yaml:"max_backoff"`
	// StableAfter resets the backoff once a child has run this long.
	StableAfter time.Duration `yaml:"stable_after"`
}
