package server

import (
	"time"

	"github.com/strata-dp/strata/dataplane/state/resp"
)

// respCommand describes one RESP command: its counter and Redis-style
// arity (n: exactly n arguments including the name; -n: at least n).
type respCommand struct {
	id    cmd
	name  string
	arity int
}

var respTable = map[string]respCommand{}

func init() {
	for _, c := range []respCommand{
		{cmdPing, "ping", -1}, {cmdEcho, "echo", 2}, {cmdAuth, "auth", -2}, {cmdHello, "hello", -1},
		{cmdSelect, "select", 2}, {cmdGet, "get", 2}, {cmdSet, "set", -3}, {cmdSetNX, "setnx", 3},
		{cmdSetEX, "setex", 4}, {cmdPSetEX, "psetex", 4}, {cmdGetDel, "getdel", 2}, {cmdDel, "del", -2},
		{cmdDel, "unlink", -2}, {cmdExists, "exists", -2}, {cmdExpire, "expire", -3},
		{cmdPExpire, "pexpire", -3}, {cmdTTL, "ttl", 2}, {cmdPTTL, "pttl", 2}, {cmdPersist, "persist", 2},
		{cmdIncr, "incr", 2}, {cmdIncrBy, "incrby", 3}, {cmdDecr, "decr", 2}, {cmdDecrBy, "decrby", 3},
		{cmdMGet, "mget", -2}, {cmdMSet, "mset", -3}, {cmdStrlen, "strlen", 2}, {cmdAppend, "append", 3},
		{cmdDBSize, "dbsize", 1}, {cmdFlushDB, "flushdb", -1}, {cmdFlushAll, "flushall", -1},
		{cmdScan, "scan", -2}, {cmdInfo, "info", -1}, {cmdCommand, "command", -1},
		{cmdClient, "client", -2}, {cmdConfig, "config", -2}, {cmdQuit, "quit", -1},
	} {
		respTable[toUpper(c.name)] = c
	}
	respGetCmd, respSetCmd = respTable["GET"], respTable["SET"]
}

func toUpper(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'a' <= c && c <= 'z' {
			b[i] = c - 32
		}
	}
	return string(b)
}

func (s *Server) respLimits(ss *session) resp.Limits {
	if !ss.authed {
		// As Redis: an unauthenticated client may send small commands only.
		return resp.Limits{MaxBulk: preAuthInput, MaxArgs: 10, MaxInline: preAuthInput}
	}
	return resp.Limits{MaxBulk: s.cfg.MaxFrame, MaxArgs: 1 << 20, MaxInline: 64 << 10}
}

// serveRESP answers every whole command in in.
func (s *Server) serveRESP(ss *session, in, out []byte) ([]byte, int, bool) {
	pos := 0
	for pos < len(in) && len(out) < batchOutputBudget {
		authed := ss.authed
		args, n, err := resp.Parse(in[pos:], ss.args, s.respLimits(ss))
		if err != nil {
			s.protoErrs.Add(1)
			msg := err.Error()
			switch {
			case !authed && err == resp.ErrBulkLen:
				msg = "Protocol error: unauthenticated bulk length"
			case !authed && err == resp.ErrMultibulkLen:
				msg = "Protocol error: unauthenticated multibulk length"
			case !authed && err == resp.ErrInlineTooBig:
				msg = "Protocol error: unauthenticated inline request too big"
			}
			out = append(out, "-ERR "...)
			out = append(out, msg...)
			return append(out, '\r', '\n'), len(in), true
		}
		if n == 0 {
			if len(in)-pos > s.inputLimit(ss) {
				s.protoErrs.Add(1)
				if !authed {
					return resp.AppendError(out, "ERR Protocol error: unauthenticated command larger than 4096 bytes"), len(in), true
				}
				return resp.AppendError(out, "ERR Protocol error: command larger than the frame limit"), len(in), true
			}
			break
		}
		ss.args = args[:0]
		pos += n
		if len(args) == 0 {
			continue
		}
		out = s.execRESP(ss, args, out)
		if ss.quit {
			return out, pos, true
		}
	}
	return out, pos, false
}

// respGetCmd and respSetCmd are set by init once respTable is filled.
var respGetCmd, respSetCmd respCommand

func (s *Server) lookup(ss *session, name []byte) (respCommand, bool) {
	// GET and SET skip the map: they are most of the traffic.
	if len(name) == 3 && name[1]|0x20 == 'e' && name[2]|0x20 == 't' {
		switch name[0] | 0x20 {
		case 'g':
			return respGetCmd, true
		case 's':
			return respSetCmd, true
		}
	}
	if len(name) > len(ss.upper) {
		return respCommand{}, false
	}
	u := ss.upper[:len(name)]
	for i, c := range name {
		if 'a' <= c && c <= 'z' {
			c -= 32
		}
		u[i] = c
	}
	c, ok := respTable[string(u)]
	return c, ok
}

// execRESP counts a command and runs it, timing one in cmdSampleEvery of
// its kind.
func (s *Server) execRESP(ss *session, args [][]byte, out []byte) []byte {
	c, ok := s.lookup(ss, args[0])
	if !ok {
		c.id = cmdOther
	}
	ls := ss.stats
	ls.cmds[protoRESP][c.id].Add(1)
	if !ls.sample(protoRESP, c.id) {
		return s.runRESP(ss, c, ok, args, out)
	}
	start := time.Now()
	out = s.runRESP(ss, c, ok, args, out)
	ls.timed(protoRESP, c.id, time.Since(start))
	return out
}

// runRESP runs a counted command; known is false for unknown commands.
func (s *Server) runRESP(ss *session, c respCommand, known bool, args [][]byte, out []byte) []byte {
	if !known {
		return appendUnknown(out, args)
	}
	if (c.arity > 0 && len(args) != c.arity) || (c.arity < 0 && len(args) < -c.arity) {
		return appendArity(out, c.name)
	}
	if !ss.authed && c.id != cmdAuth && c.id != cmdHello && c.id != cmdQuit {
		return resp.AppendError(out, "NOAUTH Authentication required.")
	}
	switch c.id {
	case cmdGet:
		return s.respGet(ss, args, out)
	case cmdSet:
		return s.respSet(ss, args, out)
	}
	return s.execRESPOther(ss, c, args, out)
}

func appendUnknown(out []byte, args [][]byte) []byte {
	out = append(out, "-ERR unknown command '"...)
	out = appendSafe(out, args[0], 128)
	out = append(out, "', with args beginning with: "...)
	for i, a := range args[1:] {
		if i == 16 {
			break
		}
		out = append(out, '\'')
		out = appendSafe(out, a, 64)
		out = append(out, "' "...)
	}
	return append(out, '\r', '\n')
}

// appendSafe copies at most n bytes of b into an error line, dropping
// CR and LF so a client cannot break the reply framing.
func appendSafe(out, b []byte, n int) []byte {
	for i, c := range b {
		if i == n {
			break
		}
		if c == '\r' || c == '\n' {
			c = ' '
		}
		out = append(out, c)
	}
	return out
}

func appendArity(out []byte, name string) []byte {
	out = append(out, "-ERR wrong number of arguments for '"...)
	out = append(out, name...)
	return append(out, "' command\r\n"...)
}

var (
	replyOK   = []byte("+OK\r\n")
	replyPong = []byte("+PONG\r\n")
	replyZero = []byte(":0\r\n")
	replyOne  = []byte(":1\r\n")
)

func appendBool(out []byte, b bool) []byte {
	if b {
		return append(out, replyOne...)
	}
	return append(out, replyZero...)
}
