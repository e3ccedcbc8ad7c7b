package control

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestAccessHostCheck(t *testing.T) {
	ok := http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})
	tests := []struct {
		name, listen, host string
		allowed            []string
		want               int
	}{
		{"localhost", "127.0.0.1:9090", "localhost:9090", nil, 200},
		{"localhost without port", "127.0.0.1:9090", "localhost", nil, 200},
		{"LOCALHOST. (case, trailing dot)", "127.0.0.1:9090", "LOCALHOST.:9090", nil, 200},
		{"127.0.0.1", "127.0.0.1:9090", "127.0.0.1:9090", nil, 200},
		{"another loopback address", "127.0.0.1:9090", "127.0.0.61:9090", nil, 200},
		{"[::1]", "127.0.0.1:9090", "[::1]:9090", nil, 200},
		{"own listen address", "192.0.2.10:9090", "192.0.2.10:9090", nil, 200},
		{"own listen address, other port (behind a proxy)", "192.0.2.10:9090", "192.0.2.10", nil, 200},
		{"allowed name", "192.0.2.10:9090", "Control.Example:9090", []string{"control.example"}, 200},
		{"allowed name given with a port", "192.0.2.10:9090", "control.example", []string{"control.example:443"}, 200},
		{"rebinding name", "127.0.0.1:9090", "evil.example:9090", nil, 403},
		{"a name under localhost's", "127.0.0.1:9090", "localhost.evil.example", nil, 403},
		{"subdomain of an allowed name", "127.0.0.1:9090", "x.control.example", []string{"control.example"}, 403},
		{"another host's address", "192.0.2.10:9090", "192.0.2.11:9090", nil, 403},
		{"empty Host", "127.0.0.1:9090", "", nil, 403},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := NewAccess(tt.listen, tt.allowed, nil).Wrap(ok)
			for _, path := range []string{"/api/v1/components", "/healthz", "/"} {
				req := httptest.NewRequest("GET", path, nil)
				req.Host = tt.host
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				if rec.Code != tt.want {
					t.Fatalf("GET %s with Host %q: %d, want %d", path, tt.host, rec.Code, tt.want)
				}
			}
		})
	}
}

func TestAccessToken(t *testing.T) {
	const token = "0123456789abcdef0123456789abcdef"
	ok := http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})
	tests := []struct {
		name, path, auth string
		want             int
	}{
		{"API without token", "/api/v1/services", "", 401},
		{"API with a wrong token", "/api/v1/services", "Bearer 0123456789abcdef0123456789abcdee", 401},
		{"API with a prefix of the token", "/api/v1/services", "Bearer 0123456789abcdef", 401},
		{"API with the token in another scheme", "/api/v1/services", "Basic " + token, 401},
		{"API with the token alone", "/api/v1/services", token, 401},
		{"API with the token", "/api/v1/services", "Bearer " + token, 200},
		{"scheme is case-insensitive", "/api/v1/state", "bearer " + token, 200},
		{"metrics without token", "/metrics", "", 401},
		{"metrics with the token", "/metrics", "Bearer " + token, 200},
		{"unknown route without token", "/api/v1/secret", "", 401},
		{"liveness probe", "/healthz", "", 200},
		{"readiness probe", "/readyz", "", 200},
		{"dashboard page (it asks for the token)", "/", "", 200},
	}
	h := NewAccess("127.0.0.1:9090", nil, []byte(token)).Wrap(ok)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest("GET", tt.path, nil)
			req.Host = "127.0.0.1:9090"
			if tt.auth != "" {
				req.Header.Set("Authorization", tt.auth)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != tt.want {
				t.Fatalf("GET %s with Authorization %q: %d, want %d", tt.path, tt.auth, rec.Code, tt.want)
			}
			if rec.Code == 401 && rec.Header().Get("WWW-Authenticate") == "" {
				t.Fatal("401 without WWW-Authenticate")
			}
		})
	}
	// Without a token nothing asks for one.
	req := httptest.NewRequest("GET", "/api/v1/services", nil)
	req.Host = "localhost"
	rec := httptest.NewRecorder()
	NewAccess("127.0.0.1:9090", nil, nil).Wrap(ok).ServeHTTP(rec, req)
	if rec.Code != 200 {
		t.Fatalf("no token configured: %d", rec.Code)
	}
}
