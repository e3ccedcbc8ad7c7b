package xdp

// Names of the pass and drop reasons, indexed like enum lb_pass_reason and
// enum lb_drop_reason; they are the Prometheus label values.
var (
	passReasonNames = [passReasons]string{"not_ip", "malformed", "no_service", "other_proto"}
	dropReasonNames = [dropReasons]string{"fragment", "no_backend", "encap", "family", "internal"}
	decapStatNames  = [decapStats]string{"decap_v4", "decap_v6", "pass", "malformed", "error"}
)

// Counters are packets, bytes and new flows, summed over CPUs.
type Counters struct {
	Packets, Bytes, NewFlows uint64
}

// Stats is a snapshot of the program's counters, summed over CPUs.
type Stats struct {
	Generation      uint32
	ConntrackHits   uint64
	ConntrackMisses uint64
	TX, Redirect    uint64
	// Pass and Drop are keyed by reason (see passReasonNames,
	// dropReasonNames); every reason is present.
	Pass map[string]uint64
	Drop map[string]uint64
	// Services is keyed by lb.Service.Key(); Backends by
	// BackendKey(service key, backend ID).
	Services map[string]Counters
	Backends map[string]Counters
}

// BackendKey is the key of Stats.Backends.
func BackendKey(serviceKey, backendID string) string { return backendKey(serviceKey, backendID) }
