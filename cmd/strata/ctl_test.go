package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/strata-dp/strata/control"
)

// fakeControl answers /api/v1/components with one component that turned
// ready three minutes ago.
func fakeControl(t *testing.T) string {
	t.Helper()
	since := time.Now().Add(-3*time.Minute - 5*time.Second).UTC()
	restarted := time.Now().Add(-time.Minute).UTC()
	body, _ := json.Marshal([]control.Status{
		{Name: "facade-1", Tier: "facade", Ready: true, Since: since, LastCheck: time.Now()},
		{Name: "state-2", Tier: "state", Ready: true, Since: restarted, LastCheck: time.Now(),
			Restarts: 2, LastExit: "signal: killed", LastRestart: &restarted},
	})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/api/v1/components" {
			http.NotFound(w, r)
			return
		}
		w.Write(body)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// Flags go anywhere on the line, before or after the view.
func TestCtlTakesFlagsAnywhere(t *testing.T) {
	url := fakeControl(t)
	for _, args := range [][]string{
		{"ctl", "--control", url, "--json", "components"},
		{"ctl", "components", "--json", "--control", url},
		{"ctl", "--control", url, "components", "--json"},
	} {
		code, stdout, stderr := runCLI(t, args...)
		if code != 0 || !strings.HasPrefix(stdout, "[{") {
			t.Errorf("%v: exit %d, stdout %q, stderr %q", args, code, stdout, stderr)
		}
	}
	if code, _, stderr := runCLI(t, "ctl", "components", "state", "--control", url); code != 2 || !strings.Contains(stderr, "exactly one") {
		t.Errorf("two views: exit %d, %q", code, stderr)
	}
}

// Tables print times relative to now; --json keeps RFC 3339.
func TestCtlPrintsTimesAsTimes(t *testing.T) {
	url := fakeControl(t)
	code, stdout, stderr := runCLI(t, "ctl", "components", "--control", url)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(stdout, "3m ago") || strings.Contains(stdout, "0001-01-01") {
		t.Fatalf("table does not say 3m ago:\n%s", stdout)
	}
	if !strings.Contains(stdout, "RESTARTS") || !strings.Contains(stdout, "signal: killed (restarted 1m ago)") {
		t.Fatalf("table does not show state-2's restarts and last exit:\n%s", stdout)
	}
	if got := ago(time.Now(), time.Time{}); got != "never" {
		t.Fatalf("zero time: %q", got)
	}
	_, stdout, _ = runCLI(t, "ctl", "components", "--control", url, "--json")
	if !strings.Contains(stdout, `"since":"20`) {
		t.Fatalf("JSON lost RFC 3339: %s", stdout)
	}
}

// strata completion bash is generated from the subcommands and their
// flags, and completes them in bash.
func TestCompletionScriptNamesTheSubcommands(t *testing.T) {
	code, script, stderr := runCLI(t, "completion", "bash")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for name := range commands {
		if !strings.Contains(script, " "+name) {
			t.Errorf("script does not name subcommand %s", name)
		}
	}
	for _, w := range []string{"services", "components", "--json", "--print-config", "--slow-start", "--auth-secret-file"} {
		if !strings.Contains(script, w) {
			t.Errorf("script does not offer %s", w)
		}
	}
	if code, zsh, _ := runCLI(t, "completion", "zsh"); code != 0 || !strings.Contains(zsh, "bashcompinit") {
		t.Errorf("zsh: exit %d", code)
	}
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("no bash to run the script")
	}
	path := filepath.Join(t.TempDir(), "strata.bash")
	os.WriteFile(path, []byte(script), 0o644)
	out, err := exec.Command(bash, "-c", `source "$1"; COMP_WORDS=(strata ctl s); COMP_CWORD=2; _strata; echo "${COMPREPLY[@]}"`, "_", path).CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "services state" {
		t.Fatalf("completing 'strata ctl s': %q, %v", out, err)
	}
}
