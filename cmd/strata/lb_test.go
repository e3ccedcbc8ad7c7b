package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/strata-dp/strata/internal/testbed"
)

// startBackends starts n `strata testbed backend` processes.
func startBackends(t *testing.T, n int) ([]*proc, []string) {
	t.Helper()
	var procs []*proc
	var addrs []string
	for i := 1; i <= n; i++ {
		p := strataProc(t, nil, "testbed", "backend", "--listen", "127.0.0.1:0", "--id", fmt.Sprint(i))
		procs = append(procs, p)
		addrs = append(addrs, p.line(t, "LISTEN="))
	}
	return procs, addrs
}

// TestLBFailoverUserspace is the failover proof on loopback: under HTTP
// load through `strata lb --mode userspace`, SIGKILL one of four backends.
// Connections to the others must see no error, and at least 99.9% of all
// requests must succeed.
func TestLBFailoverUserspace(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns processes")
	}
	backends, addrs := startBackends(t, 4)
	vip := freePort(t)
	args := []string{"lb", "--mode", "userspace", "--vip", vip, "--health", "http:/whoami", "--slow-start", "0"}
	for _, a := range addrs {
		args = append(args, "--backend", a)
	}
	lbProc := strataProc(t, nil, args...)
	waitServing(t, vip)
	// Fresh connections spread over every backend (60 of them miss one of
	// four with probability 4*(3/4)^60, about 1e-7). The load below keeps 8
	// connections alive, which may well leave a backend out, so spread is
	// judged here and not there.
	seen := map[string]bool{}
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 5 * time.Second}
	for i := 0; i < 60; i++ {
		resp, err := client.Get("http://" + vip + "/whoami")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		seen[string(b)] = true
	}
	if len(seen) != 4 {
		t.Fatalf("60 new connections reached backends %v, want all 4", seen)
	}

	var killed atomic.Value
	killed.Store("")
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Second)
	defer cancel()
	done := make(chan *testbed.LoadResult, 1)
	go func() {
		done <- testbed.RunLoad(ctx, testbed.LoadOptions{URL: "http://" + vip + "/whoami", Workers: 8,
			Killed: func() string { return killed.Load().(string) }})
	}()
	time.Sleep(1500 * time.Millisecond)
	killed.Store("2")
	if err := backends[1].cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	res := <-done
	t.Log(res)
	if err := res.Check(1000); err != nil {
		t.Error(err)
	}
	if survivors := res.ByID["1"] + res.ByID["3"] + res.ByID["4"]; survivors == 0 {
		t.Errorf("the surviving backends served nothing: %v", res.ByID)
	}
	if !strings.Contains(lbProc.stderr.String(), "backend down") {
		t.Errorf("lb did not log the dead backend going down:\n%s", lbProc.stderr)
	}
}

// TestLBAutoFallsBackWithoutCapabilities runs `strata lb --mode auto` as a
// container would: without CAP_BPF and CAP_NET_ADMIN. It must pick
// userspace, say so, export it as a metric, and serve.
func TestLBAutoFallsBackWithoutCapabilities(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns processes")
	}
	var wrap []string
	if os.Geteuid() == 0 {
		capsh, err := exec.LookPath("capsh")
		if err != nil {
			t.Skip("root needs capsh (libcap2-bin) to drop capabilities")
		}
		// capsh runs bash -c; "$0" "$@" re-execs the helper unchanged.
		wrap = []string{capsh, "--drop=cap_bpf,cap_net_admin,cap_sys_admin", "--", "-c", `exec "$0" "$@"`}
	}
	_, addrs := startBackends(t, 2)
	vip, metrics := freePort(t), freePort(t)
	p := strataProc(t, wrap, "lb", "--mode", "auto", "--iface", "lo", "--vip", vip,
		"--backend", addrs[0], "--backend", addrs[1], "--metrics", metrics)
	waitServing(t, vip)
	seen := map[string]bool{}
	for i := 0; i < 40; i++ {
		resp, err := (&http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 5 * time.Second}).Get("http://" + vip + "/whoami")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		seen[string(b)] = true
	}
	if !seen["1"] || !seen["2"] {
		t.Errorf("requests did not reach both backends: %v", seen)
	}
	logs := p.stderr.String()
	if !strings.Contains(logs, "mode=userspace") || !strings.Contains(logs, "missing CAP_BPF") {
		t.Errorf("lb log does not show the fallback and its reason:\n%s", logs)
	}
	resp, err := http.Get("http://" + metrics + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), `strata_lb_mode{mode="userspace"} 1`) {
		t.Errorf("metrics lack strata_lb_mode{mode=\"userspace\"} 1")
	}
}
