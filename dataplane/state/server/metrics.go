package server

import "github.com/prometheus/client_golang/prometheus"

// Collector returns a Prometheus collector for this server's and its
// engine's counters. Counters are kept as per-loop atomics and summed at
// scrape time, so the request path never touches Prometheus.
func (s *Server) Collector() prometheus.Collector { s.stats.init(); return (*collector)(s) }

type collector Server

var (
	descCmds     = prometheus.NewDesc("strata_state_commands_total", "Commands served, by protocol and command.", []string{"protocol", "command"}, nil)
	descHits     = prometheus.NewDesc("strata_state_hits_total", "Reads that found a live key.", nil, nil)
	descMisses   = prometheus.NewDesc("strata_state_misses_total", "Reads that found no live key.", nil, nil)
	descExpired  = prometheus.NewDesc("strata_state_expired_keys_total", "Keys removed because their TTL passed.", nil, nil)
	descEvicted  = prometheus.NewDesc("strata_state_evicted_keys_total", "Keys evicted to stay under the memory bound.", nil, nil)
	descKeys     = prometheus.NewDesc("strata_state_keys", "Keys stored (including expired ones not yet reclaimed).", nil, nil)
	descCap      = prometheus.NewDesc("strata_state_memory_allocated_bytes", "Bytes reserved by the engine's shard queues: the bound plus the reclaim headroom (allocated up front; resident only as they fill).", nil, nil)
	descMax      = prometheus.NewDesc("strata_state_memory_limit_bytes", "The configured memory bound on live data (maxmemory).", nil, nil)
	descUsed     = prometheus.NewDesc("strata_state_memory_used_bytes", "Live bytes of stored entries, what the memory bound limits (used_memory).", nil, nil)
	descPolicy   = prometheus.NewDesc("strata_state_maxmemory_policy", "The memory policy in force (always 1; the policy is the label).", []string{"policy"}, nil)
	descOOM      = prometheus.NewDesc("strata_state_oom_refused_writes_total", "Writes refused because live data would pass the memory bound (noeviction).", nil, nil)
	descBytes    = prometheus.NewDesc("strata_state_network_bytes_total", "Bytes read from and written to clients.", []string{"direction"}, nil)
	descConns    = prometheus.NewDesc("strata_state_connections", "Open client connections.", nil, nil)
	descAccepted = prometheus.NewDesc("strata_state_connections_accepted_total", "Connections accepted.", nil, nil)
	descRejected = prometheus.NewDesc("strata_state_connections_rejected_total", "Connections refused at the connection limit.", nil, nil)
	descClosed   = prometheus.NewDesc("strata_state_connections_closed_total", "Connections closed by the server, by reason.", []string{"reason"}, nil)
	descSeq      = prometheus.NewDesc("strata_state_change_seq", "Sequence number of the latest write (the change feed position).", nil, nil)
	descRefused  = prometheus.NewDesc("strata_state_replies_refused_total", "Replies refused because they would pass the reply limit (--max-reply): MGET and SCAN.", nil, nil)
	descBuffered = prometheus.NewDesc("strata_state_buffered_bytes", "Bytes held for all connections: incomplete commands being received and replies not yet sent (bounded by --max-buffered).", nil, nil)
	descAuthFail = prometheus.NewDesc("strata_state_auth_failures_total", "AUTH attempts with a wrong secret, both protocols.", nil, nil)
	descAuthThr  = prometheus.NewDesc("strata_state_auth_throttled_total", "AUTH attempts refused without comparing because their address spent its failure budget; the connection is closed.", nil, nil)
	descBusy     = prometheus.NewDesc("strata_state_busy_poll_turns_total", "Event-loop turns spent busy polling after client traffic instead of sleeping (--busy-poll).", nil, nil)
	descCmdTime  = prometheus.NewDesc("strata_state_command_duration_seconds", "Server time to execute one command, from parsed to reply appended, by protocol and command; of each command an event loop times the first and then one in 64.", []string{"protocol", "command"}, nil)
)

func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descCmds, descHits, descMisses, descExpired, descEvicted, descKeys,
		descCap, descMax, descUsed, descPolicy, descOOM, descBytes, descConns, descAccepted, descRejected, descClosed, descSeq, descBusy,
		descRefused, descBuffered, descAuthFail, descAuthThr, descCmdTime} {
		ch <- d
	}
	for _, h := range c.stats.hist {
		h.Describe(ch)
	}
}

func (c *collector) Collect(ch chan<- prometheus.Metric) {
	s := (*Server)(c)
	t := s.stats.totals()
	for p := range t.cmds {
		for i, n := range t.cmds[p] {
			if n > 0 {
				ch <- prometheus.MustNewConstMetric(descCmds, prometheus.CounterValue, float64(n), protocol(p).String(), cmdNames[i])
			}
			if h := &t.cmdTime[p][i]; h.Count() > 0 {
				ch <- h.Metric(descCmdTime, cmdBounds, protocol(p).String(), cmdNames[i])
			}
		}
	}
	es := s.eng.Stats()
	counter := func(d *prometheus.Desc, v uint64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	gauge := func(d *prometheus.Desc, v float64) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v)
	}
	counter(descHits, t.hits)
	counter(descMisses, t.misses)
	counter(descExpired, es.Expired)
	counter(descEvicted, es.Evicted)
	gauge(descKeys, float64(es.Keys))
	gauge(descCap, float64(es.CapacityBytes))
	gauge(descMax, float64(es.MemoryBytes))
	gauge(descUsed, float64(es.UsedBytes))
	ch <- prometheus.MustNewConstMetric(descPolicy, prometheus.GaugeValue, 1, es.Policy.String())
	counter(descOOM, es.Refused)
	counter(descBytes, t.bytesIn, "in")
	counter(descBytes, t.bytesOut, "out")
	gauge(descConns, float64(s.conns.Load()))
	counter(descAccepted, s.accepted.Load())
	counter(descRejected, s.rejected.Load())
	counter(descClosed, s.protoErrs.Load(), "protocol_error")
	counter(descClosed, s.slowKills.Load(), "slow_client")
	counter(descClosed, s.idleKills.Load(), "idle")
	counter(descClosed, s.bufferKills.Load(), "buffer_limit")
	counter(descClosed, s.authKills.Load(), "auth_failures")
	gauge(descBuffered, float64(s.buffered.Load()))
	counter(descAuthFail, s.authFails.Load())
	counter(descAuthThr, s.authThrottled.Load())
	gauge(descSeq, float64(s.eng.Seq()))
	counter(descBusy, s.busyTurns.Load())
	counter(descRefused, t.tooLarge)
	for _, h := range s.stats.hist {
		h.Collect(ch)
	}
}
