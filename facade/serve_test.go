package facade

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestServe(t *testing.T) {
	a := newTestApp(t, Config{})
	var seen struct {
		priority Priority
		id       string
		budget   time.Duration
	}
	mustHandle(t, a, "GET", "/items/{id}", func(c *Ctx) error {
		seen.priority, seen.id = c.Priority(), string(c.RequestID())
		seen.budget = c.Deadline().Sub(c.start)
		c.Write(200, "text/plain", append([]byte("item "), c.Param("id")...))
		return nil
	})
	mustHandle(t, a, "GET", "/slow-class", func(c *Ctx) error {
		seen.priority = c.Priority()
		c.Write(200, "text/plain", nil)
		return nil
	}, WithPriority(PriorityLow), WithTimeout(300*time.Millisecond))
	mustHandle(t, a, "GET", "/teapot", func(c *Ctx) error { return Errorf(418, "short and stout") })
	mustHandle(t, a, "GET", "/boom", func(c *Ctx) error { return errors.New("secret detail") })
	mustHandle(t, a, "GET", "/late", func(c *Ctx) error { return ErrDeadline })
	mustHandle(t, a, "GET", "/panic", func(c *Ctx) error { panic("bad handler") })
	base := serveApp(t, a)

	tests := []struct {
		name         string
		path         string
		hdr          map[string]string
		wantStatus   int
		wantBody     string
		wantPriority Priority
		wantID       string
	}{
		{"param", "/items/7", nil, 200, "item 7", PriorityNormal, ""},
		{"priority header", "/items/8", map[string]string{PriorityHeader: "HIGH"}, 200, "item 8", PriorityHigh, ""},
		{"bad priority header ignored", "/items/9", map[string]string{PriorityHeader: "urgent"}, 200, "item 9", PriorityNormal, ""},
		{"route rule", "/slow-class", nil, 200, "", PriorityLow, ""},
		{"header beats route rule", "/slow-class", map[string]string{PriorityHeader: "normal"}, 200, "", PriorityNormal, ""},
		{"request id kept", "/items/1", map[string]string{RequestIDHeader: "abc-123"}, 200, "item 1", PriorityNormal, "abc-123"},
		{"bad request id replaced", "/items/1", map[string]string{RequestIDHeader: "a b"}, 200, "item 1", PriorityNormal, ""},
		{"status error", "/teapot", nil, 418, "short and stout", 0, ""},
		{"internal error hides detail", "/boom", nil, 500, "internal error", 0, ""},
		{"deadline", "/late", nil, 504, "deadline exceeded", 0, ""},
		{"panic", "/panic", nil, 500, "internal error", 0, ""},
		{"not found", "/nope", nil, 404, "not found", 0, ""},
		{"method not allowed", "/items/1", nil, 405, "method not allowed", 0, ""},
		{"HEAD of a GET route", "/items/1", nil, 200, "", PriorityNormal, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			method := "GET"
			switch {
			case tc.wantStatus == 405:
				method = "DELETE"
			case strings.HasPrefix(tc.name, "HEAD"):
				method = "HEAD"
			}
			status, hdr, body := do(t, method, base+tc.path, nil, tc.hdr)
			if status != tc.wantStatus || !strings.Contains(string(body), tc.wantBody) {
				t.Fatalf("got %d %q, want %d containing %q", status, body, tc.wantStatus, tc.wantBody)
			}
			if strings.Contains(string(body), "secret") {
				t.Fatalf("error detail leaked: %q", body)
			}
			id := string(hdr.Peek(RequestIDHeader))
			if !validRequestID([]byte(id)) || tc.wantID != "" && id != tc.wantID {
				t.Fatalf("X-Request-Id %q, want %q", id, tc.wantID)
			}
			if status >= 400 && !bytes.Contains(hdr.Peek("Cache-Control"), []byte("no-store")) {
				t.Fatalf("error answer without no-store: %q", hdr.Peek("Cache-Control"))
			}
			if tc.wantStatus == 200 && tc.wantID == "" && len(tc.hdr) > 0 && seen.priority != tc.wantPriority {
				t.Fatalf("priority %v, want %v", seen.priority, tc.wantPriority)
			}
			if tc.wantStatus == 200 && len(tc.hdr) == 0 && seen.priority != tc.wantPriority {
				t.Fatalf("priority %v, want %v", seen.priority, tc.wantPriority)
			}
			if tc.wantStatus == 200 && tc.path != "/slow-class" && seen.id != id {
				t.Fatalf("handler saw id %q, response carries %q", seen.id, id)
			}
		})
	}
	if seen.budget <= 0 {
		t.Fatalf("request budget %v", seen.budget)
	}
}

func TestUseAndHandleAfterStartFail(t *testing.T) {
	a := newTestApp(t, Config{})
	mustHandle(t, a, "GET", "/x", func(c *Ctx) error { return nil })
	a.Handler()
	if err := a.Handle("GET", "/y", func(c *Ctx) error { return nil }); err == nil {
		t.Fatal("Handle after start succeeded")
	}
	if err := a.Use(MiddlewareFunc(func(h Handler) Handler { return h })); err == nil {
		t.Fatal("Use after start succeeded")
	}
}

func TestMiddlewareOrder(t *testing.T) {
	a := newTestApp(t, Config{})
	var order []string
	mw := func(name string) Middleware {
		return MiddlewareFunc(func(next Handler) Handler {
			return func(c *Ctx) error {
				order = append(order, name+">")
				err := next(c)
				order = append(order, "<"+name)
				return err
			}
		})
	}
	if err := a.Use(mw("a"), mw("b")); err != nil {
		t.Fatal(err)
	}
	mustHandle(t, a, "GET", "/", func(c *Ctx) error {
		order = append(order, "h")
		return nil
	})
	base := serveApp(t, a)
	do(t, "GET", base+"/", nil, nil)
	if got := strings.Join(order, " "); got != "a> b> h <b <a" {
		t.Fatalf("order %q", got)
	}
}

func mustHandle(t *testing.T, a *App, method, pattern string, h Handler, opts ...RouteOption) {
	t.Helper()
	if err := a.Handle(method, pattern, h, opts...); err != nil {
		t.Fatal(err)
	}
}
