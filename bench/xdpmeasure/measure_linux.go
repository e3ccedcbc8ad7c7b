package xdpmeasure

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"runtime"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"

	"github.com/strata-dp/strata/dataplane/lb"
	"github.com/strata-dp/strata/dataplane/lb/xdp"
	"github.com/strata-dp/strata/internal/packet"
)

// Run measures the program's cost per packet through
// BPF_PROG_TEST_RUN on a private, unattached, unpinned instance: the
// flow-hit path, the new-flow paths, the pass path, and the floors under
// them: a bare XDP_DROP and bare connection-table operations (insert,
// update, missing and hitting lookup), each in opts.Samples samples.
//
// BPF_PROG_TEST_RUN with repeat reruns the same buffer, so a repeated
// packet is a new flow only once. The flow-hit sample therefore runs one
// established flow (L2 forwarding is idempotent on the buffer); the
// new-flow sample runs xdp_lb_bench_newflow, which adds one to the source
// port in place before the same lb_process as xdp_lb, so every run is a
// connection-table miss, a Maglev lookup and an insert. The increment costs
// a bounds check and a store, within the noise of the measurement.
//
// The measuring thread is pinned to one CPU for the whole measurement, so
// the per-CPU LRU lists it draws from are the ones the table was sized for,
// and no sample straddles a migration.
func Run(ctx context.Context, opts Options) (Result, error) {
	opts.setDefaults()
	start := time.Now()
	res := Result{
		Repeat:        opts.Repeat,
		NewFlowRepeat: opts.newFlowRepeat(),
		Baseline:      Measurement{Name: "xdp-drop"},
		FlowHit:       Measurement{Name: "flow-hit"},
		NewFlow:       Measurement{Name: "new-flow"},
		NewFlowNoSYN:  Measurement{Name: "new-flow-nosyn"},
		Pass:          Measurement{Name: "pass"},
		CTInsert:      Measurement{Name: "ct-insert"},
		CTUpdate:      Measurement{Name: "ct-update"},
		CTMiss:        Measurement{Name: "ct-miss"},
		CTHit:         Measurement{Name: "ct-hit"},
	}
	b, err := xdp.New(xdp.Options{ConntrackSize: opts.ConntrackSize, NoPin: true})
	if err != nil {
		return res, err
	}
	defer func() { _ = b.Close() }()
	progs, err := loadPrograms(b)
	if err != nil {
		return res, err
	}
	defer func() { _ = progs.Close() }()
	svc := lb.Service{Name: "bench", VIP: netip.MustParseAddrPort("198.18.0.10:80"), Proto: lb.TCP}
	for i := range 8 {
		svc.Backends = append(svc.Backends, lb.Backend{
			Addr:   netip.AddrPortFrom(netip.AddrFrom4([4]byte{198, 18, 1, byte(i + 1)}), 80),
			Weight: uint32(i%4 + 1),
			MAC:    net.HardwareAddr{0x02, 0x53, 0xbe, 0, 0, byte(i + 1)},
		})
	}
	if err := b.Apply(ctx, lb.Config{Services: []lb.Service{svc}}); err != nil {
		return res, err
	}
	drop, err := ebpf.NewProgram(&ebpf.ProgramSpec{
		Name: "strata_drop", Type: ebpf.XDP, License: "Dual BSD/GPL",
		Instructions: asm.Instructions{asm.Mov.Imm(asm.R0, 1), asm.Return()},
	})
	if err != nil {
		return res, fmt.Errorf("xdpmeasure: load baseline: %w", err)
	}
	defer func() { _ = drop.Close() }()

	// flags: SYN (0x02) opens a connection, ACK (0x10) is mid-connection.
	frame := func(src string, dst string, flags uint8) []byte {
		return packet.Spec{
			SrcMAC: net.HardwareAddr{2, 0, 0, 0, 0, 1}, DstMAC: net.HardwareAddr{2, 0, 0, 0, 0, 2},
			Src: netip.MustParseAddrPort(src), Dst: netip.MustParseAddrPort(dst),
			Proto: packet.ProtoTCP, TCPFlags: flags, Payload: make([]byte, 6),
		}.Bytes()
	}
	hit := frame("198.18.100.1:1000", "198.18.0.10:80", tcpFlagACK)
	// Sample s starts at source 198.18.(101+s/250).(s%250+1), port 1.
	newFlowFrame := func(s int, flags uint8) []byte {
		return frame(fmt.Sprintf("198.18.%d.%d:1", 101+s/250, s%250+1), "198.18.0.10:80", flags)
	}
	insertFrame := func(s int) []byte {
		return frame(fmt.Sprintf("198.18.%d.%d:1", 201+s/250, s%250+1), "198.18.0.10:80", tcpFlagACK)
	}
	// Lookups that miss: source addresses 198.18.160+ are never inserted.
	missFrame := func(s int) []byte {
		return frame(fmt.Sprintf("198.18.%d.%d:1", 160+s/250, s%250+1), "198.18.0.10:80", tcpFlagACK)
	}
	pass := frame("198.18.100.1:1000", "198.18.0.99:80", tcpFlagACK)
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	restore, err := pinToOneCPU()
	if err != nil {
		return res, err
	}
	defer restore()
	// Establish the flow-hit flow.
	if err := expect(b.Program(), hit, 1, xdpTXAction); err != nil {
		return res, err
	}
	for s := 0; s < opts.Samples; s++ {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		steps := []struct {
			m      *Measurement
			p      *ebpf.Program
			in     []byte
			repeat int
			want   uint32
		}{
			{&res.Baseline, drop, hit, opts.Repeat, 1},
			{&res.FlowHit, b.Program(), hit, opts.Repeat, xdpTXAction},
			// A fresh source address per sample: its ports are new flows.
			{&res.NewFlow, progs.XdpLbBenchNewflow, newFlowFrame(s, tcpFlagSYN), res.NewFlowRepeat, xdpTXAction},
			// Addresses 198.18.101+ for SYN samples, +50 for mid-stream ones.
			{&res.NewFlowNoSYN, progs.XdpLbBenchNewflow, newFlowFrame(s+50*250, tcpFlagACK), res.NewFlowRepeat, xdpTXAction},
			{&res.Pass, b.Program(), pass, opts.Repeat, xdpPassAction},
			// Its own source addresses (198.18.201+...): new keys too.
			{&res.CTInsert, progs.XdpBenchCtInsert, insertFrame(s), res.NewFlowRepeat, 1},
			// The flow-hit flow, rewritten in place: no new key.
			{&res.CTUpdate, progs.XdpBenchCtUpdate, hit, res.NewFlowRepeat, 1},
			{&res.CTMiss, progs.XdpBenchCtMiss, missFrame(s), res.NewFlowRepeat, 1},
			{&res.CTHit, progs.XdpBenchCtHit, hit, opts.Repeat, 1},
		}
		for _, st := range steps {
			ret, per, err := st.p.Benchmark(st.in, st.repeat, nil)
			if err != nil {
				return res, fmt.Errorf("xdpmeasure: test run %s: %w", st.m.Name, err)
			}
			if ret != st.want {
				return res, fmt.Errorf("xdpmeasure: test run %s: verdict %d, want %d", st.m.Name, ret, st.want)
			}
			st.m.Samples = append(st.m.Samples, float64(per.Nanoseconds()))
		}
	}
	st, err := b.Stats()
	if err != nil {
		return res, err
	}
	wantNew := uint64(2*res.NewFlowRepeat*opts.Samples + 1)
	if st.ConntrackMisses < wantNew {
		return res, errors.New("xdpmeasure: new-flow runs were not all new flows")
	}
	res.Elapsed = time.Since(start)
	return res, nil
}

// loadPrograms loads the measurement programs (bpf/lb_measure.bpf.c) on the
// balancer's own maps: the object declares the same maps (bpf/lib/maps.h),
// and every one of them is replaced by the balancer's, sized as the
// balancer sized it and never pinned.
func loadPrograms(b *xdp.Balancer) (*measurePrograms, error) {
	spec, err := loadMeasure()
	if err != nil {
		return nil, err
	}
	shared := b.SharedMaps()
	for name, ms := range spec.Maps {
		m, ok := shared[name]
		if !ok {
			return nil, fmt.Errorf("xdpmeasure: map %s is not one of the balancer's", name)
		}
		ms.MaxEntries, ms.Pinning = m.MaxEntries(), ebpf.PinNone
	}
	var progs measurePrograms
	if err := spec.LoadAndAssign(&progs, &ebpf.CollectionOptions{MapReplacements: shared}); err != nil {
		return nil, fmt.Errorf("xdpmeasure: load: %w", err)
	}
	return &progs, nil
}

const (
	xdpPassAction = 2
	xdpTXAction   = 3
	tcpFlagSYN    = 0x02
	tcpFlagACK    = 0x10
)

func expect(p *ebpf.Program, in []byte, repeat int, want uint32) error {
	ret, _, err := p.Benchmark(in, repeat, nil)
	if err != nil {
		return fmt.Errorf("xdpmeasure: test run: %w", err)
	}
	if ret != want {
		return fmt.Errorf("xdpmeasure: test run: verdict %d, want %d", ret, want)
	}
	return nil
}
