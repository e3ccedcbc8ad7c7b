package facade

import (
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/valyala/fasthttp"
)

// Call is one backend call of a fan-out.
type Call struct {
	// Name identifies the part in the result and in Missing.
	Name string
	// Method defaults to GET.
	Method string
	// URL is absolute (http://host:port/path?query).
	URL  string
	Body []byte
	// Timeout bounds the whole call, retries included; the fan-out's
	// deadline bounds it further. Zero means only the deadline.
	Timeout time.Duration
	// Required parts must succeed for the fan-out to succeed; optional ones
	// that fail are named in Result.Missing.
	Required bool
	// Idempotent calls may be retried (Retries times at most, within the
	// retry budget) after a connection error or a 5xx answer; others never.
	Idempotent bool
	Retries    int
}

// Part is the outcome of one Call.
type Part struct {
	Name     string
	Required bool
	// Status is the backend's HTTP status (0 when no response came).
	Status int
	// Body is the response body, owned by the caller.
	Body     []byte
	Err      error
	Attempts int
	Elapsed  time.Duration
}

// OK reports whether the part succeeded (a 2xx answer).
func (p *Part) OK() bool { return p.Err == nil && p.Status >= 200 && p.Status < 300 }

// Result holds every part in the order of the calls.
type Result struct {
	Parts []Part
	// Missing names the optional parts that failed.
	Missing []string
}

// Part returns the named part, or nil.
func (r *Result) Part(name string) *Part {
	for i := range r.Parts {
		if r.Parts[i].Name == name {
			return &r.Parts[i]
		}
	}
	return nil
}

// FanOutConfig shapes a FanOut. Zero values take the defaults.
type FanOutConfig struct {
	// Client makes the calls (default: a client without fasthttp's own
	// retries, so that only the budgeted retries here happen).
	Client *fasthttp.Client
	// Budget bounds retries (default: 10% of calls plus 5 per second).
	Budget *RetryBudget
	// MaxBodySize bounds each part's body (default 1 MiB).
	MaxBodySize int
	// Registry receives the fan-out counters (nil: not exported).
	Registry prometheus.Registerer
}

// FanOut calls several backends at once and merges by the parts' rules.
// Every call ends by its own timeout and the overall deadline: fasthttp has
// no cancellation, so the deadline goes down to each connection
// (Client.DoDeadline) and a hung backend costs at most that time.
type FanOut struct {
	client  *fasthttp.Client
	budget  *RetryBudget
	calls   *prometheus.CounterVec
	retries prometheus.Counter
}

// NewFanOut returns a FanOut.
func NewFanOut(cfg FanOutConfig) (*FanOut, error) {
	if cfg.MaxBodySize <= 0 {
		cfg.MaxBodySize = 1 << 20
	}
	if cfg.Client == nil {
		cfg.Client = &fasthttp.Client{
			Name:                      "strata-facade",
			MaxConnsPerHost:           512,
			MaxIdemponentCallAttempts: 1,
			MaxResponseBodySize:       cfg.MaxBodySize,
			MaxIdleConnDuration:       30 * time.Second,
			MaxConnWaitTimeout:        time.Second,
			RetryIfErr:                func(*fasthttp.Request, int, error) (bool, bool) { return false, false },
		}
	}
	if cfg.Budget == nil {
		cfg.Budget = NewRetryBudget(0.1, 5)
	}
	f := &FanOut{client: cfg.Client, budget: cfg.Budget}
	f.calls = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "strata_facade_fanout_calls_total",
		Help: "Fan-out calls by part name and result (ok, failed, timeout).",
	}, []string{"part", "result"})
	f.retries = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "strata_facade_fanout_retries_total",
		Help: "Retries of idempotent fan-out calls taken from the retry budget.",
	})
	if cfg.Registry != nil {
		for _, c := range []prometheus.Collector{f.calls, f.retries} {
			if err := cfg.Registry.Register(c); err != nil {
				return nil, fmt.Errorf("facade: register fan-out metrics: %w", err)
			}
		}
	}
	return f, nil
}

// Do runs calls concurrently, each until its timeout or deadline, and
// returns every part. The error wraps ErrRequiredPartFailed when a required
// part failed; the result is complete either way. requestID, if set, is
// passed on as X-Request-Id.
func (f *FanOut) Do(deadline time.Time, requestID []byte, calls []Call) (*Result, error) {
	res := &Result{Parts: make([]Part, len(calls))}
	var wg sync.WaitGroup
	for i := range calls {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res.Parts[i] = f.call(deadline, requestID, &calls[i])
		}()
	}
	wg.Wait()
	var failed []error
	for i := range res.Parts {
		p := &res.Parts[i]
		switch {
		case p.OK():
			f.calls.WithLabelValues(p.Name, "ok").Inc()
			continue
		case errors.Is(p.Err, fasthttp.ErrTimeout), errors.Is(p.Err, ErrDeadline):
			f.calls.WithLabelValues(p.Name, "timeout").Inc()
		default:
			f.calls.WithLabelValues(p.Name, "failed").Inc()
		}
		if p.Required {
			failed = append(failed, fmt.Errorf("%w: %s: %s", ErrRequiredPartFailed, p.Name, p.describe()))
		} else {
			res.Missing = append(res.Missing, p.Name)
		}
	}
	return res, errors.Join(failed...)
}

func (p *Part) describe() string {
	if p.Err != nil {
		return p.Err.Error()
	}
	return fmt.Sprintf("status %d", p.Status)
}

func (f *FanOut) call(deadline time.Time, requestID []byte, c *Call) Part {
	start := time.Now()
	p := Part{Name: c.Name, Required: c.Required}
	end := deadline
	if c.Timeout > 0 && start.Add(c.Timeout).Before(end) {
		end = start.Add(c.Timeout)
	}
	req := fasthttp.AcquireRequest()
	resp := fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	f.budget.Deposit()
	for {
		p.Attempts++
		req.Reset()
		resp.Reset()
		req.SetRequestURI(c.URL)
		if c.Method != "" {
			req.Header.SetMethod(c.Method)
		}
		if len(requestID) > 0 {
			req.Header.SetBytesV(RequestIDHeader, requestID)
		}
		if c.Body != nil {
			req.SetBody(c.Body)
		}
		if !time.Now().Before(end) {
			p.Err = ErrDeadline
			break
		}
		p.Err = f.client.DoDeadline(req, resp, end)
		p.Status = 0
		switch {
		case p.Err == nil:
			p.Status = resp.StatusCode()
		case errors.Is(p.Err, fasthttp.ErrTimeout):
			p.Err = fmt.Errorf("%w (%w)", ErrDeadline, p.Err)
		}
		if !c.Idempotent || p.Attempts > c.Retries || !retryable(p.Err, p.Status) || !f.budget.Withdraw() {
			break
		}
		f.retries.Inc()
	}
	if p.Err == nil {
		p.Body = append([]byte(nil), resp.Body()...)
	}
	p.Elapsed = time.Since(start)
	return p
}

// retryable: connection failures and 5xx answers (but 501, which will not
// change). A timeout is not retried: the time is gone.
func retryable(err error, status int) bool {
	if err != nil {
		return !errors.Is(err, fasthttp.ErrTimeout) && !errors.Is(err, ErrDeadline)
	}
	return status >= fasthttp.StatusInternalServerError && status != fasthttp.StatusNotImplemented
}
