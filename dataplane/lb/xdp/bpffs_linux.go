package xdp

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

const bpffsRoot = "/sys/fs/bpf"

// ensurePinDir makes dir, which must be on a BPF filesystem. If dir is under
// /sys/fs/bpf and nothing is mounted there yet (a bare host or a fresh
// container), it mounts bpffs there first, as the tools that pin BPF
// objects conventionally do.
func ensurePinDir(dir string) error {
	dir = filepath.Clean(dir)
	if !onBPFFS(dir) {
		if dir != bpffsRoot && !strings.HasPrefix(dir, bpffsRoot+"/") {
			return fmt.Errorf("xdp: pin directory %s is not on a bpf filesystem", dir)
		}
		if !onBPFFS(bpffsRoot) {
			if err := unix.Mount("bpf", bpffsRoot, "bpf", 0, "mode=0700"); err != nil {
				return fmt.Errorf("xdp: mount bpffs at %s: %w", bpffsRoot, err)
			}
		}
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("xdp: pin directory: %w", err)
	}
	return nil
}

// onBPFFS reports whether dir, or its nearest existing parent, is on bpffs.
func onBPFFS(dir string) bool {
	for {
		var st unix.Statfs_t
		err := unix.Statfs(dir, &st)
		if err == nil {
			return st.Type == unix.BPF_FS_MAGIC
		}
		if !errors.Is(err, unix.ENOENT) {
			return false
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return false
		}
		dir = parent
	}
}
