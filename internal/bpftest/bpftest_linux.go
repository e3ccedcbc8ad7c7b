package bpftest

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"golang.org/x/sys/unix"
)

// RequireRoot skips t unless the test runs as root.
func RequireRoot(tb testing.TB) {
	tb.Helper()
	if os.Geteuid() != 0 {
		tb.Skip("needs root (CAP_BPF, CAP_NET_ADMIN) to load BPF programs; run as root, as CI does")
	}
}

// PinDir mounts a private bpffs in a temporary directory and returns a pin
// directory inside it; cleanup unmounts it, so tests never touch
// /sys/fs/bpf and leave nothing pinned even when they fail.
func PinDir(tb testing.TB) string {
	tb.Helper()
	RequireRoot(tb)
	mnt := tb.TempDir()
	if err := unix.Mount("bpf", mnt, "bpf", 0, "mode=0700"); err != nil {
		tb.Fatalf("mount bpffs: %v", err)
	}
	tb.Cleanup(func() {
		if err := unix.Unmount(mnt, unix.MNT_DETACH); err != nil {
			tb.Errorf("unmount bpffs %s: %v", mnt, err)
		}
	})
	return filepath.Join(mnt, "strata")
}

// OnCPU0 runs fn on CPU 0 with the goroutine's thread locked, so BPF test
// runs that use per-CPU state (WRR cursors, per-CPU LRU lists) see one CPU.
func OnCPU0(tb testing.TB, fn func()) {
	tb.Helper()
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var old, one unix.CPUSet
	if err := unix.SchedGetaffinity(0, &old); err != nil {
		tb.Fatalf("sched_getaffinity: %v", err)
	}
	one.Set(0)
	if err := unix.SchedSetaffinity(0, &one); err != nil {
		tb.Fatalf("sched_setaffinity: %v", err)
	}
	defer func() {
		if err := unix.SchedSetaffinity(0, &old); err != nil {
			tb.Errorf("restore affinity: %v", err)
		}
	}()
	fn()
}
