package loadgen

import "time"

// MaxLiveFrames bounds one LiveXDP run (frames × Repeat × Rounds).
const MaxLiveFrames = 1 << 26

// LiveXDP injects frames at kernel speed with BPF_PROG_RUN in live-frames
// mode (BPF_F_TEST_XDP_LIVE_FRAMES, Linux >= 5.18): the kernel runs an XDP
// program on each frame as if Iface in namespace NS had received it, and
// honours the verdict, so XDP_TX/XDP_REDIRECT really transmit and
// XDP_PASS really enters the namespace's network stack. No socket and no
// user-space copy per packet: the generator costs the kernel a page-pool
// buffer per frame, so what limits the rate is the path under test.
type LiveXDP struct {
	// NS and Iface name the ingress interface (the test run happens with
	// the calling thread inside NS).
	NS, Iface string
	// Every frame first goes through a PassRestore program (one test run
	// for the whole set). Attached makes it tail-call the XDP program
	// attached to Iface (a load balancer's own program, sharing its maps),
	// whose verdict counts; otherwise it returns XDP_PASS and the frames
	// enter the kernel stack.
	Attached bool
	// Frames (all of one length) are injected in turn, Repeat at a time,
	// the whole set Rounds times.
	Frames [][]byte
	Repeat int
	Rounds int
}

// LiveResult is what one LiveXDP run injected, and how long it took.
type LiveResult struct {
	Injected uint64
	Elapsed  time.Duration
}

// PerSec is the injection rate.
func (r LiveResult) PerSec() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Injected) / r.Elapsed.Seconds()
}
