package userspace

import (
	"runtime"
	"sync"
)

// An event loop waits in epoll_wait, a blocking system call, holding its P.
// When every P is held that way, the runtime's monitor takes the P away
// after 20 µs and wakes a spinning thread to look for work, then the loop
// has to win a P back when epoll_wait returns: about one futex wake-up and
// several monitor wake-ups per proxied connection, measured with strace at
// a new connection per request. One P more than the event loops keeps an
// idle P, so the monitor leaves waiting loops alone and backs off.

// maxExtraProcs bounds how far the proxy raises GOMAXPROCS over the CPUs.
const maxExtraProcs = 64

var procsMu sync.Mutex

// startProcs is GOMAXPROCS before any proxy raised it: the default number
// of loops, so that a second proxy in the process does not grow from the
// first one's increase.
var startProcs = runtime.GOMAXPROCS(0)

// ensureProcs raises GOMAXPROCS to loops+1 if it is lower; it never lowers
// it and never goes beyond the CPU count plus maxExtraProcs.
func ensureProcs(loops int) {
	procsMu.Lock()
	defer procsMu.Unlock()
	want := min(loops+1, runtime.NumCPU()+maxExtraProcs)
	if runtime.GOMAXPROCS(0) < want {
		runtime.GOMAXPROCS(want)
	}
}
