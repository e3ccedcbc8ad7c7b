package bench

import (
	"embed"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"text/template"
)

// The peers' configuration files. They are templates only for the addresses
// and directories of a run; every other setting is the peer's as shipped, so
// that the comparison is with what a user would install.
//
//go:embed peers/*
var peerFiles embed.FS

// RenderPeerConfig renders bench/peers/NAME with data into dir and returns
// the path of the rendered file.
func RenderPeerConfig(dir, name string, data any) (string, error) {
	src, err := peerFiles.ReadFile("peers/" + name)
	if err != nil {
		return "", fmt.Errorf("peer config %s: %w", name, err)
	}
	tmpl, err := template.New(name).Option("missingkey=error").Parse(string(src))
	if err != nil {
		return "", fmt.Errorf("parse peer config %s: %w", name, err)
	}
	var b strings.Builder
	if err := tmpl.Execute(&b, data); err != nil {
		return "", fmt.Errorf("render peer config %s: %w", name, err)
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		return "", fmt.Errorf("write peer config: %w", err)
	}
	return path, nil
}

// ErrMissing is returned when a peer or a tool is not installed, or a
// Strata subcommand is not built into the binary.
var ErrMissing = errors.New("not available")

// aptPackage names the Debian package that provides each tool.
var aptPackage = map[string]string{
	"redis-server":    "redis-server",
	"redis-benchmark": "redis-tools",
	"varnishd":        "varnish",
	"nginx":           "nginx",
	"haproxy":         "haproxy",
	"wrk":             "wrk",
	"nft":             "nftables",
	"ip":              "iproute2",
}

// LookTool finds an installed tool, also in the sbin directories that a
// non-root PATH lacks.
func LookTool(name string) (string, error) {
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	for _, dir := range []string{"/usr/sbin", "/sbin", "/usr/local/sbin"} {
		p := filepath.Join(dir, name)
		if st, err := os.Stat(p); err == nil && st.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	hint := ""
	if pkg, ok := aptPackage[name]; ok {
		hint = " (install it with: apt-get install " + pkg + ")"
	}
	return "", fmt.Errorf("%w: %s is not installed%s", ErrMissing, name, hint)
}
