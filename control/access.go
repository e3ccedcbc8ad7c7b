package control

import (
	"crypto/sha256"
	"crypto/subtle"
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// Access guards every route of the control plane's listener, in two steps.
//
// First the Host header (DNS-rebinding defence, as Docker, Jupyter and
// Vite do): a page on evil.example whose name is made to resolve to
// 127.0.0.1 talks to this listener from the browser as same-origin, and
// only the Host it sends (evil.example) gives it away. Requests whose Host
// is not a loopback address, localhost, the listener's own address (every
// address of the host's interfaces when it listens on 0.0.0.0 or ::) or a
// name given with --allowed-host get 403 before any handler runs.
//
// Then the bearer token, when one is set: every route but the probes
// (/healthz, /readyz: nothing to read there, and supervisors probe without
// credentials) and the dashboard's page itself (static; it asks for the
// token and sends it on its API calls) answers 401 unless the request
// carries Authorization: Bearer TOKEN. Tokens are compared in constant
// time, over their SHA-256 so that not even the length leaks.
type Access struct {
	hosts map[string]bool
	// token is the SHA-256 of the token; hasToken says whether one is set.
	token    [sha256.Size]byte
	hasToken bool
}

// NewAccess builds the guard of a listener bound to listen (the bound
// address, HOST:PORT), allowing the extra Host names in allowed; a
// non-empty token turns the bearer check on.
func NewAccess(listen string, allowed []string, token []byte) *Access {
	a := &Access{hosts: map[string]bool{"localhost": true}}
	if len(token) > 0 {
		a.token, a.hasToken = sha256.Sum256(token), true
	}
	for _, h := range allowed {
		a.hosts[normalHost(h)] = true
	}
	host, _, err := net.SplitHostPort(listen)
	if err != nil {
		host = listen
	}
	ip, err := netip.ParseAddr(host)
	switch {
	case err != nil:
		a.hosts[normalHost(host)] = true // a name it was told to listen on
	case ip.IsUnspecified():
		// The addresses of the moment: one added later needs --allowed-host.
		addrs, _ := net.InterfaceAddrs()
		for _, ad := range addrs {
			if pfx, err := netip.ParsePrefix(ad.String()); err == nil {
				a.hosts[pfx.Addr().Unmap().WithZone("").String()] = true
			}
		}
	default:
		a.hosts[ip.Unmap().WithZone("").String()] = true
	}
	return a
}

// normalHost is a Host header's name without port, brackets, trailing dot
// or case.
func normalHost(h string) string {
	if host, _, err := net.SplitHostPort(h); err == nil {
		h = host
	}
	h = strings.TrimSuffix(strings.TrimSuffix(strings.TrimPrefix(h, "["), "]"), ".")
	if ip, err := netip.ParseAddr(h); err == nil {
		return ip.Unmap().WithZone("").String()
	}
	return strings.ToLower(h)
}

// HostAllowed reports whether a request with this Host header may be
// served.
func (a *Access) HostAllowed(hostHeader string) bool {
	h := normalHost(hostHeader)
	if h == "" {
		return false
	}
	if ip, err := netip.ParseAddr(h); err == nil && ip.IsLoopback() {
		return true
	}
	return a.hosts[h]
}

// Authorized reports whether r carries the token (always, without one).
func (a *Access) Authorized(r *http.Request) bool {
	if !a.hasToken {
		return true
	}
	scheme, cred, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return false
	}
	got := sha256.Sum256([]byte(strings.TrimSpace(cred)))
	return subtle.ConstantTimeCompare(got[:], a.token[:]) == 1
}

// open are the routes served without the token.
func open(r *http.Request) bool {
	switch r.URL.Path {
	case "/healthz", "/readyz", "/":
		return true
	}
	return false
}

// Wrap guards h.
func (a *Access) Wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("X-Frame-Options", "DENY")
		hd.Set("Referrer-Policy", "no-referrer")
		if !a.HostAllowed(r.Host) {
			http.Error(w, "403 forbidden: this Host is not a name of the control plane (strata control --allowed-host NAME adds one)",
				http.StatusForbidden)
			return
		}
		if !open(r) && !a.Authorized(r) {
			hd.Set("WWW-Authenticate", `Bearer realm="strata control"`)
			http.Error(w, "401 unauthorized: send Authorization: Bearer TOKEN (the control plane's --token-file)",
				http.StatusUnauthorized)
			return
		}
		h.ServeHTTP(w, r)
	})
}
