package edge_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"

	"github.com/strata-dp/strata/dataplane/edge"
)

// purgeAttempt is one way to ask for a purge of /p.
type purgeAttempt struct {
	name string
	send func(b *bed, admin string, authz string) int // returns the status
}

var purgePaths = []purgeAttempt{
	{"PURGE method", func(b *bed, _ string, authz string) int {
		return b.purgeMethod(authz, "")
	}},
	{"soft PURGE method", func(b *bed, _ string, authz string) int {
		return b.purgeMethod(authz, "Strata-Soft-Purge: 1")
	}},
	{"admin by url", func(b *bed, admin string, authz string) int {
		return adminPost(b.t, admin+"/purge?url=http://"+b.addr+"/p", authz)
	}},
	{"admin by url, soft", func(b *bed, admin string, authz string) int {
		return adminPost(b.t, admin+"/purge?soft=1&url=http://"+b.addr+"/p", authz)
	}},
	{"admin by tag", func(b *bed, admin string, authz string) int {
		return adminPost(b.t, admin+"/purge?tag=t", authz)
	}},
	{"admin by tag, soft", func(b *bed, admin string, authz string) int {
		return adminPost(b.t, admin+"/purge?soft=1&tag=t", authz)
	}},
	{"admin PURGE verb", func(b *bed, admin string, authz string) int {
		req, _ := http.NewRequest("PURGE", admin+"/purge?url=http://"+b.addr+"/p", nil)
		return sendStatus(b.t, req, authz)
	}},
}

func (b *bed) purgeMethod(authz, extra string) int {
	b.t.Helper()
	req, _ := http.NewRequest("PURGE", "http://"+b.addr+"/p", nil)
	if extra != "" {
		k, v, _ := strings.Cut(extra, ": ")
		req.Header.Set(k, v)
	}
	return sendStatus(b.t, req, authz)
}

func adminPost(t *testing.T, url, authz string) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url, nil)
	return sendStatus(t, req, authz)
}

func sendStatus(t *testing.T, req *http.Request, authz string) int {
	t.Helper()
	if authz != "" {
		req.Header.Set("Authorization", authz)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// purgeBed stores /p (tag t) in an edge configured with cfg and returns
// it with the URL of its admin handler.
func purgeBed(t *testing.T, cfg edge.Config) (*bed, string) {
	b := newBed(t, cfg, fixed(200, "p", "Cache-Control: max-age=60", "Surrogate-Key: t"))
	admin := httptest.NewServer(b.edge.AdminHandler())
	t.Cleanup(admin.Close)
	b.do("GET", "/p")
	return b, admin.URL
}

func (b *bed) wantStored(stored bool) {
	b.t.Helper()
	resp, _ := b.do("GET", "/p")
	cs := resp.Header.Get("Cache-Status")
	if got := strings.Contains(cs, "strata; hit; ttl="); got != stored {
		b.t.Fatalf("after the purge attempt /p is a fresh hit = %v (%s), want %v", got, cs, stored)
	}
}

// TestPurgeFromAppliesToEveryPath is finding 11: the admin API ignored
// --purge-from. The test client is 127.0.0.1, outside 10.0.0.0/8.
func TestPurgeFromAppliesToEveryPath(t *testing.T) {
	cfg := edge.Config{PurgeFrom: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}}
	for _, p := range purgePaths {
		t.Run(p.name, func(t *testing.T) {
			b, admin := purgeBed(t, cfg)
			if st := p.send(b, admin, ""); st != http.StatusForbidden {
				t.Fatalf("status %d, want 403", st)
			}
			b.wantStored(true)
		})
	}
	for _, p := range purgePaths {
		t.Run(p.name+" from an allowed client", func(t *testing.T) {
			b, admin := purgeBed(t, edge.Config{PurgeFrom: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}})
			if st := p.send(b, admin, ""); st != http.StatusOK {
				t.Fatalf("status %d, want 200", st)
			}
			b.wantStored(false)
		})
	}
}
