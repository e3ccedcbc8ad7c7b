package netns

import (
	"fmt"
	"runtime"

	vnetns "github.com/vishvananda/netns"
)

// Do runs fn with the calling goroutine's OS thread inside namespace ns.
// Sockets and netlink requests fn makes belong to ns. If the thread cannot
// be moved back it stays locked, so Go retires it instead of reusing a
// thread in the wrong namespace.
func Do(ns string, fn func() error) error {
	runtime.LockOSThread()
	orig, err := vnetns.Get()
	if err != nil {
		runtime.UnlockOSThread()
		return fmt.Errorf("netns: current namespace: %w", err)
	}
	defer func() { _ = orig.Close() }()
	target, err := vnetns.GetFromName(ns)
	if err != nil {
		runtime.UnlockOSThread()
		return fmt.Errorf("netns: %s: %w", ns, err)
	}
	defer func() { _ = target.Close() }()
	if err := vnetns.Set(target); err != nil {
		runtime.UnlockOSThread()
		return fmt.Errorf("netns: enter %s: %w", ns, err)
	}
	ferr := fn()
	if err := vnetns.Set(orig); err != nil {
		return fmt.Errorf("netns: leave %s: %w (thread retired)", ns, err)
	}
	runtime.UnlockOSThread()
	return ferr
}
