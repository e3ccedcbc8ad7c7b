package edge_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/strata-dp/strata/dataplane/edge"
)

// step is one client exchange with the edge and what must come of it.
type step struct {
	advance int64 // seconds the shared clock moves first
	method  string
	path    string
	headers []string
	status  int    // 0: 200
	hits    int64  // origin requests so far, after this step; -1: not checked
	cs      string // substring Cache-Status must contain
	body    string // exact body, when not empty
	want    []string
	check   func(t *testing.T, b *bed, resp *http.Response, body string)
}

type conformanceCase struct {
	name   string // RFC and section, then the behaviour
	cfg    edge.Config
	origin script
	steps  []step
}

// fixed answers every origin request the same way.
func fixed(status int, body string, headers ...string) script {
	return func(int, *http.Request) reply { return reply{status: status, body: body, headers: headers} }
}

// seq answers the n-th request with the n-th reply (the last one repeats).
func seq(replies ...reply) script {
	return func(n int, _ *http.Request) reply { return replies[min(n, len(replies))-1] }
}

func originSaw(field, want string) func(*testing.T, *bed, *http.Response, string) {
	return func(t *testing.T, b *bed, _ *http.Response, _ string) {
		t.Helper()
		if got := b.lastOriginRequest().Header.Get(field); got != want {
			t.Fatalf("origin saw %s = %q, want %q", field, got, want)
		}
	}
}

func TestConformance(t *testing.T) {
	for _, tc := range conformanceCases() {
		t.Run(tc.name, func(t *testing.T) {
			b := newBed(t, tc.cfg, tc.origin)
			for i, s := range tc.steps {
				b.advance(s.advance)
				method, path := s.method, s.path
				if method == "" {
					method = "GET"
				}
				if path == "" {
					path = "/r"
				}
				resp, body := b.do(method, path, s.headers...)
				where := func() string {
					shown := body
					if len(shown) > 200 {
						shown = shown[:200] + "..."
					}
					return "step " + string(rune('0'+i)) + " " + method + " " + path + "\n" + resp.Status + "\n" + fmtHeader(resp.Header) + "\n" + shown
				}
				want := s.status
				if want == 0 {
					want = 200
				}
				if resp.StatusCode != want {
					t.Fatalf("status %d, want %d\n%s", resp.StatusCode, want, where())
				}
				if got := b.hits.Load(); s.hits >= 0 && got != s.hits {
					t.Fatalf("origin hits %d, want %d\n%s", got, s.hits, where())
				}
				if cs := resp.Header.Get("Cache-Status"); cs == "" || !strings.Contains(cs, s.cs) {
					t.Fatalf("Cache-Status %q does not contain %q\n%s", cs, s.cs, where())
				}
				if s.body != "" && body != s.body {
					t.Fatalf("body %q, want %q\n%s", body, s.body, where())
				}
				for _, w := range s.want {
					k, v, _ := strings.Cut(w, ":")
					k, v = strings.TrimSpace(k), strings.TrimSpace(v)
					got, present := resp.Header[http.CanonicalHeaderKey(k)]
					switch {
					case v == "-" && present:
						t.Fatalf("field %s present (%q), want absent\n%s", k, got, where())
					case v != "-" && strings.Join(got, ", ") != v:
						t.Fatalf("field %s = %q, want %q\n%s", k, got, v, where())
					}
				}
				if s.check != nil {
					s.check(t, b, resp, body)
				}
			}
		})
	}
}

func conformanceCases() []conformanceCase {
	return []conformanceCase{
		// RFC 9111 section 4.2.1: freshness lifetime.
		{name: "4.2.1 max-age fresh then expired", origin: fixed(200, "a", "Cache-Control: max-age=60"), steps: []step{
			{hits: 1, cs: "fwd=uri-miss; fwd-status=200; stored", body: "a"},
			{advance: 30, hits: 1, cs: "hit", body: "a", want: []string{"Age: 30"}},
			{advance: 31, hits: 2, cs: "fwd=stale"},
		}},
		{name: "4.2.1 s-maxage wins over max-age in a shared cache", origin: fixed(200, "a", "Cache-Control: max-age=1, s-maxage=100"), steps: []step{
			{hits: 1}, {advance: 50, hits: 1, cs: "hit"}, {advance: 60, hits: 2},
		}},
		{name: "4.2.1 Expires minus Date", origin: func(int, *http.Request) reply {
			return reply{body: "e", headers: []string{"Expires: " + httpDate(time.Now().Unix()+100)}}
		}, steps: []step{{hits: 1}, {advance: 50, hits: 1, cs: "hit"}, {advance: 60, hits: 2}}},
		{name: "4.2.1 invalid Expires is already stale", origin: fixed(200, "x", "Expires: 0", "ETag: \"1\""), steps: []step{
			{hits: 1}, {hits: 2, cs: "fwd=stale"},
		}},
		{name: "4.2.1 invalid max-age is stale", origin: fixed(200, "x", "Cache-Control: max-age=abc", "ETag: \"1\""), steps: []step{
			{hits: 1}, {hits: 2},
		}},
		{name: "4.2.1 max-age beats Expires", origin: fixed(200, "x", "Cache-Control: max-age=100", "Expires: Thu, 01 Jan 1970 00:00:00 GMT"), steps: []step{
			{hits: 1}, {advance: 50, hits: 1, cs: "hit"},
		}},
		// 4.2.2: heuristic freshness from Last-Modified (10%).
		{name: "4.2.2 heuristic freshness from Last-Modified", origin: func(int, *http.Request) reply {
			return reply{body: "h", headers: []string{"Last-Modified: " + httpDate(time.Now().Unix()-1000)}}
		}, steps: []step{{hits: 1}, {advance: 50, hits: 1, cs: "hit"}, {advance: 100, hits: 2}}},
		{name: "4.2.2 no freshness and no validator is not stored", origin: fixed(200, "n"), steps: []step{
			{hits: 1, cs: "detail=no-freshness"}, {hits: 2},
		}},
		{name: "4.2.2 status without heuristic freshness is not stored", origin: fixed(302, "", "Location: /x", "Last-Modified: Thu, 01 Jan 2015 00:00:00 GMT"), steps: []step{
			{status: 302, hits: 1, cs: "detail=status"}, {status: 302, hits: 2},
		}},
		{name: "4.2.2 explicit freshness makes any final status storable", origin: fixed(302, "", "Location: /x", "Cache-Control: max-age=60"), steps: []step{
			{status: 302, hits: 1, cs: "stored"}, {status: 302, hits: 1, cs: "hit"},
		}},
		// 4.2.3: Age.
		{name: "4.2.3 Age from the origin counts", origin: fixed(200, "a", "Cache-Control: max-age=60", "Age: 50"), steps: []step{
			{hits: 1, want: []string{"Age: 50"}},
			{advance: 5, hits: 1, cs: "hit", want: []string{"Age: 55"}},
			{advance: 10, hits: 2},
		}},
		{name: "4.2.3 apparent age from an old Date", origin: func(int, *http.Request) reply {
			return reply{body: "d", noDate: true, headers: []string{"Date: " + httpDate(time.Now().Unix()-40), "Cache-Control: max-age=60"}}
		}, steps: []step{{hits: 1}, {advance: 30, hits: 2}}},
		// 4.3: validation.
		{name: "4.3.1 ETag revalidation and 4.3.4 header update from 304", origin: func(n int, r *http.Request) reply {
			if n == 1 {
				return reply{body: "v1", headers: []string{"Cache-Control: max-age=1", "ETag: \"v1\"", "X-Gen: 1"}}
			}
			if r.Header.Get("If-None-Match") == `"v1"` {
				return reply{status: 304, headers: []string{"Cache-Control: max-age=100", "ETag: \"v1\"", "X-Gen: 2"}}
			}
			return reply{body: "wrong"}
		}, steps: []step{
			{hits: 1, body: "v1"},
			{advance: 5, hits: 2, body: "v1", cs: "fwd=stale; fwd-status=304", want: []string{"X-Gen: 2", "Content-Length: 2"}},
			{advance: 50, hits: 2, cs: "hit", body: "v1", want: []string{"X-Gen: 2"}},
		}},
		{name: "4.3.1 Last-Modified revalidation", origin: func(n int, r *http.Request) reply {
			if r.Header.Get("If-Modified-Since") != "" {
				return reply{status: 304}
			}
			return reply{body: "lm", headers: []string{"Cache-Control: max-age=1", "Last-Modified: Thu, 01 Jan 2015 00:00:00 GMT"}}
		}, steps: []step{
			{hits: 1}, {advance: 5, hits: 2, body: "lm", cs: "fwd-status=304", check: originSaw("If-Modified-Since", "Thu, 01 Jan 2015 00:00:00 GMT")},
		}},
		{name: "4.3.2 client If-None-Match answered from cache", origin: fixed(200, "c", "Cache-Control: max-age=60", "ETag: \"c1\""), steps: []step{
			{hits: 1},
			{headers: []string{"If-None-Match: \"zz\", \"c1\""}, status: 304, hits: 1, cs: "hit", want: []string{"ETag: \"c1\""}},
			{headers: []string{"If-None-Match: W/\"c1\""}, status: 304, hits: 1},
			{headers: []string{"If-None-Match: \"other\""}, hits: 1, body: "c"},
		}},
		{name: "4.3.2 client If-Modified-Since answered from cache", origin: fixed(200, "c", "Cache-Control: max-age=60", "Last-Modified: Thu, 01 Jan 2015 00:00:00 GMT"), steps: []step{
			{hits: 1},
			{headers: []string{"If-Modified-Since: Fri, 02 Jan 2015 00:00:00 GMT"}, status: 304, hits: 1},
			{headers: []string{"If-Modified-Since: Wed, 31 Dec 2014 00:00:00 GMT"}, hits: 1, body: "c"},
		}},
		{name: "4.3.2 client conditional on a miss fetches the full response", origin: fixed(200, "c", "Cache-Control: max-age=60", "ETag: \"c1\""), steps: []step{
			{headers: []string{"If-None-Match: \"c1\""}, status: 304, hits: 1, check: originSaw("If-None-Match", "")},
			{hits: 1, body: "c", cs: "hit"},
		}},
		// 4.1: Vary.
		{name: "4.1 Vary keeps one variant per Accept-Language", origin: func(_ int, r *http.Request) reply {
			return reply{body: "lang=" + r.Header.Get("Accept-Language"), headers: []string{"Cache-Control: max-age=60", "Vary: Accept-Language"}}
		}, steps: []step{
			{headers: []string{"Accept-Language: en"}, hits: 1, body: "lang=en"},
			{headers: []string{"Accept-Language: fr"}, hits: 2, body: "lang=fr", cs: "fwd=vary-miss"},
			{headers: []string{"Accept-Language: en"}, hits: 2, body: "lang=en", cs: "hit"},
			{headers: []string{"Accept-Language: fr"}, hits: 2, body: "lang=fr", cs: "hit"},
			{hits: 3, body: "lang="},
		}},
		{name: "4.1 Vary on two fields", origin: func(_ int, r *http.Request) reply {
			return reply{body: r.Header.Get("A") + r.Header.Get("B"), headers: []string{"Cache-Control: max-age=60", "Vary: A, B"}}
		}, steps: []step{
			{headers: []string{"A: 1", "B: 1"}, hits: 1, body: "11"},
			{headers: []string{"A: 1", "B: 2"}, hits: 2, body: "12"},
			{headers: []string{"A: 1", "B: 1"}, hits: 2, body: "11", cs: "hit"},
		}},
		{name: "4.1 Vary values are normalised around commas", origin: fixed(200, "n", "Cache-Control: max-age=60", "Vary: Foo"), steps: []step{
			{headers: []string{"Foo: 1,2"}, hits: 1},
			{headers: []string{"Foo:  1 , 2 "}, hits: 1, cs: "hit"},
			{headers: []string{"Foo: 1, 3"}, hits: 2},
			{hits: 3}, // omitted is not empty-matching a stored value
		}},
		{name: "4.1 Vary: * is never reused", origin: fixed(200, "s", "Cache-Control: max-age=60", "Vary: *"), steps: []step{
			{hits: 1, cs: "detail=vary-star"}, {hits: 2},
		}},
		// 3 and 5.2.2: what may be stored.
		{name: "5.2.2.5 no-store", origin: fixed(200, "x", "Cache-Control: no-store, max-age=60"), steps: []step{
			{hits: 1, cs: "detail=no-store"}, {hits: 2},
		}},
		{name: "5.2.2.7 private is not stored by a shared cache", origin: fixed(200, "x", "Cache-Control: private, max-age=60"), steps: []step{
			{hits: 1, cs: "detail=private"}, {hits: 2},
		}},
		{name: "5.2.2.4 no-cache is stored but validated on every use", origin: func(n int, r *http.Request) reply {
			if r.Header.Get("If-None-Match") == `"n"` {
				return reply{status: 304, headers: []string{"Cache-Control: no-cache", "ETag: \"n\""}}
			}
			return reply{body: "nc", headers: []string{"Cache-Control: no-cache", "ETag: \"n\""}}
		}, steps: []step{
			{hits: 1, cs: "stored"}, {hits: 2, body: "nc", cs: "fwd-status=304"}, {hits: 3, body: "nc"},
		}},
		{name: "5.2.2.2 must-revalidate: no stale on origin error", origin: seq(
			reply{body: "m", headers: []string{"Cache-Control: max-age=1, must-revalidate, stale-if-error=600", "ETag: \"m\""}},
			reply{status: 503, body: "down"},
		), steps: []step{{hits: 1}, {advance: 5, status: 503, hits: 2}}},
		{name: "3.5 Authorization: not stored without public or s-maxage", origin: fixed(200, "secret", "Cache-Control: max-age=60"), steps: []step{
			{headers: []string{"Authorization: Bearer a"}, hits: 1, cs: "detail=authorization"}, {hits: 2},
		}},
		{name: "3.5 Authorization: stored with s-maxage", origin: fixed(200, "shared", "Cache-Control: s-maxage=60"), steps: []step{
			{headers: []string{"Authorization: Bearer a"}, hits: 1, cs: "stored"}, {hits: 1, cs: "hit"},
		}},
		{name: "5.2.2.4 qualified no-cache: the named field is not stored, the rest is", origin: fixed(200, "q", "Cache-Control: no-cache=\"X-A\", max-age=60", "X-A: 1", "X-B: 2"), steps: []step{
			{hits: 1, cs: "stored", want: []string{"X-A: -", "X-B: 2"}},
			{hits: 1, cs: "hit", want: []string{"X-A: -", "X-B: 2"}},
		}},
		{name: "5.2.2.7 qualified private: the named field is not stored, the rest is", origin: fixed(200, "q", "Cache-Control: private=\"X-User\", max-age=60", "X-User: bob", "X-B: 2"), steps: []step{
			{hits: 1, cs: "stored"},
			{hits: 1, cs: "hit", want: []string{"X-User: -", "X-B: 2"}},
		}},
		{name: "5.2 no whitespace around = in directives", origin: fixed(200, "w", "Cache-Control: max-age =3600", "ETag: \"w\""), steps: []step{
			{hits: 1}, {hits: 2},
		}},
		{name: "Set-Cookie responses stored with StoreSetCookie", cfg: edge.Config{StoreSetCookie: true}, origin: fixed(200, "c", "Cache-Control: max-age=60", "Set-Cookie: s=1"), steps: []step{
			{hits: 1, cs: "stored"}, {hits: 1, cs: "hit", want: []string{"Set-Cookie: s=1"}},
		}},
		{name: "a 304 that sets a cookie is not stored by default", origin: func(n int, r *http.Request) reply {
			if r.Header.Get("If-None-Match") != "" {
				return reply{status: 304, headers: []string{"Cache-Control: max-age=60", "ETag: \"k\"", "Set-Cookie: sid=" + string(rune('0'+n))}}
			}
			return reply{body: "k", headers: []string{"Cache-Control: max-age=1", "ETag: \"k\""}}
		}, steps: []step{
			{hits: 1},
			{advance: 5, hits: 2, body: "k", cs: "fwd-status=304", want: []string{"Set-Cookie: sid=2"}},
			{hits: 3, body: "k", want: []string{"Set-Cookie: sid=3"}},
		}},
		{name: "Set-Cookie responses are not stored", origin: fixed(200, "c", "Cache-Control: max-age=60", "Set-Cookie: s=1"), steps: []step{
			{hits: 1, cs: "detail=set-cookie"}, {hits: 2},
		}},
		// 5.2.1: request directives.
		{name: "5.2.1.4 request no-cache validates", origin: fixed(200, "r", "Cache-Control: max-age=60", "ETag: \"r\""), steps: []step{
			{hits: 1}, {headers: []string{"Cache-Control: no-cache"}, hits: 2, cs: "fwd=request"}, {hits: 2, cs: "hit"},
		}},
		{name: "5.4 Pragma: no-cache from an HTTP/1.0 client validates", origin: fixed(200, "r", "Cache-Control: max-age=60"), steps: []step{
			{hits: 1}, {headers: []string{"Pragma: no-cache"}, hits: 2},
		}},
		{name: "5.2.1.1 request max-age", origin: fixed(200, "r", "Cache-Control: max-age=60"), steps: []step{
			{hits: 1}, {advance: 10, headers: []string{"Cache-Control: max-age=5"}, hits: 2}, {advance: 3, headers: []string{"Cache-Control: max-age=5"}, hits: 2, cs: "hit"},
		}},
		{name: "5.2.1.3 request min-fresh", origin: fixed(200, "r", "Cache-Control: max-age=60"), steps: []step{
			{hits: 1}, {advance: 30, headers: []string{"Cache-Control: min-fresh=40"}, hits: 2},
		}},
		{name: "5.2.1.2 request max-stale accepts stale", origin: fixed(200, "r", "Cache-Control: max-age=10"), steps: []step{
			{hits: 1}, {advance: 15, headers: []string{"Cache-Control: max-stale=10"}, hits: 1, cs: "detail=max-stale"},
		}},
		{name: "5.2.1.5 request no-store: not stored", origin: fixed(200, "r", "Cache-Control: max-age=60"), steps: []step{
			{headers: []string{"Cache-Control: no-store"}, hits: 1, cs: "detail=request-no-store"}, {hits: 2},
		}},
		{name: "5.2.1.7 only-if-cached on a miss is 504", origin: fixed(200, "r", "Cache-Control: max-age=60"), steps: []step{
			{headers: []string{"Cache-Control: only-if-cached"}, status: 504, hits: 0, cs: "only-if-cached"},
			{hits: 1}, {headers: []string{"Cache-Control: only-if-cached"}, hits: 1, cs: "hit"},
		}},
		// 4.4: invalidation.
		{name: "4.4 unsafe method invalidates the URL", origin: func(n int, r *http.Request) reply {
			if r.Method == "POST" {
				return reply{status: 201}
			}
			return reply{body: "g", headers: []string{"Cache-Control: max-age=60"}}
		}, steps: []step{
			{hits: 1}, {hits: 1, cs: "hit"}, {method: "POST", status: 201, hits: 2, cs: "fwd=method"}, {hits: 3, cs: "uri-miss"},
			{hits: 3, cs: "hit"}, {method: "M-SEARCH", hits: 4, cs: "fwd=method"}, {hits: 5, cs: "uri-miss"},
		}},
		{name: "4.4 Location and Content-Location are invalidated", origin: func(n int, r *http.Request) reply {
			if r.Method == "PUT" {
				return reply{status: 200, headers: []string{"Location: /a", "Content-Location: http://" + r.Host + "/b"}}
			}
			return reply{body: r.URL.Path, headers: []string{"Cache-Control: max-age=60"}}
		}, steps: []step{
			{path: "/a", hits: 1}, {path: "/b", hits: 2}, {path: "/a", hits: 2, cs: "hit"},
			{method: "PUT", path: "/c", hits: 3},
			{path: "/a", hits: 4}, {path: "/b", hits: 5},
		}},
		{name: "4.4 failed unsafe method does not invalidate", origin: func(n int, r *http.Request) reply {
			if r.Method == "DELETE" {
				return reply{status: 500}
			}
			return reply{body: "g", headers: []string{"Cache-Control: max-age=60"}}
		}, steps: []step{{hits: 1}, {method: "DELETE", status: 500, hits: 2}, {hits: 2, cs: "hit"}}},
		// 3.1: hop-by-hop fields are not stored or forwarded.
		{name: "3.1 hop-by-hop and Connection-named fields dropped", origin: fixed(200, "h", "Cache-Control: max-age=60", "Connection: X-Secret", "X-Secret: 1", "Keep-Alive: timeout=5", "X-Kept: 1"), steps: []step{
			{hits: 1, want: []string{"X-Secret: -", "Keep-Alive: -", "X-Kept: 1", "Via: 1.1 strata"}},
			{hits: 1, cs: "hit", want: []string{"X-Secret: -", "Keep-Alive: -", "X-Kept: 1"}},
		}},
		// RFC 9213 and Surrogate-Control.
		{name: "RFC 9213 CDN-Cache-Control overrides Cache-Control for the edge", origin: fixed(200, "t", "Cache-Control: no-store", "CDN-Cache-Control: max-age=60"), steps: []step{
			{hits: 1, cs: "stored"}, {hits: 1, cs: "hit", want: []string{"Cache-Control: no-store"}},
		}},
		{name: "Surrogate-Control targets the edge and is removed", origin: fixed(200, "t", "Cache-Control: max-age=0", "Surrogate-Control: max-age=60"), steps: []step{
			{hits: 1}, {hits: 1, cs: "hit", want: []string{"Surrogate-Control: -", "Cache-Control: max-age=0"}},
		}},
		{name: "RFC 9213 CDN-Cache-Control no-store wins", origin: fixed(200, "t", "Cache-Control: max-age=60", "CDN-Cache-Control: no-store"), steps: []step{
			{hits: 1, cs: "detail=no-store"}, {hits: 2},
		}},
		// HEAD and Range (RFC 9110 9.3.2, 14).
		{name: "HEAD is answered from a stored GET and fills the cache", origin: fixed(200, "hello", "Cache-Control: max-age=60"), steps: []step{
			{method: "HEAD", hits: 1, want: []string{"Content-Length: 5"}, check: func(t *testing.T, b *bed, _ *http.Response, body string) {
				if body != "" || b.lastOriginRequest().Method != "GET" {
					t.Fatalf("HEAD body %q, origin method %s", body, b.lastOriginRequest().Method)
				}
			}},
			{hits: 1, body: "hello", cs: "hit"},
			{method: "HEAD", hits: 1, cs: "hit", want: []string{"Content-Length: 5"}},
		}},
		{name: "Range served from a stored complete response", origin: fixed(200, "0123456789", "Cache-Control: max-age=60", "ETag: \"r\""), steps: []step{
			{headers: []string{"Range: bytes=2-5"}, status: 206, hits: 1, body: "2345", want: []string{"Content-Range: bytes 2-5/10"}, check: originSaw("Range", "")},
			{headers: []string{"Range: bytes=-3"}, status: 206, hits: 1, body: "789", cs: "hit"},
			{headers: []string{"Range: bytes=7-"}, status: 206, hits: 1, body: "789"},
			{headers: []string{"Range: bytes=20-30"}, status: 416, hits: 1, want: []string{"Content-Range: bytes */10"}},
			{headers: []string{"Range: bytes=0-1", "If-Range: \"r\""}, status: 206, hits: 1, body: "01"},
			{headers: []string{"Range: bytes=0-1", "If-Range: \"old\""}, hits: 1, body: "0123456789"},
		}},
		// RFC 5861 stale-while-revalidate and stale-if-error; grace and keep.
		{name: "RFC 5861 stale-while-revalidate serves stale and refreshes", origin: func(n int, _ *http.Request) reply {
			return reply{body: "v" + string(rune('0'+n)), headers: []string{"Cache-Control: max-age=1, stale-while-revalidate=60"}}
		}, steps: []step{
			{hits: 1, body: "v1"},
			{advance: 5, hits: -1, body: "v1", cs: "detail=stale-while-revalidate", check: waitHits(2)},
			{hits: 2, body: "v2", cs: "hit"},
		}},
		{name: "RFC 5861 stale-if-error on a 5xx", origin: seq(
			reply{body: "ok", headers: []string{"Cache-Control: max-age=1, stale-if-error=60"}},
			reply{status: 503, body: "down"},
		), steps: []step{
			{hits: 1}, {advance: 5, hits: 2, body: "ok", cs: "detail=stale-if-error"}, {advance: 100, status: 503, hits: 3},
		}},
		{name: "grace serves stale while refreshing", cfg: edge.Config{Grace: 30 * time.Second}, origin: func(n int, _ *http.Request) reply {
			return reply{body: "g" + string(rune('0'+n)), headers: []string{"Cache-Control: max-age=1"}}
		}, steps: []step{
			{hits: 1}, {advance: 5, hits: -1, body: "g1", cs: "stale-while-revalidate", check: waitHits(2)},
		}},
		{name: "grace does not apply to s-maxage responses", cfg: edge.Config{Grace: 30 * time.Second}, origin: fixed(200, "s", "Cache-Control: s-maxage=1"), steps: []step{
			{hits: 1}, {advance: 5, hits: 2},
		}},
		{name: "keep allows revalidation long after expiry", cfg: edge.Config{Keep: time.Hour}, origin: func(n int, r *http.Request) reply {
			if r.Header.Get("If-None-Match") != "" {
				return reply{status: 304, headers: []string{"Cache-Control: max-age=1", "ETag: \"k\""}}
			}
			return reply{body: "k", headers: []string{"Cache-Control: max-age=1", "ETag: \"k\""}}
		}, steps: []step{{hits: 1}, {advance: 1800, hits: 2, cs: "fwd-status=304", body: "k"}}},
		{name: "without keep an expired response is dropped", cfg: edge.Config{Keep: -1}, origin: func(n int, r *http.Request) reply {
			return reply{body: "k", headers: []string{"Cache-Control: max-age=1", "ETag: \"k\""}}
		}, steps: []step{{hits: 1}, {advance: 60, hits: 2, cs: "uri-miss", check: originSaw("If-None-Match", "")}}},
		// Purge.
		{name: "PURGE method removes the URL", origin: fixed(200, "p", "Cache-Control: max-age=60"), steps: []step{
			{hits: 1}, {method: "PURGE", hits: 1, cs: "detail=purge"}, {hits: 2, cs: "uri-miss"},
			{method: "PURGE", path: "/none", status: 404, hits: 2},
		}},
		{name: "soft PURGE marks stale and revalidates", origin: func(n int, r *http.Request) reply {
			if r.Header.Get("If-None-Match") != "" {
				return reply{status: 304, headers: []string{"Cache-Control: max-age=60", "ETag: \"s\""}}
			}
			return reply{body: "s", headers: []string{"Cache-Control: max-age=60", "ETag: \"s\""}}
		}, steps: []step{
			{hits: 1}, {method: "PURGE", headers: []string{"Strata-Soft-Purge: 1"}, hits: 1},
			{hits: 2, cs: "fwd-status=304", body: "s"}, {hits: 2, cs: "hit"},
		}},
		// Cache key and safety.
		{name: "key includes the query and the host, case-insensitively", origin: func(_ int, r *http.Request) reply {
			return reply{body: r.Host + r.URL.RequestURI(), headers: []string{"Cache-Control: max-age=60"}}
		}, steps: []step{
			{path: "/q?a=1", headers: []string{"Host: one.test"}, hits: 1, body: "one.test/q?a=1"},
			{path: "/q?a=2", headers: []string{"Host: one.test"}, hits: 2},
			{path: "/q?a=1", headers: []string{"Host: ONE.test"}, hits: 2, cs: "hit"},
			{path: "/q?a=1", headers: []string{"Host: two.test"}, hits: 3, body: "two.test/q?a=1"},
		}},
		{name: "unkeyed X-Forwarded-Host cannot poison the entry", origin: func(_ int, r *http.Request) reply {
			return reply{body: "link=" + r.Header.Get("X-Forwarded-Host"), headers: []string{"Cache-Control: max-age=60"}}
		}, steps: []step{
			{headers: []string{"Host: site.test", "X-Forwarded-Host: evil.test"}, hits: 1, body: "link=site.test"},
			{headers: []string{"Host: site.test"}, hits: 1, body: "link=site.test", cs: "hit"},
		}},
		{name: "Via and X-Forwarded-For to the origin, the client's claim replaced", origin: fixed(200, "x", "Cache-Control: max-age=60"), steps: []step{
			{headers: []string{"X-Forwarded-For: 10.1.1.1"}, hits: 1, want: []string{"Via: 1.1 strata"}, check: func(t *testing.T, b *bed, _ *http.Response, _ string) {
				r := b.lastOriginRequest()
				if r.Header.Get("X-Forwarded-For") != "127.0.0.1" || r.Header.Get("Via") != "1.1 strata" {
					t.Fatalf("origin saw X-Forwarded-For %q, Via %q", r.Header.Get("X-Forwarded-For"), r.Header.Get("Via"))
				}
			}},
		}},
		{name: "large response streamed through uncached", cfg: edge.Config{MaxObjectBytes: 1024}, origin: fixed(200, strings.Repeat("L", 50000), "Cache-Control: max-age=60"), steps: []step{
			{hits: 1, cs: "detail=streamed", body: strings.Repeat("L", 50000)}, {hits: 2, body: strings.Repeat("L", 50000)},
		}},
		{name: "large response with a known length over max-object passes through", cfg: edge.Config{MaxObjectBytes: 1024},
			origin: fixed(200, strings.Repeat("K", 5000), "Cache-Control: max-age=60", "Content-Length: 5000"), steps: []step{
				{hits: 1, cs: "detail=too-large", body: strings.Repeat("K", 5000)}, {hits: 2, cs: "detail=too-large"},
			}},
		{name: "body streamed to the client while it is stored", origin: fixed(200, strings.Repeat("S", 300000), "Cache-Control: max-age=60"), steps: []step{
			{hits: 1, cs: "detail=streamed", body: strings.Repeat("S", 300000)},
			{hits: 1, cs: "hit", body: strings.Repeat("S", 300000), want: []string{"Content-Length: 300000"}},
		}},
		{name: "origin down is 502 with a reason", origin: seq(reply{status: 200, delay: 3 * time.Second}), steps: []step{
			{status: 504, hits: 1, cs: "detail=origin-error"},
		}},
	}
}

// waitHits waits (bounded) for a background refresh to reach the origin.
func waitHits(n int64) func(*testing.T, *bed, *http.Response, string) {
	return func(t *testing.T, b *bed, _ *http.Response, _ string) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for b.hits.Load() < n {
			if time.Now().After(deadline) {
				t.Fatalf("background refresh did not reach the origin (hits %d)", b.hits.Load())
			}
			time.Sleep(5 * time.Millisecond)
		}
		time.Sleep(20 * time.Millisecond) // let the refresh store its answer
	}
}
