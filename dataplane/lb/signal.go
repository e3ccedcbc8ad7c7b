package lb

import "net/netip"

// Signal is a passive health signal: something a data path saw go wrong (or
// right) with a backend while carrying real traffic. The userspace mode
// reports them; the health checker consumes them.
type Signal uint8

const (
	// SignalRefused: the backend answered the SYN with a reset.
	SignalRefused Signal = iota + 1
	// SignalConnectTimeout: no answer within the connect timeout.
	SignalConnectTimeout
	// SignalReset: an established backend connection was reset.
	SignalReset
	// SignalConnectOK: a connection to the backend succeeded; it lets a
	// health checker clear a passive failure streak.
	SignalConnectOK
	// SignalNoResponse: the client sent bytes and the backend sent none
	// within the first-byte timeout (a backend that accepts and hangs).
	SignalNoResponse
	// SignalResponded: the backend sent its first byte of a session; it
	// clears a SignalNoResponse streak.
	SignalResponded
)

func (s Signal) String() string {
	switch s {
	case SignalRefused:
		return "refused"
	case SignalConnectTimeout:
		return "connect_timeout"
	case SignalReset:
		return "reset"
	case SignalConnectOK:
		return "connect_ok"
	case SignalNoResponse:
		return "no_response"
	case SignalResponded:
		return "responded"
	}
	return "unknown"
}

// Observer receives passive signals. Data paths call it from connect
// goroutines and event loops, so it must be cheap and safe for concurrent
// use.
type Observer interface {
	ObservePassive(backend netip.AddrPort, s Signal)
}
