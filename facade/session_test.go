package facade

import (
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
	hdr.VisitAllCookie(func(_, v []byte) { setCookie = string(v) })
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
	base := sessionApp(t, store, 2*time.Second)
	_, hdr, _ := do(t, "POST", base+"/s", nil, nil)
	var setCookie string
	hdr.VisitAllCookie(func(_, v []byte) { setCookie = string(v) })
	cookie := map[string]string{"Cookie": cookieOf(t, setCookie)}
	// Reads more often than the TTL keep the session alive past it.
	for i := 0; i < 4; i++ {
		time.Sleep(700 * time.Millisecond)
		if status, _, body := do(t, "GET", base+"/s", nil, cookie); status != 200 {
			t.Fatalf("read %d after %v: %d %q", i, time.Duration(i+1)*700*time.Millisecond, status, body)
		}
	}
	time.Sleep(2100 * time.Millisecond)
	if status, _, _ := do(t, "GET", base+"/s", nil, cookie); status != 404 {
		t.Fatalf("untouched session still there after its TTL: %d", status)
	}
}
