package stack

import (
	"slices"
	"testing"

	"github.com/strata-dp/strata/internal/config"
)

// flagValue is the value after the last --name in args.
func flagValue(args []string, name string) (string, bool) {
	v, ok := "", false
	for i := 0; i+1 < len(args); i++ {
		if args[i] == name {
			v, ok = args[i+1], true
		}
	}
	return v, ok
}

// Every state node requires the run's secret and every facade sends it, on
// loopback and across the xdp bed's 198.18.0.x addresses alike; none is
// started with the opt-out. The control plane gets the token file exactly
// when it listens beyond loopback.
func TestChildrenAuthenticateToTheStateTier(t *testing.T) {
	files := runFiles{config: "/run/x/stack.yaml", stateSecret: "/run/x/state.secret", controlToken: "/run/x/control.token"}
	load := func(yaml string) *config.Stack {
		t.Helper()
		c, err := config.Parse([]byte(yaml))
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	bed, err := planBed(load("host: 127.0.0.9\n"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name         string
		cs           []child
		controlToken bool
	}{
		{"userspace", children(load("host: 127.0.0.9\n"), files), false},
		{"xdp bed", placeChildren(children(bed.cfg, files), bed.cfg), false},
		{"beyond loopback", children(load("host: 192.0.2.7\n"), files), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var states, facades int
			for _, c := range tt.cs {
				if slices.Contains(c.args, "--insecure-no-auth") {
					t.Errorf("%s runs with --insecure-no-auth: %v", c.name, c.args)
				}
				switch c.tier {
				case tierState:
					states++
					if v, _ := flagValue(c.args, "--auth-secret-file"); v != files.stateSecret {
						t.Errorf("%s: --auth-secret-file %q, want %q (args %v)", c.name, v, files.stateSecret, c.args)
					}
				case tierFacade:
					facades++
					if v, _ := flagValue(c.args, "--state-secret-file"); v != files.stateSecret {
						t.Errorf("%s: --state-secret-file %q, want %q (args %v)", c.name, v, files.stateSecret, c.args)
					}
				case tierControl:
					v, ok := flagValue(c.args, "--token-file")
					if ok != tt.controlToken || ok && v != files.controlToken {
						t.Errorf("control: --token-file %q (given: %v), want given: %v", v, ok, tt.controlToken)
					}
				}
			}
			if states != config.DefaultStateNodes || facades != config.DefaultFacades {
				t.Fatalf("%d state nodes and %d facades", states, facades)
			}
		})
	}
}

// Every role setting of the stack file reaches the role's flags, zero
// values that mean "off" included.
func TestEveryRoleSettingReachesItsFlag(t *testing.T) {
	c, err := config.Parse([]byte(`edge: {grace: 30s, keep: 0s, max_object: 1MiB, max_conns_per_ip: 0, store_set_cookie: true, purge_from: [10.0.0.0/8], access_log: true}
lb: {health: {slow_start: 0s}, max_buffered: 64KiB, first_byte_timeout: 0s, outliers: 0, outlier_ejection: 3s, max_conns: 77, loops: 2}
facades: {queue_len: 7, fixed_limit: true, drain_delay: 0s, access_log: true, access_log_sample: 0.25}
state: {max_conns: 9, max_frame: 8KiB, busy_poll: 50us}
`))
	if err != nil {
		t.Fatal(err)
	}
	want := map[tier]map[string]string{
		tierEdge: {"--grace": "30s", "--keep": "0s", "--max-object": "1048576", "--max-conns-per-ip": "0",
			"--store-set-cookie=true": "", "--purge-from": "10.0.0.0/8", "--origin-timeout": "10s",
			"--access-log": "/run/x/logs/edge.access.log", "--access-log-sample": "1"},
		tierLB: {"--slow-start": "0s", "--max-buffered": "65536", "--first-byte-timeout": "0s", "--outliers": "0",
			"--outlier-ejection": "3s", "--max-conns": "77", "--loops": "2"},
		tierFacade: {"--queue-len": "7", "--fixed-limit=true": "", "--drain-delay": "0s", "--request-timeout": "2s",
			"--access-log-sample": "0.25"},
		tierState: {"--max-conns": "9", "--max-frame": "8192", "--busy-poll": "50µs", "--epoch": "1"},
	}
	for _, ch := range children(c, runFiles{config: "stack.yaml", stateSecret: "state.secret", logDir: "/run/x/logs"}) {
		if ch.tier == tierFacade {
			if got, _ := flagValue(ch.args, "--access-log"); got != "/run/x/logs/"+ch.name+".access.log" {
				t.Errorf("%s: --access-log %q, want its own file beside its log", ch.name, got)
			}
		}
		for flag, v := range want[ch.tier] {
			if v == "" {
				if !slices.Contains(ch.args, flag) {
					t.Errorf("%s: no %s in %v", ch.name, flag, ch.args)
				}
				continue
			}
			if got, _ := flagValue(ch.args, flag); got != v {
				t.Errorf("%s: %s %q, want %q", ch.name, flag, got, v)
			}
		}
	}
	// What the file leaves out of state keeps strata state's defaults.
	d, _ := config.Parse(nil)
	for _, ch := range children(d, runFiles{}) {
		if ch.tier == tierState && slices.Contains(ch.args, "--max-conns") {
			t.Errorf("%s: --max-conns given though the file has none: %v", ch.name, ch.args)
		}
	}
}
