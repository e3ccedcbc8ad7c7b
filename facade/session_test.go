package facade

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

// sessionApp stores and returns a counter per session.
func sessionApp(t *testing.T, store Store, ttl time.Duration) string {
	t.Helper()
	a := newTestApp(t, Config{Store: store})
	s, err := NewSessions(store, SessionConfig{TTL: ttl})
	if err != nil {
		t.Fatal(err)
	}
	mustHandle(t, a, "POST", "/s", func(c *Ctx) error {
		id, _ := s.ID(c, true)
		data, err := s.Get(c, id)
		if err != nil && !errors.Is(err, ErrNotFound) {
			return err
		}
		data = append(data, 'x')
		if err := s.Put(c, id, data); err != nil {
			return err
		}
		c.Write(200, "text/plain", data)
		return nil
	})
	mustHandle(t, a, "GET", "/s", func(c *Ctx) error {
		id, _ := s.ID(c, false)
		if id == nil {
			return Errorf(404, "no session")
		}
		data, err := s.Get(c, id)
		if errors.Is(err, ErrNotFound) {
			return Errorf(404, "session expired")
		}
		if err != nil {
			return err
		}
		c.Write(200, "text/plain", data)
		return nil
	})
	return serveApp(t, a)
}

func cookieOf(t *testing.T, setCookie string) string {
	t.Helper()
	kv, _, _ := strings.Cut(setCookie, ";")
	if !strings.HasPrefix(kv, "strata_session=") {
		t.Fatalf("Set-Cookie %q", setCookie)
	}
	return kv
}

func TestSessions(t *testing.T) {
	store, _ := newStateStore(t)
	// Two apps over one store stand for two facade nodes.
	node1 := sessionApp(t, store, time.Minute)
	node2 := sessionApp(t, store, time.Minute)

	status, hdr, body := do(t, "POST", node1+"/s", nil, nil)
	if status != 200 || string(body) != "x" {
		t.Fatalf("first POST: %d %q", status, body)
	}
	var setCookie string
	for _, v := range hdr.Cookies() {
		setCookie = string(v)
	}
	for _, attr := range []string{"HttpOnly", "Path=/", "SameSite=Lax", "max-age=60"} {
		if !strings.Contains(strings.ToLower(setCookie), strings.ToLower(attr)) {
			t.Fatalf("cookie %q lacks %s", setCookie, attr)
		}
	}
	cookie := map[string]string{"Cookie": cookieOf(t, setCookie)}

	tests := []struct {
		name, method, base string
		hdr                map[string]string
		wantStatus         int
		wantBody           string
	}{
		{"same node reads it", "GET", node1, cookie, 200, "x"},
		{"other node reads it", "GET", node2, cookie, 200, "x"},
		{"other node writes it", "POST", node2, cookie, 200, "xx"},
		{"first node sees the write", "GET", node1, cookie, 200, "xx"},
		{"no cookie, no session", "GET", node1, nil, 404, "no session"},
		{"forged id is ignored", "GET", node1, map[string]string{"Cookie": "strata_session=../../etc"}, 404, "no session"},
		{"unknown id is empty", "GET", node1, map[string]string{"Cookie": "strata_session=" + strings.Repeat("a", 32)}, 404, "expired"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, _, body := do(t, tc.method, tc.base+"/s", nil, tc.hdr)
			if status != tc.wantStatus || !strings.Contains(string(body), tc.wantBody) {
				t.Fatalf("%d %q, want %d %q", status, body, tc.wantStatus, tc.wantBody)
			}
		})
	}
}

func TestSessionExpiresAndTouchKeepsIt(t *testing.T) {
	store, _ := newStateStore(t)
	base := sessionApp(t, store, 3*time.Second)
	_, hdr, _ := do(t, "POST", base+"/s", nil, nil)
	var setCookie string
	for _, v := range hdr.Cookies() {
		setCookie = string(v)
	}
	cookie := map[string]string{"Cookie": cookieOf(t, setCookie)}
	// Reads more often than the TTL keep the session alive past it.
	for i := 0; i < 4; i++ {
		time.Sleep(time.Second)
		if status, _, body := do(t, "GET", base+"/s", nil, cookie); status != 200 {
			t.Fatalf("read %d after %v: %d %q", i, time.Duration(i+1)*time.Second, status, body)
		}
	}
	time.Sleep(3200 * time.Millisecond)
	if status, _, _ := do(t, "GET", base+"/s", nil, cookie); status != 404 {
		t.Fatalf("untouched session still there after its TTL: %d", status)
	}
}

// TestSessionUpdateLosesNothing: concurrent updates of one session through
// two nodes all land when the store can compare-and-set; the plain-store
// fallback is exercised too (it may lose some, so only its success is
// checked).
func TestSessionUpdateLosesNothing(t *testing.T) {
	tests := []struct {
		name      string
		versioned bool
	}{
		{"compare-and-set", true},
		{"plain store fallback", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			real, _ := newStateStore(t)
			store := real
			if !tc.versioned {
				store = plainStore{real}
			}
			s, err := NewSessions(store, SessionConfig{})
			if err != nil {
				t.Fatal(err)
			}
			node := func() string {
				a := newTestApp(t, Config{Store: store})
				mustHandle(t, a, "POST", "/inc", func(c *Ctx) error {
					id, _ := s.ID(c, true)
					data, err := s.Update(c, id, func(old []byte, _ bool) ([]byte, error) {
						return append(append([]byte(nil), old...), 'x'), nil
					})
					if err != nil {
						return Errorf(500, "%v", err)
					}
					c.Write(200, "text/plain", data)
					return nil
				})
				return serveApp(t, a)
			}
			nodes := []string{node(), node()}
			_, hdr, _ := do(t, "POST", nodes[0]+"/inc", nil, nil)
			var setCookie string
			for _, v := range hdr.Cookies() {
				setCookie = string(v)
			}
			cookie := map[string]string{"Cookie": cookieOf(t, setCookie)}
			const n = 20
			errs := make(chan string, n)
			for i := 0; i < n; i++ {
				go func() {
					status, _, body := do(t, "POST", nodes[i%2]+"/inc", nil, cookie)
					if status != 200 {
						errs <- string(body)
						return
					}
					errs <- ""
				}()
			}
			for i := 0; i < n; i++ {
				if e := <-errs; e != "" {
					t.Fatalf("update failed: %s", e)
				}
			}
			data, err := store.Get(context.Background(), append([]byte("session:"), cookieOf(t, setCookie)[len("strata_session="):]...))
			if err != nil {
				t.Fatal(err)
			}
			got := len(data) - 8
			t.Logf("%d of %d updates landed", got, n+1)
			if tc.versioned && got != n+1 {
				t.Fatalf("%d of %d updates landed", got, n+1)
			}
		})
	}
}
