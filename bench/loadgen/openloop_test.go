package loadgen

import (
	"context"
	"errors"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/valyala/fasthttp"
)

// serve starts a fasthttp server on an ephemeral port and returns its URL.
func serve(t *testing.T, h fasthttp.RequestHandler) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &fasthttp.Server{Handler: h}
	go s.Serve(ln)
	t.Cleanup(func() { _ = s.Shutdown() })
	return "http://" + ln.Addr().String() + "/"
}

// TestOpenLoopCountsStalls checks the coordinated-omission correction: one
// stall of the server delays every request scheduled during it, and each of
// those is charged from its intended send time. A closed-loop generator
// would record a single slow request instead.
func TestOpenLoopCountsStalls(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a server and sends load for a second")
	}
	const stall = 300 * time.Millisecond
	var first atomic.Bool
	url := serve(t, func(ctx *fasthttp.RequestCtx) {
		if first.CompareAndSwap(false, true) {
			time.Sleep(stall)
		}
		ctx.SetBodyString("ok")
	})
	tests := []struct {
		name      string
		conns     int
		minSlow   uint64 // requests that must show at least stall/3 of latency
		rate      float64
		duration  time.Duration
		wantCount uint64
	}{
		// At 1000/s, ~300 requests fall due during the stall; with one
		// connection all wait behind it, and those due in its first two
		// thirds see at least a third of it.
		{"one connection", 1, 150, 1000, 600 * time.Millisecond, 600},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := OpenLoop{URL: url, Rate: tt.rate, Duration: tt.duration, Conns: tt.conns}
			r, err := o.Run(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if r.Sent != tt.wantCount || r.Hist.Count() != tt.wantCount {
				t.Fatalf("sent %d, recorded %d, want %d", r.Sent, r.Hist.Count(), tt.wantCount)
			}
			if r.Errors != 0 || r.Non2xx != 0 {
				t.Fatalf("errors %d non-2xx %d", r.Errors, r.Non2xx)
			}
			threshold := stall / 3
			slow := r.Hist.CountAtLeast(threshold)
			if slow < tt.minSlow {
				t.Errorf("%d requests at >= %v, want >= %d (stall not charged to the requests behind it)", slow, threshold, tt.minSlow)
			}
			if r.Hist.Max() < stall {
				t.Errorf("max latency %v below the stall %v", r.Hist.Max(), stall)
			}
		})
	}
}

func TestOpenLoopRejectsBadLoad(t *testing.T) {
	tests := []OpenLoop{
		{URL: "http://127.0.0.1:1/", Rate: 0, Duration: time.Second},
		{URL: "http://127.0.0.1:1/", Rate: 10, Duration: 0},
		{URL: "", Rate: 10, Duration: time.Second},
	}
	for _, o := range tests {
		t.Run("", func(t *testing.T) {
			if _, err := o.Run(context.Background()); !errors.Is(err, ErrBadLoad) {
				t.Errorf("Run(%+v) = %v, want ErrBadLoad", o, err)
			}
		})
	}
}
