package xdp

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sync"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"

	"github.com/strata-dp/strata/dataplane/lb"
)

// Balancer is a loaded (and usually attached) XDP load balancer.
type Balancer struct {
	opts      Options
	mu        sync.Mutex // serialises Apply, Close and map reads of plan
	maps      lbMaps
	prog      *ebpf.Program
	innerSpec *ebpf.MapSpec
	link      link.Link
	mode      string // ModeNative, ModeGeneric, or "" when not attached
	ids       *idAllocator
	cur       *plan
	gen       uint32
	closed    bool
}

var _ lb.Applier = (*Balancer)(nil)

// New loads the program and its maps (pinned under opts.PinDir, reusing maps
// a previous manager pinned, so tracked flows survive a restart) and attaches
// it to opts.Iface. On error nothing stays loaded or attached.
func New(opts Options) (*Balancer, error) {
	if err := opts.setDefaults(); err != nil {
		return nil, err
	}
	if os.Geteuid() != 0 {
		return nil, ErrNotPrivileged
	}
	spec, err := loadLb()
	if err != nil {
		return nil, err
	}
	spec.Maps[lbMapLbConntrack4].MaxEntries = opts.ConntrackSize
	spec.Maps[lbMapLbConntrack6].MaxEntries = opts.ConntrackSize
	spec.Maps[lbMapLbTables].InnerMap.MaxEntries = opts.TableSize
	if opts.NoPin {
		for _, m := range spec.Maps {
			m.Pinning = ebpf.PinNone
		}
	} else if err := ensurePinDir(opts.PinDir); err != nil {
		return nil, err
	}
	b := &Balancer{opts: opts, ids: newIDAllocator(), innerSpec: spec.Maps[lbMapLbTables].InnerMap.Copy()}
	if err := b.load(spec); err != nil {
		return nil, err
	}
	if err := b.initConfig(); err != nil {
		b.closeObjects()
		return nil, err
	}
	if opts.Iface != "" {
		if err := b.attach(); err != nil {
			b.closeObjects()
			return nil, err
		}
	}
	return b, nil
}

func (b *Balancer) load(spec *ebpf.CollectionSpec) error {
	collOpts := &ebpf.CollectionOptions{Maps: ebpf.MapOptions{PinPath: b.opts.PinDir}}
	assign := func() error {
		var o lbObjects
		if err := spec.LoadAndAssign(&o, collOpts); err != nil {
			return err
		}
		b.maps, b.prog = o.lbMaps, o.XdpLb
		return nil
	}
	err := assign()
	if errors.Is(err, ebpf.ErrMapIncompatible) {
		// A pinned map from another version or size: start afresh rather
		// than refuse to run. Tracked flows are lost, which we say.
		b.opts.Logger.Warn("pinned maps incompatible, recreating them", "dir", b.opts.PinDir, "err", err)
		for name, m := range spec.Maps {
			if m.Pinning == ebpf.PinByName {
				_ = os.Remove(filepath.Join(b.opts.PinDir, name))
			}
		}
		err = assign()
	}
	if err != nil {
		return fmt.Errorf("xdp: load: %w", err)
	}
	return nil
}

// initConfig keeps the generation a previous manager left, and writes this
// manager's egress and encapsulation settings.
func (b *Balancer) initConfig() error {
	var cfg lbConfig
	if err := b.maps.LbConfig.Lookup(uint32(0), &cfg); err != nil {
		return fmt.Errorf("xdp: read config: %w", err)
	}
	b.gen = cfg.Gen & 1
	cfg.Gen = b.gen
	if b.opts.EgressIface != "" {
		ifc, err := net.InterfaceByName(b.opts.EgressIface)
		if err != nil {
			return fmt.Errorf("%w: egress interface: %w", ErrBadOption, err)
		}
		cfg.EgressIfindex = uint32(ifc.Index)
		copy(cfg.EgressMac[:], ifc.HardwareAddr)
	}
	cfg.EncapSrc4, cfg.EncapMask4 = prefix4(b.opts.EncapSource4)
	cfg.EncapSrc6, cfg.EncapMask6 = prefix6(b.opts.EncapSource6)
	if err := b.maps.LbConfig.Put(uint32(0), &cfg); err != nil {
		return fmt.Errorf("xdp: write config: %w", err)
	}
	return nil
}

func (b *Balancer) attach() error {
	ifc, err := net.InterfaceByName(b.opts.Iface)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrAttach, err)
	}
	var tries []struct {
		mode  string
		flags link.XDPAttachFlags
	}
	if b.opts.Mode != ModeGeneric {
		tries = append(tries, struct {
			mode  string
			flags link.XDPAttachFlags
		}{ModeNative, link.XDPDriverMode})
	}
	if b.opts.Mode != ModeNative {
		tries = append(tries, struct {
			mode  string
			flags link.XDPAttachFlags
		}{ModeGeneric, link.XDPGenericMode})
	}
	var errs []error
	for _, t := range tries {
		l, err := link.AttachXDP(link.XDPOptions{Program: b.prog, Interface: ifc.Index, Flags: t.flags})
		if err == nil {
			b.link, b.mode = l, t.mode
			b.opts.Logger.Info("xdp attached", "iface", b.opts.Iface, "mode", t.mode)
			return nil
		}
		errs = append(errs, fmt.Errorf("%s: %w", t.mode, err))
	}
	return fmt.Errorf("%w to %s: %w", ErrAttach, b.opts.Iface, errors.Join(errs...))
}

// Mode is the attach mode in use: ModeNative, ModeGeneric, or "" when the
// program is loaded but not attached.
func (b *Balancer) Mode() string { return b.mode }

// Close detaches the program and releases it. Pinned maps stay (so a
// restarted manager keeps tracked flows) unless Options.UnpinOnClose.
func (b *Balancer) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return nil
	}
	b.closed = true
	var errs []error
	if b.link != nil {
		errs = append(errs, b.link.Close())
	}
	if b.opts.UnpinOnClose {
		errs = append(errs, b.unpin())
	}
	b.closeObjects()
	return errors.Join(errs...)
}

// unpin removes the pin of every map of the generated lbMaps struct, so a
// map added to bpf/lib/maps.h cannot be left behind.
func (b *Balancer) unpin() error {
	var errs []error
	b.maps.each(func(_ string, m *ebpf.Map) {
		if m.IsPinned() {
			errs = append(errs, m.Unpin())
		}
	})
	// Only remove the directory if it is now empty: it may be shared.
	if err := os.Remove(b.opts.PinDir); err != nil && !errors.Is(err, os.ErrNotExist) {
		b.opts.Logger.Debug("pin directory kept", "dir", b.opts.PinDir, "err", err)
	}
	return errors.Join(errs...)
}

func (b *Balancer) closeObjects() {
	_ = b.maps.Close() // the generated Close: every map, nil ones skipped
	if b.prog != nil {
		_ = b.prog.Close()
	}
}
