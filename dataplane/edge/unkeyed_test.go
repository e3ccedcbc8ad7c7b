package edge_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/strata-dp/strata/dataplane/edge"
)

// TestUnkeyedFieldsDropped: every request field an origin might reflect
// into a cacheable response or trust as the client's address, though it
// is not in the cache key, is dropped on the way to the origin (the
// client's address ones replaced by the edge's own view of the client),
// so one client's request cannot poison the entry others get. The origin
// here reflects the field the query names, as a vulnerable origin would.
func TestUnkeyedFieldsDropped(t *testing.T) {
	b := newBed(t, edge.Config{}, func(_ int, r *http.Request) reply {
		name := r.URL.Query().Get("h")
		return reply{body: name + "=" + strings.Join(r.Header.Values(name), ","), headers: []string{"Cache-Control: max-age=60"}}
	})
	// set: what the edge itself sends instead (empty: nothing).
	for _, tc := range []struct{ name, set string }{
		{"X-Forwarded-Host", "a.test"}, {"X-Forwarded-Proto", "http"}, {"X-Forwarded-Scheme", ""},
		{"X-Forwarded-Port", ""}, {"X-Forwarded-Server", ""}, {"X-Forwarded-Prefix", ""},
		{"X-Forwarded-Ssl", ""}, {"Front-End-Https", ""}, {"X-Url-Scheme", ""}, {"Forwarded", ""},
		{"X-Host", ""}, {"X-Original-Host", ""}, {"X-HTTP-Host-Override", ""},
		{"X-Original-URL", ""}, {"X-Rewrite-URL", ""}, {"X-Envoy-Original-Path", ""},
		{"X-Forwarded-Uri", ""}, {"X-Forwarded-Path", ""}, {"X-Original-Uri", ""},
		{"X-HTTP-Method-Override", ""}, {"X-HTTP-Method", ""}, {"X-Method-Override", ""},
		{"X-Amz-Website-Redirect-Location", ""},
		{"X-Forwarded-For", "127.0.0.1"}, {"X-Real-IP", "127.0.0.1"}, {"True-Client-IP", ""},
		{"X-Client-IP", ""}, {"Client-IP", ""}, {"CF-Connecting-IP", ""}, {"Fastly-Client-IP", ""},
		{"X-ProxyUser-Ip", ""}, {"X-Cluster-Client-IP", ""}, {"X-Originating-IP", ""},
		{"X-Remote-IP", ""}, {"X-Remote-Addr", ""}, {"X-Original-Forwarded-For", ""},
		{"X-Envoy-External-Address", ""}, {"Forwarded-For", ""}, {"X-Forwarded", ""},
		{"X-Original-Method", ""}, {"X-Override-URL", ""}, {"X-Wap-Profile", ""},
		// CGI-style origins read X_Forwarded_Host as X-Forwarded-Host.
		{"X_Forwarded_Host", ""}, {"X_Original_Host", ""}, {"X_Real_IP", ""}, {"X_Forwarded_Prefix", ""},
		{"X_Custom_Field", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := "/u?h=" + url.QueryEscape(tc.name)
			want := tc.name + "=" + tc.set
			for _, poison := range []string{"evil.test", "10.6.6.6"} {
				_, body := b.do("GET", path, "Host: a.test", tc.name+": "+poison, strings.ToLower(tc.name)+": "+poison+"/lower")
				if body != want {
					t.Fatalf("origin saw %q, want %q", body, want)
				}
			}
			resp, body := b.do("GET", path, "Host: a.test")
			if body != want || !strings.Contains(resp.Header.Get("Cache-Status"), "hit") {
				t.Fatalf("a clean client got %q (Cache-Status %q), want the stored %q", body, resp.Header.Get("Cache-Status"), want)
			}
		})
	}
}
