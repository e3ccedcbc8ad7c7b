// Package netns creates and removes Linux network namespaces and runs
// commands in them, through iproute2 (the tool every operator can use to
// inspect what it made). Names are caller-chosen and must carry a prefix
// unique to the caller, because namespaces are host-global.
//
// What is dangerous here: everything is root-only and host-global; callers
// must delete what they create, also on failure.
package netns

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
)

// ErrNotRoot is returned when the process cannot manage namespaces.
var ErrNotRoot = errors.New("netns: needs root (CAP_SYS_ADMIN and CAP_NET_ADMIN)")

// Available reports whether this process may create namespaces.
func Available() error {
	if os.Geteuid() != 0 {
		return ErrNotRoot
	}
	if _, err := exec.LookPath("ip"); err != nil {
		return fmt.Errorf("netns: iproute2 not installed: %w", err)
	}
	return nil
}

// Run runs a command and returns a wrapped error with its output on failure.
func Run(name string, args ...string) error {
	_, err := Output(name, args...)
	return err
}

// Output runs a command and returns its stdout.
func Output(name string, args ...string) (string, error) {
	cmd := exec.Command(name, args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return out.String(), fmt.Errorf("%s %s: %w: %s", name, strings.Join(args, " "), err, strings.TrimSpace(errb.String()))
	}
	return out.String(), nil
}

// Add creates a namespace with its loopback up.
func Add(ns string) error {
	if err := Run("ip", "netns", "add", ns); err != nil {
		return err
	}
	return Run("ip", "-n", ns, "link", "set", "lo", "up")
}

// Delete removes a namespace; links inside it go with it.
func Delete(ns string) error { return Run("ip", "netns", "delete", ns) }

// Exists reports whether the namespace exists.
func Exists(ns string) bool {
	_, err := os.Stat("/run/netns/" + ns)
	return err == nil
}

// List returns the namespaces whose names start with prefix.
func List(prefix string) ([]string, error) {
	entries, err := os.ReadDir("/run/netns")
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, nil
		}
		return nil, err
	}
	var out []string
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), prefix) {
			out = append(out, e.Name())
		}
	}
	return out, nil
}

// Exec runs a command inside ns.
func Exec(ns string, args ...string) error {
	return Run("ip", append([]string{"netns", "exec", ns}, args...)...)
}

// Command returns an unstarted command that runs inside ns.
func Command(ns string, args ...string) *exec.Cmd {
	return exec.Command("ip", append([]string{"netns", "exec", ns}, args...)...)
}
