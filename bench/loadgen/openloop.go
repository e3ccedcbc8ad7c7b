package loadgen

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/valyala/fasthttp"
)

// OpenLoop sends HTTP GETs at a fixed rate regardless of how fast answers
// come back. Request i is due at start + i/Rate; its latency is measured from
// that intended time, so time a request spent waiting for a free connection
// behind a slow answer counts against the server (no coordinated omission).
type OpenLoop struct {
	// URL is requested with GET; every request uses the same URL unless Path
	// is set.
	URL string
	// Path, if set, returns the request URI for request i (e.g. a Zipf key).
	Path func(i uint64) string
	// Rate is requests per second.
	Rate float64
	// Duration bounds the schedule: requests due after it are not sent.
	Duration time.Duration
	// Conns caps concurrent requests (and connections); 64 if zero.
	Conns int
	// Timeout bounds one request; 2 s if zero. A timed-out request counts as
	// an error and its latency is recorded as the timeout.
	Timeout time.Duration
}

// OpenLoopResult is what one open-loop run saw.
type OpenLoopResult struct {
	Hist     Histogram
	Sent     uint64
	Errors   uint64
	Non2xx   uint64
	Elapsed  time.Duration
	Achieved float64 // completed requests per second
}

// ErrBadLoad is returned for an open-loop run that cannot be scheduled.
var ErrBadLoad = errors.New("invalid load parameters")

// Run executes the schedule and returns the merged latency histogram.
func (o *OpenLoop) Run(ctx context.Context) (*OpenLoopResult, error) {
	if o.Rate <= 0 || o.Duration <= 0 || o.URL == "" {
		return nil, fmt.Errorf("%w: rate %v, duration %v, url %q", ErrBadLoad, o.Rate, o.Duration, o.URL)
	}
	conns := o.Conns
	if conns <= 0 {
		conns = 64
	}
	timeout := o.Timeout
	if timeout <= 0 {
		timeout = 2 * time.Second
	}
	client := &fasthttp.Client{
		MaxConnsPerHost:          conns,
		ReadTimeout:              timeout,
		WriteTimeout:             timeout,
		MaxIdleConnDuration:      time.Minute,
		NoDefaultUserAgentHeader: true,
	}
	defer client.CloseIdleConnections()

	interval := time.Duration(float64(time.Second) / o.Rate)
	total := uint64(o.Duration / interval)
	var next atomic.Uint64
	hists := make([]Histogram, conns)
	var errs, non2xx, sent atomic.Uint64
	start := time.Now()
	var wg sync.WaitGroup
	for w := 0; w < conns; w++ {
		wg.Add(1)
		go func(h *Histogram) {
			defer wg.Done()
			req := fasthttp.AcquireRequest()
			resp := fasthttp.AcquireResponse()
			defer fasthttp.ReleaseRequest(req)
			defer fasthttp.ReleaseResponse(resp)
			for {
				i := next.Add(1) - 1
				if i >= total || ctx.Err() != nil {
					return
				}
				intended := start.Add(time.Duration(i) * interval)
				if wait := time.Until(intended); wait > 0 {
					time.Sleep(wait)
				}
				uri := o.URL
				if o.Path != nil {
					uri = o.URL + o.Path(i)
				}
				req.SetRequestURI(uri)
				sent.Add(1)
				err := client.DoTimeout(req, resp, timeout)
				h.Record(time.Since(intended))
				switch {
				case err != nil:
					errs.Add(1)
				case resp.StatusCode() < 200 || resp.StatusCode() > 399:
					non2xx.Add(1)
				}
			}
		}(&hists[w])
	}
	wg.Wait()
	res := &OpenLoopResult{Sent: sent.Load(), Errors: errs.Load(), Non2xx: non2xx.Load(), Elapsed: time.Since(start)}
	for i := range hists {
		res.Hist.Merge(&hists[i])
	}
	if res.Elapsed > 0 {
		res.Achieved = float64(res.Sent-res.Errors) / res.Elapsed.Seconds()
	}
	if err := ctx.Err(); err != nil {
		return res, fmt.Errorf("open-loop run: %w", err)
	}
	return res, nil
}
