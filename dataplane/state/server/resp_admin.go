package server

import (
	"encoding/binary"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/strata-dp/strata/dataplane/state"
	"github.com/strata-dp/strata/dataplane/state/resp"
)

// Version is reported by INFO and HELLO.
const Version = "7.0.0-strata"

// HELLO [protover [AUTH user pass] [SETNAME name]]: only RESP2 is spoken;
// clients that ask for 3 get NOPROTO and fall back, as with old Redis.
func (s *Server) respHello(ss *session, args [][]byte, out []byte) []byte {
	if len(args) > 1 {
		v, ok := state.ParseInt(args[1])
		if !ok {
			return resp.AppendError(out, "ERR Protocol version is not an integer or out of range")
		}
		if v != 2 {
			return resp.AppendError(out, "NOPROTO sorry, this protocol version is not supported.")
		}
	}
	for i := 2; i < len(args); i++ {
		switch {
		case equalFold(args[i], "AUTH") && i+2 < len(args):
			before := len(out)
			out = s.respAuth(ss, args[i+1:i+3], out)
			if string(out[before:]) != "+OK\r\n" {
				return out
			}
			out = out[:before]
			i += 2
		case equalFold(args[i], "SETNAME") && i+1 < len(args):
			ss.name = string(args[i+1])
			i++
		default:
			return resp.AppendError(out, "ERR syntax error in HELLO option")
		}
	}
	if !ss.authed {
		return resp.AppendError(out, "NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time")
	}
	out = resp.AppendArrayLen(out, 14)
	out = resp.AppendBulkString(out, "server")
	out = resp.AppendBulkString(out, "redis")
	out = resp.AppendBulkString(out, "version")
	out = resp.AppendBulkString(out, Version)
	out = resp.AppendBulkString(out, "proto")
	out = resp.AppendInt(out, 2)
	out = resp.AppendBulkString(out, "id")
	out = resp.AppendInt(out, int64(ss.id))
	out = resp.AppendBulkString(out, "mode")
	out = resp.AppendBulkString(out, "standalone")
	out = resp.AppendBulkString(out, "role")
	out = resp.AppendBulkString(out, "master")
	out = resp.AppendBulkString(out, "modules")
	return resp.AppendArrayLen(out, 0)
}

// SCAN's bounds: what one call may ask for. A call visits whole engine
// shards (the cursor is a shard index), stopping after the shard in which
// it reached COUNT keys, so COUNT is clamped: without the clamp one call
// walks the whole keyspace on the event loop. A MATCH pattern is limited
// so that matching one key costs at most len(key)*maxScanPattern steps.
const (
	maxScanCount   = 1000
	maxScanPattern = 512
)

// SCAN cursor [MATCH pattern] [COUNT n] [TYPE string]
func (s *Server) respScan(ss *session, args [][]byte, out []byte) []byte {
	cur, ok := state.ParseInt(args[1])
	if !ok || cur < 0 {
		return resp.AppendError(out, "ERR invalid cursor")
	}
	var match []byte
	count := int64(10)
	for i := 2; i < len(args); i += 2 {
		if i+1 >= len(args) {
			return resp.AppendError(out, "ERR syntax error")
		}
		switch {
		case equalFold(args[i], "MATCH"):
			if len(args[i+1]) > maxScanPattern {
				return resp.AppendError(out, "ERR MATCH pattern longer than 512 bytes")
			}
			match = args[i+1]
		case equalFold(args[i], "COUNT"):
			if count, ok = state.ParseInt(args[i+1]); !ok || count < 1 {
				return resp.AppendError(out, "ERR syntax error")
			}
			count = min(count, maxScanCount)
		case equalFold(args[i], "TYPE"):
			if !equalFold(args[i+1], "STRING") {
				match = []byte{} // no other types exist: nothing matches
			}
		default:
			return resp.AppendError(out, "ERR syntax error")
		}
	}
	// Keys go into scratch as length-prefixed items: fn may not touch out
	// because the array length is not known yet. Past MaxReply they are
	// only counted: the reply is refused.
	keys := ss.scratch[:0]
	n := 0
	over := false
	next := s.eng.Scan(uint64(cur), int(count), func(k []byte) {
		if over || (match != nil && !globMatch(match, k)) {
			return
		}
		if len(keys)+len(k)+16 > s.cfg.MaxReply {
			over = true
			return
		}
		keys = binary.LittleEndian.AppendUint32(keys, uint32(len(k)))
		keys = append(keys, k...)
		n++
	})
	ss.scratch = keys
	if over {
		ss.stats.tooLarge.Add(1)
		return appendReplyTooLarge(out, s.cfg.MaxReply)
	}
	out = resp.AppendArrayLen(out, 2)
	out = resp.AppendBulkString(out, strconv.FormatUint(next, 10))
	out = resp.AppendArrayLen(out, n)
	for len(keys) >= 4 {
		l := int(binary.LittleEndian.Uint32(keys))
		out = resp.AppendBulk(out, keys[4:4+l])
		keys = keys[4+l:]
	}
	return out
}

// INFO [section ...]
func (s *Server) respInfo(args [][]byte, out []byte) []byte {
	want := map[string]bool{}
	for _, a := range args[1:] {
		want[strings.ToLower(string(a))] = true
	}
	all := len(want) == 0 || want["all"] || want["everything"] || want["default"]
	var b strings.Builder
	t := s.stats.totals()
	es := s.eng.Stats()
	section := func(name string, lines ...string) {
		if !all && !want[name] {
			return
		}
		if b.Len() > 0 {
			b.WriteString("\r\n")
		}
		b.WriteString("# " + strings.ToUpper(name[:1]) + name[1:] + "\r\n")
		for _, l := range lines {
			b.WriteString(l + "\r\n")
		}
	}
	up := time.Since(s.started)
	var ms runtime.MemStats
	if all || want["memory"] {
		runtime.ReadMemStats(&ms)
	}
	section("server",
		"redis_version:"+Version,
		"strata_node_id:"+s.cfg.NodeID,
		"redis_mode:standalone",
		"os:"+runtime.GOOS+" "+runtime.GOARCH,
		"arch_bits:64",
		"multiplexing_api:epoll",
		"go_version:"+runtime.Version(),
		fmt.Sprintf("tcp_port:%s", portOf(s.RESPAddr())),
		fmt.Sprintf("uptime_in_seconds:%d", int64(up.Seconds())),
		fmt.Sprintf("uptime_in_days:%d", int64(up.Hours()/24)))
	section("clients",
		fmt.Sprintf("connected_clients:%d", s.conns.Load()),
		fmt.Sprintf("maxclients:%d", s.cfg.MaxConns),
		"blocked_clients:0")
	// used_memory is the live bytes maxmemory bounds, as in Redis; the
	// resident set also holds the hash indexes, the runtime and the dead
	// space of the queues' reclaim headroom.
	rss := residentBytes()
	section("memory",
		fmt.Sprintf("used_memory:%d", es.UsedBytes),
		fmt.Sprintf("used_memory_human:%.2fM", float64(es.UsedBytes)/(1<<20)),
		fmt.Sprintf("used_memory_rss:%d", rss),
		fmt.Sprintf("strata_go_heap_alloc:%d", ms.HeapAlloc),
		fmt.Sprintf("strata_engine_allocated:%d", es.CapacityBytes),
		fmt.Sprintf("maxmemory:%d", es.MemoryBytes),
		fmt.Sprintf("maxmemory_human:%.2fM", float64(es.MemoryBytes)/(1<<20)),
		"maxmemory_policy:"+es.Policy.String())
	section("stats",
		fmt.Sprintf("total_connections_received:%d", s.accepted.Load()),
		fmt.Sprintf("total_commands_processed:%d", t.commands),
		fmt.Sprintf("total_net_input_bytes:%d", t.bytesIn),
		fmt.Sprintf("total_net_output_bytes:%d", t.bytesOut),
		fmt.Sprintf("rejected_connections:%d", s.rejected.Load()),
		fmt.Sprintf("expired_keys:%d", es.Expired),
		fmt.Sprintf("evicted_keys:%d", es.Evicted),
		fmt.Sprintf("strata_oom_refused_writes:%d", es.Refused),
		fmt.Sprintf("keyspace_hits:%d", t.hits),
		fmt.Sprintf("keyspace_misses:%d", t.misses),
		fmt.Sprintf("strata_change_seq:%d", s.eng.Seq()))
	keyspace := []string{}
	if es.Keys > 0 {
		keyspace = append(keyspace, fmt.Sprintf("db0:keys=%d,expires=0,avg_ttl=0", es.Keys))
	}
	section("keyspace", keyspace...)
	return resp.AppendBulkString(out, b.String())
}

// residentBytes is the process's resident set size (0 if unknown).
func residentBytes() int64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) < 2 {
		return 0
	}
	pages, _ := strconv.ParseInt(f[1], 10, 64)
	return pages * int64(os.Getpagesize())
}

func portOf(addr string) string {
	if i := strings.LastIndexByte(addr, ':'); i >= 0 {
		return addr[i+1:]
	}
	return "0"
}

// COMMAND [COUNT|DOCS|INFO ...]: enough for redis-cli's start-up probes.
func (s *Server) respCommand(args [][]byte, out []byte) []byte {
	if len(args) == 1 {
		return resp.AppendArrayLen(out, 0)
	}
	switch {
	case equalFold(args[1], "COUNT"):
		return resp.AppendInt(out, int64(len(respTable)))
	case equalFold(args[1], "DOCS"), equalFold(args[1], "LIST"):
		return resp.AppendArrayLen(out, 0)
	case equalFold(args[1], "INFO"):
		out = resp.AppendArrayLen(out, len(args)-2)
		for range args[2:] {
			out = append(out, "*-1\r\n"...)
		}
		return out
	}
	return appendUnknownSub(out, args[1], "COMMAND")
}

func appendUnknownSub(out, sub []byte, cmd string) []byte {
	out = append(out, "-ERR unknown subcommand '"...)
	out = appendSafe(out, sub, 64)
	out = append(out, "'. Try "...)
	out = append(out, cmd...)
	return append(out, " HELP.\r\n"...)
}

// CLIENT SETNAME|GETNAME|ID|SETINFO|INFO|LIST|NO-EVICT|NO-TOUCH
func (s *Server) respClient(ss *session, args [][]byte, out []byte) []byte {
	sub := args[1]
	switch {
	case equalFold(sub, "SETNAME") && len(args) == 3:
		ss.name = string(args[2])
		return append(out, replyOK...)
	case equalFold(sub, "GETNAME"):
		if ss.name == "" {
			return resp.AppendNull(out)
		}
		return resp.AppendBulkString(out, ss.name)
	case equalFold(sub, "ID"):
		return resp.AppendInt(out, int64(ss.id))
	case equalFold(sub, "SETINFO"), equalFold(sub, "NO-EVICT"), equalFold(sub, "NO-TOUCH"):
		return append(out, replyOK...)
	case equalFold(sub, "INFO"):
		return resp.AppendBulkString(out, s.clientLine(ss)+"\n")
	case equalFold(sub, "LIST"):
		var b strings.Builder
		for _, l := range s.listeners {
			l.mu.Lock()
			for o := range l.sessions {
				b.WriteString(s.clientLine(o) + "\n")
			}
			l.mu.Unlock()
		}
		return resp.AppendBulkString(out, b.String())
	}
	return appendUnknownSub(out, sub, "CLIENT")
}

func (s *Server) clientLine(ss *session) string {
	return fmt.Sprintf("id=%d addr=%s name=%s age=%d proto=%s db=0",
		ss.id, ss.addr, ss.name, int64(time.Since(ss.created).Seconds()), ss.proto)
}

// CONFIG GET answers the parameters redis-benchmark and tools probe; other
// parameters read as absent. CONFIG RESETSTAT is accepted.
func (s *Server) respConfig(args [][]byte, out []byte) []byte {
	switch {
	case equalFold(args[1], "GET") && len(args) >= 3:
		known := map[string]string{
			"save": "", "appendonly": "no", "databases": "1",
			"maxmemory":        strconv.FormatInt(s.eng.Stats().MemoryBytes, 10),
			"maxmemory-policy": s.eng.Stats().Policy.String(),
			"maxclients":       strconv.Itoa(s.cfg.MaxConns),
			"timeout":          strconv.FormatInt(int64(s.cfg.IdleTimeout.Seconds()), 10),
		}
		var pairs []string
		for _, a := range args[2:] {
			k := strings.ToLower(string(a))
			if v, ok := known[k]; ok {
				pairs = append(pairs, k, v)
			}
		}
		out = resp.AppendArrayLen(out, len(pairs))
		for _, p := range pairs {
			out = resp.AppendBulkString(out, p)
		}
		return out
	case equalFold(args[1], "RESETSTAT"):
		return append(out, replyOK...)
	case equalFold(args[1], "SET"):
		return resp.AppendError(out, "ERR CONFIG SET is not supported; use strata state flags")
	}
	return appendUnknownSub(out, args[1], "CONFIG")
}
