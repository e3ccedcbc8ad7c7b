package bench

import (
	"context"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"time"

	"github.com/strata-dp/strata/bench/result"
)

// CurrentMachine describes this host for a results file.
func CurrentMachine() result.Machine {
	m := result.Machine{
		CPUs:     runtime.NumCPU(),
		Kernel:   readTrim("/proc/sys/kernel/osrelease"),
		Go:       runtime.Version(),
		LoadAvg:  loadAvg(),
		CPUModel: cpuModel(),
		Versions: map[string]string{},
	}
	if m.Kernel == "" {
		m.Kernel = runtime.GOOS
	}
	return m
}

func readTrim(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

// loadAvg is recorded because this machine is shared: a high load at the
// start of a run explains noisy figures.
func loadAvg() string {
	f := strings.Fields(readTrim("/proc/loadavg"))
	if len(f) < 3 {
		return ""
	}
	return strings.Join(f[:3], " ")
}

func cpuModel() string {
	for _, line := range strings.Split(readTrim("/proc/cpuinfo"), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// versionCommands says how to ask each tool its version.
var versionCommands = map[string][]string{
	"redis-server":    {"--version"},
	"redis-benchmark": {"--version"},
	"varnishd":        {"-V"},
	"nginx":           {"-v"},
	"haproxy":         {"-v"},
	"wrk":             {"-v"},
	"nft":             {"--version"},
}

// ToolVersion returns the first line a tool prints about its version.
func ToolVersion(ctx context.Context, tool string) string {
	path, err := LookTool(tool)
	if err != nil {
		return "missing"
	}
	args, ok := versionCommands[tool]
	if !ok {
		args = []string{"--version"}
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	// wrk -v exits non-zero after printing its version; the output is what counts.
	out, _ := exec.CommandContext(ctx, path, args...).CombinedOutput()
	line, _, _ := strings.Cut(strings.TrimSpace(string(out)), "\n")
	return strings.TrimSpace(line)
}
