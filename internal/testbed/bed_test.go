package testbed

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/strata-dp/strata/dataplane/lb"
	"github.com/strata-dp/strata/dataplane/lb/flowhash"
	"github.com/strata-dp/strata/dataplane/lb/maglev"
	"github.com/strata-dp/strata/internal/netns"
)

// strataBin finds the binary the bed runs in its namespaces: STRATA_BIN
// (set by make test), else one built into the test's temp dir.
func strataBin(t *testing.T) string {
	t.Helper()
	if b := os.Getenv("STRATA_BIN"); b != "" {
		return b
	}
	out := filepath.Join(t.TempDir(), "strata")
	cmd := exec.Command("go", "build", "-o", out, "github.com/strata-dp/strata/cmd/strata")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build strata: %v\n%s", err, b)
	}
	return out
}

// TestBed is the test bed's proof, per LB mode (nft, the comparison
// baseline, only for spreading and cleanup): curl from the client
// namespace spreads over every backend; under HTTP load through the VIP a
// SIGKILLed backend costs no request on the others' connections and at
// most 0.1% overall; Down leaves nothing behind.
func TestBed(t *testing.T) {
	if err := netns.Available(); err != nil {
		t.Skipf("test bed: %v", err)
	}
	if testing.Short() {
		t.Skip("builds namespaces and starts processes")
	}
	bin := strataBin(t)
	for i, tc := range []struct{ mode, forwarding string }{
		{"userspace", ""}, {"xdp", "l2"}, {"xdp", "ipip"}, {"nft", ""},
	} {
		mode, name := tc.mode, tc.mode
		if tc.forwarding != "" {
			name += "-" + tc.forwarding
		}
		t.Run(name, func(t *testing.T) {
			prefix := fmt.Sprintf("lbu%d%d", os.Getpid()%10000, i)
			opts := Options{Prefix: prefix, Mode: mode, Forwarding: tc.forwarding, Backends: 4, Bin: bin,
				StateDir: filepath.Join(t.TempDir(), "state")}
			t.Cleanup(func() { Down(prefix, opts.StateDir) })
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			bed, err := Up(ctx, opts)
			if err != nil {
				t.Fatal(err)
			}
			spread(t, bed)
			if mode != "nft" {
				sameChoice(t, bed)
			}
			if mode != "nft" { // the kernel's DNAT has no health checks
				failover(t, bed)
			}
			down(t, bed)
		})
	}
}

func spread(t *testing.T, bed *Bed) {
	t.Helper()
	seen := map[string]int{}
	for i := 0; i < 40; i++ {
		out, err := bed.Curl("/whoami")
		if err != nil {
			t.Fatalf("curl %d from %s: %v", i, bed.ClientNS, err)
		}
		seen[strings.TrimSpace(out)]++
	}
	for i := 1; i <= 4; i++ {
		if seen[fmt.Sprint(i)] == 0 {
			t.Errorf("backend %d got none of 40 requests: %v", i, seen)
		}
	}
	// No route out: the client reaches nothing outside the bed.
	if err := netns.Exec(bed.ClientNS, "curl", "-s", "--max-time", "1", "http://192.0.2.1/"); err == nil {
		t.Error("client namespace reached an address outside the bed")
	}
}

func failover(t *testing.T, bed *Bed) {
	t.Helper()
	d, err := netns.NewDialer(bed.ClientNS)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	var killed atomic.Value
	killed.Store("")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	done := make(chan *LoadResult, 1)
	go func() {
		done <- RunLoad(ctx, LoadOptions{URL: "http://" + bed.VIP.String() + "/whoami", Workers: 8,
			Dial: d.DialContext, Killed: func() string { return killed.Load().(string) }})
	}()
	time.Sleep(2 * time.Second)
	killed.Store("2")
	if err := syscall.Kill(bed.PID("backend-2"), syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	res := <-done
	t.Log(res)
	if err := res.Check(1000); err != nil {
		t.Error(err)
	}
}

func down(t *testing.T, bed *Bed) {
	t.Helper()
	pids := readLines(filepath.Join(bed.Opts.StateDir, "pids"))
	if err := bed.Down(); err != nil {
		t.Fatal(err)
	}
	if left, _ := netns.List(bed.Opts.Prefix + "-"); len(left) > 0 {
		t.Errorf("namespaces left after Down: %v", left)
	}
	if _, err := os.Stat(bed.Opts.PinDir()); err == nil {
		t.Errorf("pinned maps left in %s", bed.Opts.PinDir())
	}
	for _, p := range pids {
		if b, err := os.ReadFile("/proc/" + p + "/stat"); err == nil && !strings.Contains(string(b), ") Z ") {
			t.Errorf("process %s still running after Down", p)
		}
	}
}

func TestOptionsValidate(t *testing.T) {
	tests := []struct {
		name string
		o    Options
		ok   bool
	}{
		{"defaults", Options{Bin: "x"}, true},
		{"long prefix", Options{Prefix: "waytoolongprefix", Bin: "x"}, false},
		{"bad prefix", Options{Prefix: "a-b", Bin: "x"}, false},
		{"too many backends", Options{Backends: MaxBackends + 1, Bin: "x"}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.o.defaults()
			if (err == nil) != tc.ok {
				t.Fatalf("defaults() = %v, want ok=%v", err, tc.ok)
			}
		})
	}
}

// sameChoice sends flows with chosen source ports from the client and
// checks each lands on the backend that weighted Maglev over flowhash picks
// for its 5-tuple: the choice both the XDP program and the userspace proxy
// must make, so a flow gets the same backend in either mode.
func sameChoice(t *testing.T, bed *Bed) {
	t.Helper()
	var in []lb.Weighted
	for _, b := range bed.Backends {
		in = append(in, lb.Weighted{ID: b.String(), Weight: 1})
	}
	table, _, err := maglev.Build(in, 0)
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]string{}
	for i, b := range bed.Backends {
		ids[b.String()] = fmt.Sprint(i + 1)
	}
	// Below the ephemeral range, so no earlier connection holds the port.
	for sport := uint16(20000); sport < 20024; sport++ {
		h := flowhash.Hash(clientIP, VIP.Addr(), sport, VIP.Port(), uint8(lb.TCP))
		want := ids[table.LookupID(h)]
		out, err := exec.Command("ip", "netns", "exec", bed.ClientNS, "curl", "-sf", "--max-time", "2",
			"--local-port", fmt.Sprint(sport), "http://"+VIP.String()+"/whoami").Output()
		if err != nil {
			t.Fatalf("flow from port %d: %v", sport, err)
		}
		if got := strings.TrimSpace(string(out)); got != want {
			t.Errorf("flow %s:%d -> %s answered by backend %s, the shared table says %s", clientIP, sport, VIP, got, want)
		}
	}
}
