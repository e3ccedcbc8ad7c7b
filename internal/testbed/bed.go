package testbed

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/strata-dp/strata/internal/netns"
	"github.com/strata-dp/strata/internal/secret"
)

// Errors returned by Up.
var (
	ErrExists   = errors.New("testbed: a bed with this prefix is already up")
	ErrBadOpts  = errors.New("testbed: bad options")
	ErrNoServe  = errors.New("testbed: the VIP did not serve in time")
	ErrNoBinary = errors.New("testbed: strata binary not found")
)

// Addresses inside the bed.
var (
	VIP       = netip.MustParseAddrPort("198.18.1.1:80")
	lbAddr    = netip.MustParseAddr("198.18.0.2")
	clientIP  = netip.MustParseAddr("198.18.0.10")
	edgeIP    = netip.MustParseAddr("198.18.0.11")
	stateIP   = netip.MustParseAddr("198.18.0.20")
	backendIP = func(i int) netip.Addr { return netip.AddrFrom4([4]byte{198, 18, 0, byte(100 + i)}) }
)

// MaxBackends bounds the backend namespaces of one bed.
const MaxBackends = 32

// Options describe a bed.
type Options struct {
	// Prefix names every namespace (PREFIX-client, ...); at most 8
	// characters of [a-z0-9].
	Prefix string
	// Mode is what balances in the lb namespace: "userspace" or "xdp"
	// (strata lb), or "nft" (kernel nftables DNAT, no LB process).
	Mode string
	// Forwarding is the xdp mode's encoding: "l2" (default) or "ipip"
	// (backends run the tc decap program).
	Forwarding string
	// NftAlgo picks the nft balancer: "numgen" (default) or "jhash".
	NftAlgo  string
	Backends int
	// Bin is the strata binary run inside the namespaces.
	Bin string
	// BackendCmd, if set, replaces the stand-in backend; {listen}, {id}
	// and {state-secret-file} are substituted (e.g. a strata facade
	// command line).
	BackendCmd []string
	// Facade runs the real tiers: a state node and the sample origin in
	// the state namespace, and strata facade as every backend.
	Facade bool
	// StateDir holds pids and logs (default /run/strata-testbed/PREFIX).
	StateDir string
	// NetworkOnly builds the namespaces, links, addresses and (mode xdp)
	// the DSR setup, and starts no process: the caller runs them (strata up
	// --mode xdp supervises its own). The client and edge namespaces are
	// left out; Up returns once the network is built.
	NetworkOnly bool
	// HostLink joins the root namespace to the bridge (see host.go), so
	// processes on the host reach the bed and its VIPs.
	HostLink bool
	// VIPs are the virtual addresses the backends own in mode xdp (on
	// their loopback, for DSR); default the one VIP.
	VIPs []netip.Addr
}

// Bed is a running test bed.
type Bed struct {
	Opts     Options
	VIP      netip.AddrPort
	ClientNS string
	LBNS     string
	Backends []netip.AddrPort
	pids     map[string]int // by process name: lb, backend-1, ...
}

// PID is the pid of one of the bed's processes ("lb", "backend-1", ...),
// or 0.
func (b *Bed) PID(name string) int { return b.pids[name] }

func (o *Options) defaults() error {
	if o.Prefix == "" {
		o.Prefix = "stb"
	}
	if len(o.Prefix) > 8 || strings.Trim(o.Prefix, "abcdefghijklmnopqrstuvwxyz0123456789") != "" {
		return fmt.Errorf("%w: prefix %q: want 1..8 of [a-z0-9]", ErrBadOpts, o.Prefix)
	}
	if o.Mode == "" {
		o.Mode = "userspace"
	}
	if o.Backends == 0 {
		o.Backends = 4
	}
	if o.Backends < 1 || o.Backends > MaxBackends {
		return fmt.Errorf("%w: backends %d (allowed 1..%d)", ErrBadOpts, o.Backends, MaxBackends)
	}
	if o.StateDir == "" {
		o.StateDir = StateDir(o.Prefix)
	}
	if o.Bin == "" {
		exe, err := os.Executable()
		if err != nil {
			return fmt.Errorf("%w: %v", ErrNoBinary, err)
		}
		o.Bin = exe
	}
	return nil
}

// stateRoot holds the state directory of every bed.
const stateRoot = "/run/strata-testbed"

// StateDir is where a bed with this prefix keeps its pids and logs.
func StateDir(prefix string) string { return filepath.Join(stateRoot, prefix) }

func (o Options) ns(host string) string { return o.Prefix + "-" + host }

// Up builds the bed and starts its processes; on error it removes what it
// made. ctx bounds the whole build.
func Up(ctx context.Context, opts Options) (bed *Bed, err error) {
	if err := netns.Available(); err != nil {
		return nil, err
	}
	if err := opts.defaults(); err != nil {
		return nil, err
	}
	if opts.Forwarding == "" {
		opts.Forwarding = "l2"
	}
	if opts.Forwarding != "l2" && (opts.Forwarding != "ipip" || opts.Mode != "xdp") {
		return nil, fmt.Errorf("%w: forwarding %q (ipip needs mode xdp)", ErrBadOpts, opts.Forwarding)
	}
	switch opts.Mode {
	case "userspace", "xdp":
	case "nft":
		if opts.NftAlgo == "" {
			opts.NftAlgo = "numgen"
		}
	default:
		return nil, fmt.Errorf("%w: mode %q (allowed: xdp, userspace, nft)", ErrBadOpts, opts.Mode)
	}
	if existing, _ := netns.List(opts.Prefix + "-"); len(existing) > 0 {
		return nil, fmt.Errorf("%w: %s (run testbed down first)", ErrExists, strings.Join(existing, ", "))
	}
	if opts.HostLink && hostLinkExists(opts.Prefix) {
		return nil, fmt.Errorf("%w: link %s in the root namespace (run testbed down first)", ErrExists, opts.HostLinkName())
	}
	if len(opts.VIPs) == 0 {
		opts.VIPs = []netip.Addr{VIP.Addr()}
	}
	if err := os.MkdirAll(opts.StateDir, 0o755); err != nil {
		return nil, fmt.Errorf("testbed: state dir: %w", err)
	}
	bed = &Bed{Opts: opts, VIP: VIP, ClientNS: opts.ns("client"), LBNS: opts.ns("lb"), pids: map[string]int{}}
	defer func() {
		if err != nil {
			_ = bed.Down()
			bed = nil
		}
	}()
	if err := bed.network(); err != nil {
		return bed, err
	}
	switch opts.Mode {
	case "xdp":
		err = bed.xdpNetwork()
	case "nft":
		err = bed.nftNetwork()
	}
	if err != nil {
		return bed, err
	}
	if opts.HostLink {
		if err := bed.hostLink(); err != nil {
			return bed, err
		}
	}
	if opts.NetworkOnly {
		return bed, nil
	}
	if err := bed.processes(); err != nil {
		return bed, err
	}
	err = bed.waitServing(ctx)
	return bed, err
}

// hosts lists every namespace with its address.
func (b *Bed) hosts() map[string]netip.Addr {
	h := map[string]netip.Addr{"lb": lbAddr, "state": stateIP}
	if !b.Opts.NetworkOnly {
		h["client"], h["edge"] = clientIP, edgeIP
	}
	for i := 1; i <= b.Opts.Backends; i++ {
		h[fmt.Sprintf("b%d", i)] = backendIP(i)
	}
	return h
}

func (b *Bed) network() error {
	br := b.Opts.ns("br")
	// Backends[i] lives in namespace b<i+1>: built by index, not from the
	// hosts map, whose order is random.
	for i := 1; i <= b.Opts.Backends; i++ {
		b.Backends = append(b.Backends, netip.AddrPortFrom(backendIP(i), 80))
	}
	if err := b.addNS(br); err != nil {
		return err
	}
	steps := [][]string{
		{"ip", "-n", br, "link", "add", "br0", "type", "bridge"},
		{"ip", "-n", br, "link", "set", "br0", "up"},
	}
	for host, addr := range b.hosts() {
		ns := b.Opts.ns(host)
		if err := b.addNS(ns); err != nil {
			return err
		}
		peer := "v-" + host
		steps = append(steps,
			[]string{"ip", "-n", br, "link", "add", peer, "type", "veth", "peer", "name", "eth0", "netns", ns},
			[]string{"ip", "-n", br, "link", "set", peer, "master", "br0", "up"},
			[]string{"ip", "-n", ns, "addr", "add", addr.String() + "/24", "dev", "eth0"},
			[]string{"ip", "-n", ns, "link", "set", "eth0", "up"},
			// veths send TCP with partial checksums that XDP does not
			// complete (DESIGN.md, Pitfalls): offload off on both ends.
			[]string{"ip", "netns", "exec", ns, "ethtool", "-K", "eth0", "tx", "off", "rx", "off"},
			[]string{"ip", "netns", "exec", br, "ethtool", "-K", peer, "tx", "off", "rx", "off"},
		)
	}
	// Only the client needs a route, to the VIP range via the LB; no
	// namespace has a default route, so nothing leaves the bed.
	if !b.Opts.NetworkOnly {
		steps = append(steps,
			[]string{"ip", "-n", b.ClientNS, "route", "add", "198.18.1.0/24", "via", lbAddr.String()},
		)
	}
	if b.Opts.Mode == "userspace" {
		// The proxy owns the VIP; in XDP mode the backends do (DSR).
		steps = append(steps, []string{"ip", "-n", b.LBNS, "addr", "add", VIP.Addr().String() + "/32", "dev", "lo"})
	}
	for _, s := range steps {
		if err := netns.Run(s[0], s[1:]...); err != nil {
			return fmt.Errorf("testbed: %w", err)
		}
	}
	return nil
}

func (b *Bed) addNS(ns string) error {
	if err := netns.Add(ns); err != nil {
		return fmt.Errorf("testbed: %w", err)
	}
	return appendLine(filepath.Join(b.Opts.StateDir, "netns"), ns)
}

// Addresses of the tiers behind the facades, in the state namespace.
var (
	StateAddr  = netip.AddrPortFrom(stateIP, 7001)
	OriginAddr = netip.AddrPortFrom(stateIP, 8200)
)

// StateSecretFile is the state node's AUTH secret (with Facade), in the
// state dir, mode 0600.
func (b *Bed) StateSecretFile() string { return filepath.Join(b.Opts.StateDir, "state.secret") }

func (b *Bed) processes() error {
	if b.Opts.Facade {
		// The state node listens on the bed's network, so it requires a
		// secret (strata state refuses otherwise); the facades read the
		// same file, which `ip netns exec` leaves in reach.
		secretPath := b.StateSecretFile()
		if _, err := secret.Generate(secretPath); err != nil {
			return fmt.Errorf("testbed: %w", err)
		}
		ns := b.Opts.ns("state")
		if err := b.start(ns, "state", []string{b.Opts.Bin, "state", "--listen", StateAddr.String(), "--memory", "64MiB",
			"--auth-secret-file", secretPath}); err != nil {
			return err
		}
		if err := b.start(ns, "origin", []string{b.Opts.Bin, "origin", "--listen", OriginAddr.String()}); err != nil {
			return err
		}
		if len(b.Opts.BackendCmd) == 0 {
			b.Opts.BackendCmd = []string{b.Opts.Bin, "facade", "--listen", "{listen}", "--node-id", "facade-{id}",
				"--state", StateAddr.String(), "--state-secret-file", "{state-secret-file}", "--origin", "http://" + OriginAddr.String()}
		}
		if err := b.waitTCP(ns, StateAddr); err != nil {
			return err
		}
	}
	for i, addr := range b.Backends {
		id := strconv.Itoa(i + 1)
		listen := addr.String()
		if b.Opts.Mode == "xdp" {
			// Health checks come to the backend's own address, clients to
			// the VIP on its loopback.
			listen = fmt.Sprintf("0.0.0.0:%d", addr.Port())
		}
		args := []string{b.Opts.Bin, "testbed", "backend", "--listen", listen, "--id", id}
		if b.Opts.Forwarding == "ipip" {
			// The backend process holds the decap program's link, so it
			// goes away with the process.
			args = append(args, "--decap", "eth0")
		}
		if len(b.Opts.BackendCmd) > 0 {
			args = args[:0]
			for _, a := range b.Opts.BackendCmd {
				a = strings.ReplaceAll(a, "{listen}", listen)
				a = strings.ReplaceAll(a, "{state-secret-file}", b.StateSecretFile())
				args = append(args, strings.ReplaceAll(a, "{id}", id))
			}
		}
		if err := b.start(b.Opts.ns("b"+id), "backend-"+id, args); err != nil {
			return err
		}
	}
	if b.Opts.Mode == "nft" {
		return nil // the kernel balances; no LB process
	}
	// Metrics on the LB namespace's own loopback: ip netns exec LB_NS curl
	// 127.0.0.1:9090/metrics.
	args := []string{b.Opts.Bin, "lb", "--mode", b.Opts.Mode, "--vip", VIP.String(), "--health", "tcp", "--metrics", "127.0.0.1:9090"}
	for _, a := range b.Backends {
		args = append(args, "--backend", a.String())
	}
	if b.Opts.Mode == "xdp" {
		args = append(args, "--iface", "eth0", "--pin-dir", b.Opts.PinDir(), "--unpin", "--forwarding", b.Opts.Forwarding)
	}
	return b.start(b.LBNS, "lb", args)
}

// start runs args detached inside ns, logging to the state dir, and
// records the pid before returning.
func (b *Bed) start(ns, name string, args []string) error {
	logf, err := os.Create(filepath.Join(b.Opts.StateDir, name+".log"))
	if err != nil {
		return fmt.Errorf("testbed: %w", err)
	}
	defer func() { _ = logf.Close() }()
	cmd := netns.Command(ns, args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("testbed: start %s: %w", name, err)
	}
	// `ip netns exec` execs the command, so this pid is the process.
	if err := appendLine(filepath.Join(b.Opts.StateDir, "pids"), strconv.Itoa(cmd.Process.Pid)); err != nil {
		_ = cmd.Process.Kill()
		return err
	}
	b.pids[name] = cmd.Process.Pid
	go func() { _ = cmd.Wait() }() // reap it if it ends while we still run
	return nil
}

// waitServing polls the VIP from the client namespace with curl.
func (b *Bed) waitServing(ctx context.Context) error {
	// Every backend first, then the VIP: a balancer that picks at random
	// (nft numgen) must not meet a backend that is still starting.
	urls := make([]string, 0, len(b.Backends)+1)
	for _, be := range b.Backends {
		urls = append(urls, "http://"+be.String()+"/whoami")
	}
	urls = append(urls, "http://"+VIP.String()+"/whoami")
	for _, url := range urls {
		for {
			err := netns.Exec(b.ClientNS, "curl", "-sf", "--max-time", "1", "-o", "/dev/null", url)
			if err == nil {
				break
			}
			select {
			case <-ctx.Done():
				return fmt.Errorf("%w: %s: %v%s", ErrNoServe, url, err, b.logTails())
			case <-time.After(100 * time.Millisecond):
			}
		}
	}
	return nil
}

// Curl fetches a path through the VIP from the client namespace.
func (b *Bed) Curl(path string) (string, error) {
	cmd := exec.Command("ip", "netns", "exec", b.ClientNS, "curl", "-sf", "--max-time", "2", "http://"+VIP.String()+path)
	out, err := cmd.Output()
	return string(out), err
}

func appendLine(path, line string) error {
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("testbed: %w", err)
	}
	if _, err := fmt.Fprintln(f, line); err != nil {
		_ = f.Close()
		return fmt.Errorf("testbed: %w", err)
	}
	return f.Close()
}

// logTails returns the last lines of every process log, so a bed that
// fails to come up says why before Down removes the logs.
func (b *Bed) logTails() string {
	var out strings.Builder
	logs, _ := filepath.Glob(filepath.Join(b.Opts.StateDir, "*.log"))
	for _, l := range logs {
		data, err := os.ReadFile(l)
		if err != nil || len(data) == 0 {
			continue
		}
		lines := strings.Split(strings.TrimSpace(string(data)), "\n")
		lines = lines[max(0, len(lines)-3):]
		fmt.Fprintf(&out, "\n%s: %s", filepath.Base(l), strings.Join(lines, "\n  "))
	}
	return out.String()
}

// waitTCP waits until addr accepts connections from inside ns.
func (b *Bed) waitTCP(ns string, addr netip.AddrPort) error {
	deadline := time.Now().Add(10 * time.Second)
	for {
		err := netns.Do(ns, func() error {
			c, err := net.DialTimeout("tcp", addr.String(), 200*time.Millisecond)
			if err == nil {
				_ = c.Close()
			}
			return err
		})
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("testbed: %s in %s not serving: %w%s", addr, ns, err, b.logTails())
		}
		time.Sleep(50 * time.Millisecond)
	}
}
