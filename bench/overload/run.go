package overload

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sort"
	"sync"
	"time"

	"github.com/strata-dp/strata/facade"
	"github.com/strata-dp/strata/internal/origin"
	"github.com/valyala/fasthttp"
)

// WorkPath is the facade route the scenario drives: one backend call.
const WorkPath = "/work"

// stack is the system under test: an origin of fixed capacity and a facade
// in front of it, on ephemeral loopback ports.
type stack struct {
	origin   *origin.Server
	app      *facade.App
	client   *fasthttp.HostClient
	stopping []func()
}

func startStack(s *Scenario) (_ *stack, err error) {
	st := &stack{}
	defer func() {
		if err != nil {
			st.stop()
		}
	}()
	lat, err := origin.ParseDist(s.Service.String())
	if err != nil {
		return nil, err
	}
	if st.origin, err = origin.New(origin.Config{Workers: s.Workers, Default: origin.Shape{Latency: lat}}); err != nil {
		return nil, err
	}
	oln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	go func() { _ = st.origin.Serve(oln) }()
	st.stopping = append(st.stopping, func() { shutdown(st.origin.Shutdown) })

	backend := &fasthttp.HostClient{Addr: oln.Addr().String(), MaxConns: 4096, MaxIdemponentCallAttempts: 1}
	adm := s.Admission
	if adm.MaxInflight == 0 {
		adm.MaxInflight = 256
	}
	if adm.MinInflight == 0 {
		adm.MinInflight = 1 // the backend may take fewer than the framework's default floor
	}
	if st.app, err = facade.New(facade.Config{NodeID: "overload", RequestTimeout: s.Timeout, Admission: adm}); err != nil {
		return nil, err
	}
	err = st.app.Handle("GET", WorkPath, func(c *facade.Ctx) error {
		req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
		defer fasthttp.ReleaseRequest(req)
		defer fasthttp.ReleaseResponse(resp)
		req.SetRequestURI("/svc/pricing")
		req.SetHost(backend.Addr)
		if err := backend.DoDeadline(req, resp, c.Deadline()); err != nil {
			if errors.Is(err, fasthttp.ErrTimeout) {
				return facade.ErrDeadline
			}
			return facade.Errorf(fasthttp.StatusBadGateway, "backend: %v", err)
		}
		c.Write(resp.StatusCode(), "application/json", resp.Body())
		return nil
	})
	if err != nil {
		return nil, err
	}
	fln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	go func() { _ = st.app.Serve(fln) }()
	st.stopping = append(st.stopping, func() { shutdown(st.app.Shutdown) })
	st.client = &fasthttp.HostClient{Addr: fln.Addr().String(), MaxConns: 8192, MaxIdemponentCallAttempts: 1}
	return st, nil
}

func shutdown(f func(context.Context) error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = f(ctx)
}

func (st *stack) stop() {
	for i := len(st.stopping) - 1; i >= 0; i-- {
		st.stopping[i]()
	}
	if st.client != nil {
		st.client.CloseIdleConnections()
	}
}

// Run runs a scenario: calibration, the unloaded phase, the overloaded
// phase. It stops early, with what it has, when ctx ends.
func Run(ctx context.Context, s Scenario) (Result, error) {
	if err := s.setDefaults(); err != nil {
		return Result{}, err
	}
	st, err := startStack(&s)
	if err != nil {
		return Result{}, fmt.Errorf("overload: start: %w", err)
	}
	defer st.stop()
	var r Result
	if r.Capacity = st.calibrate(ctx, &s); r.Capacity <= 0 {
		return r, errors.New("overload: calibration served nothing")
	}
	r.Unloaded = st.openLoop(ctx, &s, r.Capacity/2, s.Duration/2)
	r.Overloaded = st.openLoop(ctx, &s, r.Capacity*s.Load, s.Duration)
	return r, ctx.Err()
}

// calibrate measures capacity with a closed loop of 2×Workers clients. They
// send high-priority requests, which wait in the queue instead of being
// shed by the CoDel-style standing-queue rule, so no client spins on cheap
// rejections and steals the CPU the measurement needs.
func (st *stack) calibrate(ctx context.Context, s *Scenario) float64 {
	end := time.Now().Add(s.Duration / 2)
	var mu sync.Mutex
	ok := 0
	var wg sync.WaitGroup
	start := time.Now()
	for i := 0; i < 2*s.Workers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			n := 0
			for time.Now().Before(end) && ctx.Err() == nil {
				if status, _ := st.send(s, facade.PriorityHigh); status == fasthttp.StatusOK {
					n++
				}
			}
			mu.Lock()
			ok += n
			mu.Unlock()
		}()
	}
	wg.Wait()
	return float64(ok) / time.Since(start).Seconds()
}

var priorityValues = [3]string{"high", "normal", "low"}

// send makes one request of class p and returns its status (0 on a
// transport error) and latency.
func (st *stack) send(s *Scenario, p facade.Priority) (int, time.Duration) {
	req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	req.SetRequestURI(WorkPath)
	req.SetHost(st.client.Addr)
	req.Header.Set(facade.PriorityHeader, priorityValues[p])
	start := time.Now()
	if err := st.client.DoDeadline(req, resp, start.Add(s.Timeout)); err != nil {
		return 0, time.Since(start)
	}
	return resp.StatusCode(), time.Since(start)
}

type sample struct {
	counted bool // sent after the warm-up
	class   facade.Priority
	status  int
	latency time.Duration
}

// openLoop offers rate requests per second for dur, whatever the answers,
// with classes interleaved by their shares (smooth weighted round robin).
func (st *stack) openLoop(ctx context.Context, s *Scenario, rate float64, dur time.Duration) Phase {
	dur += s.Warmup
	var (
		mu      sync.Mutex
		samples []sample
		wg      sync.WaitGroup
		credit  [3]float64
	)
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	start := time.Now()
	counting := start.Add(s.Warmup)
	sent, counted := 0, 0
	for now := start; now.Sub(start) < dur && ctx.Err() == nil; now = <-tick.C {
		due := int(rate*now.Sub(start).Seconds()) + 1
		for ; sent < due; sent++ {
			best := 0
			for c := range credit {
				credit[c] += s.Shares[c]
				if credit[c] > credit[best] {
					best = c
				}
			}
			credit[best]--
			count := !now.Before(counting)
			if count {
				counted++
			}
			wg.Add(1)
			go func(p facade.Priority) {
				defer wg.Done()
				status, lat := st.send(s, p)
				mu.Lock()
				samples = append(samples, sample{count, p, status, lat})
				mu.Unlock()
			}(facade.Priority(best))
		}
	}
	elapsed := time.Since(counting)
	wg.Wait()
	ph := Phase{Offered: float64(counted) / elapsed.Seconds(), Elapsed: elapsed, Load: st.app.Load()}
	var lats [3][]time.Duration
	ok := 0
	for _, sm := range samples {
		if !sm.counted {
			continue
		}
		c := &ph.Classes[sm.class]
		c.Sent++
		switch sm.status {
		case fasthttp.StatusOK:
			c.OK++
			ok++
			lats[sm.class] = append(lats[sm.class], sm.latency)
		case fasthttp.StatusTooManyRequests, fasthttp.StatusServiceUnavailable:
			c.Rejected++
		default:
			c.Failed++
		}
	}
	ph.Goodput = float64(ok) / elapsed.Seconds()
	for c := range lats {
		sort.Slice(lats[c], func(i, j int) bool { return lats[c][i] < lats[c][j] })
		ph.Classes[c].P50 = quantile(lats[c], 0.50)
		ph.Classes[c].P99 = quantile(lats[c], 0.99)
	}
	return ph
}

func quantile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(q*float64(len(sorted)-1) + 0.5)
	return sorted[i]
}
