package xdp

import (
	"errors"
	"fmt"
	"log/slog"
	"net/netip"

	"github.com/strata-dp/strata/dataplane/lb"
	"github.com/strata-dp/strata/dataplane/lb/maglev"
)

// Limits, mirroring bpf/lib/consts.h (TestConstsMatchC checks they agree).
const (
	MaxServices      = 256
	MaxBackends      = 4096
	DefaultTableSize = lb.DefaultTableSize
	DefaultConntrack = 262144
	MaxConntrack     = 1 << 24
	generations      = 2
	DefaultPinDir    = "/sys/fs/bpf/strata"
	maxVLANs         = 2
	vipFilterBits    = 65536
	encapTTL         = 64
	passReasons      = 4
	dropReasons      = 5
	decapStats       = 5
)

// Attach modes.
const (
	ModeAuto    = "auto"    // native, falling back to generic
	ModeNative  = "native"  // driver XDP only
	ModeGeneric = "generic" // skb (generic) XDP only
)

// Default IPIP outer source prefixes. The host bits of the outer source carry
// the flow hash, so a backend NIC's RSS spreads encapsulated flows over its
// queues; backends must accept these sources (no strict reverse-path filter).
var (
	DefaultEncapSource4 = netip.MustParsePrefix("172.16.0.0/16")
	DefaultEncapSource6 = netip.MustParsePrefix("fc00:2307::/96")
)

// Errors.
var (
	ErrUnsupported   = errors.New("xdp: XDP load balancing needs Linux")
	ErrNoMAC         = errors.New("xdp: backend has no next-hop MAC")
	ErrFamily        = errors.New("xdp: IPIP backend family differs from its VIP")
	ErrTooMany       = errors.New("xdp: configuration exceeds the program's limits")
	ErrBadOption     = errors.New("xdp: invalid option")
	ErrClosed        = errors.New("xdp: balancer closed")
	ErrAttach        = errors.New("xdp: cannot attach")
	ErrNotPrivileged = errors.New("xdp: needs CAP_BPF and CAP_NET_ADMIN (root)")
)

// Options configure New.
type Options struct {
	// Iface is the interface to attach to. Empty loads the program and its
	// maps without attaching (for tests and BPF_PROG_TEST_RUN benchmarks).
	Iface string
	// Mode is ModeAuto (default), ModeNative or ModeGeneric.
	Mode string
	// PinDir holds the pinned maps; DefaultPinDir when empty.
	PinDir string
	// UnpinOnClose removes the pinned maps on Close, dropping tracked
	// flows. Off by default so that a restart keeps existing connections.
	UnpinOnClose bool
	// NoPin pins nothing: a private instance that a restarted manager does
	// not find (tests, BPF_PROG_TEST_RUN measurements). PinDir is unused.
	NoPin bool
	// EgressIface, when set, sends balanced packets out of this interface
	// with bpf_redirect instead of XDP_TX out of Iface.
	EgressIface string
	// TableSize is the Maglev table size, a prime (DefaultTableSize).
	TableSize uint32
	// ConntrackSize is the number of tracked flows (DefaultConntrack).
	ConntrackSize uint32
	// EncapSource4 and EncapSource6 are the outer source prefixes for IPIP
	// (DefaultEncapSource4, DefaultEncapSource6 when invalid/zero).
	EncapSource4, EncapSource6 netip.Prefix
	// Logger receives one line per Apply; nil discards.
	Logger *slog.Logger
}

func (o *Options) setDefaults() error {
	if o.Mode == "" {
		o.Mode = ModeAuto
	}
	switch o.Mode {
	case ModeAuto, ModeNative, ModeGeneric:
	default:
		return fmt.Errorf("%w: mode %q is not one of auto, native, generic", ErrBadOption, o.Mode)
	}
	if o.PinDir == "" {
		o.PinDir = DefaultPinDir
	}
	if o.TableSize == 0 {
		o.TableSize = DefaultTableSize
	}
	if _, _, err := maglev.Build([]lb.Weighted{{ID: "probe", Weight: 1}}, o.TableSize); err != nil {
		return fmt.Errorf("%w: table size %d: %w", ErrBadOption, o.TableSize, err)
	}
	if o.ConntrackSize == 0 {
		o.ConntrackSize = DefaultConntrack
	}
	if o.ConntrackSize > MaxConntrack {
		return fmt.Errorf("%w: conntrack size %d (max %d)", ErrBadOption, o.ConntrackSize, MaxConntrack)
	}
	if !o.EncapSource4.IsValid() {
		o.EncapSource4 = DefaultEncapSource4
	}
	if !o.EncapSource6.IsValid() {
		o.EncapSource6 = DefaultEncapSource6
	}
	if !o.EncapSource4.Addr().Is4() || o.EncapSource6.Addr().Is4() {
		return fmt.Errorf("%w: encap sources %v, %v: want an IPv4 and an IPv6 prefix", ErrBadOption, o.EncapSource4, o.EncapSource6)
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return nil
}
