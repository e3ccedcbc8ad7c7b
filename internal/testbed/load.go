package testbed

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"sync"
	"time"
)

// LoadOptions drive RunLoad.
type LoadOptions struct {
	URL     string
	Workers int
	// Dial creates connections (e.g. netns.Dialer.DialContext); nil dials
	// from this namespace.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
	// Killed returns the id of the backend deliberately killed so far ("" for
	// none); failures on its connections are expected.
	Killed func() string
	// Backoff is how long a worker waits after a failed request, as a real
	// client would (default 50 ms).
	Backoff time.Duration
}

// LoadResult is what a load run saw. A failure is charged to the backend
// that last answered on the same connection.
type LoadResult struct {
	OK, Failed int
	// HiddenRetries counts requests Go's transport silently retried on a
	// new connection after the reused one died.
	HiddenRetries int
	// FailedOnHealthy lists failures on connections last served by a
	// backend that was not killed: the resets failover must not cause.
	FailedOnHealthy []string
	ByID            map[string]int
}

// RunLoad sends GET requests from Workers keep-alive clients (one
// connection each at a time) until ctx is done.
func RunLoad(ctx context.Context, o LoadOptions) *LoadResult {
	if o.Backoff <= 0 {
		o.Backoff = 50 * time.Millisecond
	}
	if o.Killed == nil {
		o.Killed = func() string { return "" }
	}
	res := &LoadResult{ByID: map[string]int{}}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for w := 0; w < o.Workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tr := &http.Transport{MaxConnsPerHost: 1, MaxIdleConnsPerHost: 1, DialContext: o.Dial}
			defer tr.CloseIdleConnections()
			client := &http.Client{Transport: tr, Timeout: 5 * time.Second}
			lastID := map[net.Conn]string{}
			for ctx.Err() == nil {
				var conns []net.Conn
				trace := &httptrace.ClientTrace{GotConn: func(i httptrace.GotConnInfo) { conns = append(conns, i.Conn) }}
				req, _ := http.NewRequestWithContext(httptrace.WithClientTrace(context.Background(), trace), "GET", o.URL, nil)
				resp, err := client.Do(req)
				var body []byte
				if err == nil {
					body, err = io.ReadAll(resp.Body)
					_ = resp.Body.Close()
				}
				mu.Lock()
				failedConns := conns
				if err == nil && len(conns) > 0 {
					failedConns = conns[:len(conns)-1]
					res.HiddenRetries += len(failedConns)
				}
				for _, c := range failedConns {
					if id, seen := lastID[c]; seen && id != o.Killed() {
						res.FailedOnHealthy = append(res.FailedOnHealthy, fmt.Sprintf("backend %s: %v", id, err))
					}
				}
				if err != nil {
					res.Failed++
				} else {
					res.OK++
					res.ByID[string(body)]++
					lastID[conns[len(conns)-1]] = string(body)
				}
				mu.Unlock()
				if err != nil {
					select {
					case <-ctx.Done():
					case <-time.After(o.Backoff):
					}
				}
			}
		}()
	}
	wg.Wait()
	return res
}

// Check reports what the failover proof requires of a run: no failure on
// a live backend's connection, at least min requests, at least 99.9% ok.
func (r *LoadResult) Check(min int) error {
	total := r.OK + r.Failed
	switch {
	case len(r.FailedOnHealthy) > 0:
		return fmt.Errorf("connections to live backends failed: %v", r.FailedOnHealthy)
	case total < min:
		return fmt.Errorf("only %d requests ran, the proof needs %d", total, min)
	case float64(r.OK) < 0.999*float64(total):
		return fmt.Errorf("%d of %d requests succeeded (%.3f%%), want >= 99.9%%", r.OK, total, 100*float64(r.OK)/float64(total))
	}
	return nil
}

func (r *LoadResult) String() string {
	return fmt.Sprintf("requests %d ok %d failed %d (transport retries %d) by backend %v",
		r.OK+r.Failed, r.OK, r.Failed, r.HiddenRetries, r.ByID)
}
