package edge_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/strata-dp/strata/dataplane/edge"
)

// TestInternalFieldsStripped is finding 12: a client's X-Strata-Priority
// passed the edge, and facades honoured it. Every X-Strata-* and Strata-*
// request field is dropped, on cached and passed requests alike.
func TestInternalFieldsStripped(t *testing.T) {
	seen := make(chan http.Header, 4)
	b := newBed(t, edge.Config{}, func(_ int, r *http.Request) reply {
		seen <- r.Header.Clone()
		return reply{body: "ok", headers: []string{"Cache-Control: no-store"}}
	})
	fields := []string{"X-Strata-Priority: high", "x-strata-priority: low", "X-Strata-Node: facade-1",
		"X-Strata-Source: state", "X-Strata-Future: 1", "Strata-Soft-Purge: 1", "X-Keep: yes"}
	for _, method := range []string{"GET", "HEAD", "POST", "DELETE"} {
		b.do(method, "/p", fields...)
		h := <-seen
		for k := range h {
			if lk := strings.ToLower(k); strings.HasPrefix(lk, "x-strata-") || strings.HasPrefix(lk, "strata-") {
				t.Fatalf("%s: the origin got %s: %q", method, k, h[k])
			}
		}
		if h.Get("X-Keep") != "yes" {
			t.Fatalf("%s: an ordinary field was dropped too: %v", method, h)
		}
	}
}
