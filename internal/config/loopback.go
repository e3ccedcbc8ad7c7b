package config

import (
	"net"
	"net/netip"
	"strings"
)

// LoopbackAddr reports whether a listener on addr (HOST:PORT) can only be
// reached from this host: an IP in 127.0.0.0/8 or ::1, or the name
// localhost. An empty host (":7001"), an unspecified address (0.0.0.0,
// ::), any other address and any other name count as reachable from
// elsewhere, and so does a malformed addr. An empty addr is a listener
// that is off, so it is reachable from nowhere.
func LoopbackAddr(addr string) bool {
	if addr == "" {
		return true
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.Unmap().IsLoopback()
}
