package health

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"time"
)

// probe runs one active check against a backend.
func probe(ctx context.Context, o Options, addr netip.AddrPort) error {
	ctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", addr.String())
	if err != nil {
		return err
	}
	defer func() { _ = c.Close() }()
	if o.Kind != HTTP {
		return nil
	}
	deadline, _ := ctx.Deadline()
	if err := c.SetDeadline(deadline); err != nil {
		return err
	}
	// A hand-written request keeps the check to one connection and one
	// round trip, with no client pool to hide a dead backend behind.
	if _, err := fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: strata-health\r\nConnection: close\r\n\r\n", o.Path, addr); err != nil {
		return err
	}
	resp, err := http.ReadResponse(bufio.NewReaderSize(c, 4096), nil)
	if err != nil {
		return err
	}
	_ = resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode >= 400 {
		return fmt.Errorf("health: %s answered %d", addr, resp.StatusCode)
	}
	return nil
}

// jitter spreads the first checks of many backends over one interval.
func jitter(addr netip.AddrPort, interval time.Duration) time.Duration {
	return time.Duration(uint64(addr.Port())*7919%1000) * interval / 1000
}
