package loadgen

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/strata-dp/strata/internal/netns"
)

// xdpMD is struct xdp_md, the context BPF_PROG_RUN takes for XDP.
type xdpMD struct {
	Data, DataEnd, DataMeta uint32
	IngressIfindex          uint32
	RxQueueIndex            uint32
	EgressIfindex           uint32
}

// Run injects the frames and returns the count and wall time.
func (l LiveXDP) Run(ctx context.Context) (LiveResult, error) {
	total := len(l.Frames) * l.Repeat * l.Rounds
	if len(l.Frames) == 0 || l.Repeat < 1 || l.Rounds < 1 || total > MaxLiveFrames || l.NS == "" || l.Iface == "" {
		return LiveResult{}, fmt.Errorf("%w: live xdp %d frames x %d x %d rounds in %q/%q", ErrBadLoad, len(l.Frames), l.Repeat, l.Rounds, l.NS, l.Iface)
	}
	var next *ebpf.Program
	if l.Attached {
		var err error
		if next, err = attachedXDP(l.NS, l.Iface); err != nil {
			return LiveResult{}, err
		}
		defer func() { _ = next.Close() }()
	}
	return l.runPass(ctx, total, next)
}

// runPass injects every frame in one test run of a PassRestore program.
func (l LiveXDP) runPass(ctx context.Context, total int, next *ebpf.Program) (LiveResult, error) {
	p, err := NewPassRestore(l.Frames, l.Repeat, next)
	if err != nil {
		return LiveResult{}, err
	}
	defer func() { _ = p.Close() }()
	var res LiveResult
	err = l.inNS(func(ifindex int) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		opts := ebpf.RunOptions{
			Data:    l.Frames[0],
			Context: xdpMD{DataEnd: uint32(len(l.Frames[0])), IngressIfindex: uint32(ifindex)},
			Repeat:  uint32(total),
			Flags:   unix.BPF_F_TEST_XDP_LIVE_FRAMES,
		}
		start := time.Now()
		if _, err := p.Prog.Run(&opts); err != nil {
			return fmt.Errorf("live xdp test run: %w", err)
		}
		res.Elapsed = time.Since(start)
		// The counter, not total: a run restarted after a signal ran more.
		res.Injected, err = p.Runs()
		return err
	})
	return res, err
}

// inNS runs fn with the thread in the namespace, passing Iface's index.
func (l LiveXDP) inNS(fn func(ifindex int) error) error {
	return netns.Do(l.NS, func() error {
		ifc, err := net.InterfaceByName(l.Iface)
		if err != nil {
			return fmt.Errorf("live xdp: %s in %s: %w", l.Iface, l.NS, err)
		}
		return fn(ifc.Index)
	})
}

// PassRestore is an XDP program for live runs that hand frames to the
// kernel stack. Run i (counted in a map) copies template (i/burst) mod n
// over the packet and returns XDP_PASS, so one test run cycles over n
// flows in bursts, and its counter says exactly how many frames it ran.
// The copy also matters because live mode recycles its page-pool buffers
// without resetting their data, and the stack (NAT, forwarding's TTL
// decrement) rewrites packets in place: without it a reused buffer would
// inject an already-translated packet. One call per set of frames also
// matters: a test run of a program attached nowhere pays a BPF dispatcher
// update (milliseconds) per call.
type PassRestore struct {
	Prog      *ebpf.Program
	templates *ebpf.Map
	counter   *ebpf.Map
	next      *ebpf.Map
}

// NewPassRestore loads the program for frames of equal size, injected
// burst at a time each. With next set, the program hands each restored
// frame to next (a tail call) instead of returning XDP_PASS: next's verdict
// is the frame's.
func NewPassRestore(frames [][]byte, burst int, next *ebpf.Program) (*PassRestore, error) {
	if len(frames) == 0 || burst < 1 {
		return nil, fmt.Errorf("%w: %d frames, burst %d", ErrBadLoad, len(frames), burst)
	}
	size := len(frames[0])
	if size < 14 || size > 1500 {
		return nil, fmt.Errorf("%w: frame size %d (allowed 14..1500)", ErrBadLoad, size)
	}
	for _, f := range frames {
		if len(f) != size {
			return nil, fmt.Errorf("%w: frames of %d and %d bytes", ErrBadLoad, size, len(f))
		}
	}
	tm, err := ebpf.NewMap(&ebpf.MapSpec{Type: ebpf.Array, KeySize: 4, ValueSize: uint32(size), MaxEntries: uint32(len(frames))})
	if err != nil {
		return nil, fmt.Errorf("live xdp: template map: %w", err)
	}
	cm, err := ebpf.NewMap(&ebpf.MapSpec{Type: ebpf.Array, KeySize: 4, ValueSize: 8, MaxEntries: 1})
	if err != nil {
		_ = tm.Close()
		return nil, fmt.Errorf("live xdp: counter map: %w", err)
	}
	p := &PassRestore{templates: tm, counter: cm}
	for i, f := range frames {
		if err := tm.Put(uint32(i), f); err != nil {
			_ = p.Close()
			return nil, fmt.Errorf("live xdp: template: %w", err)
		}
	}
	// The tail call's target, or nothing (the call then falls through).
	if p.next, err = ebpf.NewMap(&ebpf.MapSpec{Type: ebpf.ProgramArray, KeySize: 4, ValueSize: 4, MaxEntries: 1}); err != nil {
		_ = p.Close()
		return nil, fmt.Errorf("live xdp: program array: %w", err)
	}
	if next != nil {
		if err := p.next.Put(uint32(0), next); err != nil {
			_ = p.Close()
			return nil, fmt.Errorf("live xdp: program array: %w", err)
		}
	}
	p.Prog, err = ebpf.NewProgram(&ebpf.ProgramSpec{
		Name: "strata_live_pass",
		Type: ebpf.XDP,
		// A tail call needs the attach type of its target (an XDP program
		// loaded from an "xdp" section).
		AttachType: ebpf.AttachXDP,
		License:    "Dual BSD/GPL",
		Instructions: asm.Instructions{
			asm.Mov.Reg(asm.R6, asm.R1),
			// n := counter[0]++ (a test run stays on one CPU)
			asm.StoreImm(asm.RFP, -4, 0, asm.Word),
			asm.Mov.Reg(asm.R2, asm.RFP),
			asm.Add.Imm(asm.R2, -4),
			asm.LoadMapPtr(asm.R1, cm.FD()),
			asm.FnMapLookupElem.Call(),
			asm.JEq.Imm(asm.R0, 0, "pass"),
			asm.LoadMem(asm.R7, asm.R0, 0, asm.DWord),
			asm.Mov.Reg(asm.R8, asm.R7),
			asm.Add.Imm(asm.R8, 1),
			asm.StoreMem(asm.R0, 0, asm.R8, asm.DWord),
			// template (n / burst) % len(frames)
			asm.Div.Imm(asm.R7, int32(burst)),
			asm.Mod.Imm(asm.R7, int32(len(frames))),
			asm.StoreMem(asm.RFP, -8, asm.R7, asm.Word),
			asm.Mov.Reg(asm.R2, asm.RFP),
			asm.Add.Imm(asm.R2, -8),
			asm.LoadMapPtr(asm.R1, tm.FD()),
			asm.FnMapLookupElem.Call(),
			asm.JEq.Imm(asm.R0, 0, "pass"),
			// Restore the frame: bpf_xdp_store_bytes with ctx, offset 0, the template and its size.
			asm.Mov.Reg(asm.R1, asm.R6),
			asm.Mov.Imm(asm.R2, 0),
			asm.Mov.Reg(asm.R3, asm.R0),
			asm.Mov.Imm(asm.R4, int32(size)),
			asm.FnXdpStoreBytes.Call(),
			// bpf_tail_call(ctx, next, 0): returns only with no target.
			asm.Mov.Reg(asm.R1, asm.R6),
			asm.LoadMapPtr(asm.R2, p.next.FD()),
			asm.Mov.Imm(asm.R3, 0),
			asm.FnTailCall.Call(),
			asm.Mov.Imm(asm.R0, 2).WithSymbol("pass"), // XDP_PASS
			asm.Return(),
		},
	})
	if err != nil {
		_ = p.Close()
		return nil, fmt.Errorf("live xdp: load pass program: %w", err)
	}
	return p, nil
}

// Runs is how many frames the program has run.
func (p *PassRestore) Runs() (uint64, error) {
	var n uint64
	if err := p.counter.Lookup(uint32(0), &n); err != nil {
		return 0, fmt.Errorf("live xdp: counter: %w", err)
	}
	return n, nil
}

// Close unloads the program and its maps.
func (p *PassRestore) Close() error {
	var err error
	if p.Prog != nil {
		err = p.Prog.Close()
	}
	if p.next != nil {
		err = errors.Join(err, p.next.Close())
	}
	return errors.Join(err, p.templates.Close(), p.counter.Close())
}

// attachedXDP opens the XDP program attached to iface in namespace ns
// (the running load balancer's own program, with its maps). The caller
// closes it; closing does not detach it.
func attachedXDP(ns, iface string) (*ebpf.Program, error) {
	var prog *ebpf.Program
	err := netns.Do(ns, func() error {
		l, err := netlink.LinkByName(iface)
		if err != nil {
			return fmt.Errorf("live xdp: %s in %s: %w", iface, ns, err)
		}
		x := l.Attrs().Xdp
		if x == nil || x.ProgId == 0 {
			return fmt.Errorf("live xdp: no XDP program on %s in %s", iface, ns)
		}
		prog, err = ebpf.NewProgramFromID(ebpf.ProgramID(x.ProgId))
		if err != nil {
			return fmt.Errorf("live xdp: open program %d: %w", x.ProgId, err)
		}
		return nil
	})
	return prog, err
}

// IfaceAddr reads the MAC and first IPv4 address of iface in namespace ns.
func IfaceAddr(ns, iface string) (net.HardwareAddr, net.IP, error) {
	var mac net.HardwareAddr
	var ip net.IP
	err := netns.Do(ns, func() error {
		ifc, err := net.InterfaceByName(iface)
		if err != nil {
			return fmt.Errorf("live xdp: %s in %s: %w", iface, ns, err)
		}
		mac = ifc.HardwareAddr
		addrs, err := ifc.Addrs()
		if err != nil {
			return fmt.Errorf("live xdp: addresses of %s in %s: %w", iface, ns, err)
		}
		for _, a := range addrs {
			if n, ok := a.(*net.IPNet); ok && n.IP.To4() != nil {
				ip = n.IP.To4()
				return nil
			}
		}
		return fmt.Errorf("live xdp: %s in %s has no IPv4 address", iface, ns)
	})
	return mac, ip, err
}
