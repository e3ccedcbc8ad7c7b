package server

import (
	"errors"
	"strconv"

	"github.com/strata-dp/strata/dataplane/state"
	"github.com/strata-dp/strata/dataplane/state/resp"
	"github.com/strata-dp/strata/dataplane/state/wire"
)

func (s *Server) respGet(ss *session, args [][]byte, out []byte) []byte {
	v, _, ok := s.eng.Get(ss.scratch[:0], args[1])
	ss.scratch = v
	if !ok {
		ss.stats.misses.Add(1)
		return resp.AppendNull(out)
	}
	ss.stats.hits.Add(1)
	return resp.AppendBulk(out, v)
}

// equalFold compares an argument with an upper-case ASCII word.
func equalFold(b []byte, upper string) bool {
	if len(b) != len(upper) {
		return false
	}
	for i, c := range b {
		if 'a' <= c && c <= 'z' {
			c -= 32
		}
		if c != upper[i] {
			return false
		}
	}
	return true
}

// SET key value [NX|XX] [GET] [EX s|PX ms|EXAT s|PXAT ms|KEEPTTL]
func (s *Server) respSet(ss *session, args [][]byte, out []byte) []byte {
	o := state.SetOptions{}
	var get, expSet bool
	for i := 3; i < len(args); i++ {
		a := args[i]
		switch {
		case equalFold(a, "NX") && o.Mode == state.SetAlways:
			o.Mode = state.SetIfAbsent
		case equalFold(a, "XX") && o.Mode == state.SetAlways:
			o.Mode = state.SetIfPresent
		case equalFold(a, "GET"):
			get = true
		case equalFold(a, "KEEPTTL") && !expSet:
			o.KeepTTL, expSet = true, true
		case (equalFold(a, "EX") || equalFold(a, "PX") || equalFold(a, "EXAT") || equalFold(a, "PXAT")) && !expSet && i+1 < len(args):
			n, ok := state.ParseInt(args[i+1])
			if !ok {
				return resp.AppendError(out, "ERR value is not an integer or out of range")
			}
			at, ok := s.expiry(a, n)
			if !ok {
				return resp.AppendError(out, "ERR invalid expire time in 'set' command")
			}
			o.ExpireAt, expSet = at, true
			i++
		default:
			return resp.AppendError(out, "ERR syntax error")
		}
	}
	if get {
		o.ReturnOld, o.OldBuf = true, ss.scratch[:0]
	}
	r, err := s.eng.Set(args[1], args[2], o)
	if err != nil {
		return appendEngineErr(out, err)
	}
	if get {
		ss.scratch = r.Old
		if !r.Existed {
			return resp.AppendNull(out)
		}
		return resp.AppendBulk(out, r.Old)
	}
	if !r.Written {
		return resp.AppendNull(out)
	}
	return append(out, replyOK...)
}

// expiry turns an EX/PX/EXAT/PXAT argument into unix ms, refusing values
// that are not positive or would overflow, as Redis does.
func (s *Server) expiry(unit []byte, n int64) (int64, bool) {
	if n <= 0 {
		return 0, false
	}
	switch {
	case equalFold(unit, "EX"):
		if n > maxTTLMillis/1000 {
			return 0, false
		}
		return s.eng.Now() + n*1000, true
	case equalFold(unit, "PX"):
		if n > maxTTLMillis {
			return 0, false
		}
		return s.eng.Now() + n, true
	case equalFold(unit, "EXAT"):
		if n > maxTTLMillis/1000 {
			return 0, false
		}
		return n * 1000, true
	default: // PXAT
		return n, n <= maxTTLMillis
	}
}

func appendEngineErr(out []byte, err error) []byte {
	switch {
	case errors.Is(err, state.ErrNotInteger):
		return resp.AppendError(out, "ERR value is not an integer or out of range")
	case errors.Is(err, state.ErrOverflow):
		return resp.AppendError(out, "ERR increment or decrement would overflow")
	case errors.Is(err, state.ErrKeyTooLong):
		return resp.AppendError(out, "ERR key too long")
	case errors.Is(err, state.ErrEmptyKey):
		return resp.AppendError(out, "ERR empty keys are not supported")
	case errors.Is(err, state.ErrValueTooLarge):
		return resp.AppendError(out, "ERR string exceeds maximum allowed size")
	case errors.Is(err, state.ErrNoSpace):
		return resp.AppendError(out, "OOM entry does not fit in memory")
	case errors.Is(err, state.ErrOutOfMemory):
		// Redis's own words, which clients match on.
		return resp.AppendError(out, "OOM command not allowed when used memory > 'maxmemory'.")
	}
	return resp.AppendError(out, "ERR internal error")
}

// execRESPOther runs every command but GET and SET.
func (s *Server) execRESPOther(ss *session, c respCommand, args [][]byte, out []byte) []byte {
	e := s.eng
	switch c.id {
	case cmdPing:
		if len(args) > 2 {
			return appendArity(out, c.name)
		}
		if len(args) == 2 {
			return resp.AppendBulk(out, args[1])
		}
		return append(out, replyPong...)
	case cmdEcho:
		return resp.AppendBulk(out, args[1])
	case cmdAuth:
		return s.respAuth(ss, args[1:], out)
	case cmdHello:
		return s.respHello(ss, args, out)
	case cmdSelect:
		if n, ok := state.ParseInt(args[1]); !ok || n != 0 {
			return resp.AppendError(out, "ERR DB index is out of range")
		}
		return append(out, replyOK...)
	case cmdQuit:
		ss.quit = true
		return append(out, replyOK...)
	case cmdSetNX:
		r, err := e.Set(args[1], args[2], state.SetOptions{Mode: state.SetIfAbsent})
		if err != nil {
			return appendEngineErr(out, err)
		}
		return appendBool(out, r.Written)
	case cmdSetEX, cmdPSetEX:
		n, ok := state.ParseInt(args[2])
		if !ok {
			return resp.AppendError(out, "ERR value is not an integer or out of range")
		}
		unit := "EX"
		if c.id == cmdPSetEX {
			unit = "PX"
		}
		at, ok := s.expiry([]byte(unit), n)
		if !ok {
			out = append(out, "-ERR invalid expire time in '"...)
			out = append(out, c.name...)
			return append(out, "' command\r\n"...)
		}
		if _, err := e.Set(args[1], args[3], state.SetOptions{ExpireAt: at}); err != nil {
			return appendEngineErr(out, err)
		}
		return append(out, replyOK...)
	case cmdGetDel:
		v, ok, err := e.GetDel(ss.scratch[:0], args[1])
		ss.scratch = v
		if err != nil {
			return appendEngineErr(out, err)
		}
		if !ok {
			return resp.AppendNull(out)
		}
		return resp.AppendBulk(out, v)
	case cmdDel:
		n := 0
		for _, k := range args[1:] {
			if ok, _ := e.Delete(k); ok {
				n++
			}
		}
		return resp.AppendInt(out, int64(n))
	case cmdExists:
		n := 0
		for _, k := range args[1:] {
			if e.Exists(ss.scratch, k) {
				n++
			}
		}
		return resp.AppendInt(out, int64(n))
	case cmdExpire, cmdPExpire:
		return s.respExpire(c, args, out)
	case cmdTTL, cmdPTTL:
		ms, ok := e.TTL(ss.scratch, args[1])
		switch {
		case !ok:
			return resp.AppendInt(out, -2)
		case ms < 0:
			return resp.AppendInt(out, -1)
		case c.id == cmdTTL:
			return resp.AppendInt(out, (ms+500)/1000)
		}
		return resp.AppendInt(out, ms)
	case cmdPersist:
		ok, err := e.Persist(args[1])
		if err != nil {
			return appendEngineErr(out, err)
		}
		return appendBool(out, ok)
	case cmdIncr, cmdDecr, cmdIncrBy, cmdDecrBy:
		return s.respIncr(c, args, out)
	case cmdMGet:
		return s.respMGet(ss, args, out)
	case cmdMSet:
		if len(args)%2 != 1 {
			return appendArity(out, c.name)
		}
		if err := e.SetMany(args[1:], state.SetOptions{}); err != nil {
			return appendEngineErr(out, err)
		}
		return append(out, replyOK...)
	case cmdStrlen:
		v, _, _ := e.Get(ss.scratch[:0], args[1])
		ss.scratch = v
		return resp.AppendInt(out, int64(len(v)))
	case cmdAppend:
		n, err := e.Append(args[1], args[2])
		if err != nil {
			return appendEngineErr(out, err)
		}
		return resp.AppendInt(out, int64(n))
	case cmdDBSize:
		return resp.AppendInt(out, int64(e.Len()))
	case cmdFlushDB, cmdFlushAll:
		if len(args) > 2 || (len(args) == 2 && !equalFold(args[1], "ASYNC") && !equalFold(args[1], "SYNC")) {
			return resp.AppendError(out, "ERR syntax error")
		}
		if err := e.Flush(); err != nil {
			return resp.AppendError(out, "ERR flush failed")
		}
		return append(out, replyOK...)
	case cmdScan:
		return s.respScan(ss, args, out)
	case cmdInfo:
		return s.respInfo(args, out)
	case cmdCommand:
		return s.respCommand(args, out)
	case cmdClient:
		return s.respClient(ss, args, out)
	case cmdConfig:
		return s.respConfig(args, out)
	}
	return appendUnknown(out, args)
}

func (s *Server) respExpire(c respCommand, args [][]byte, out []byte) []byte {
	var cond state.ExpireCond
	for _, a := range args[3:] {
		switch {
		case equalFold(a, "NX"):
			cond |= state.ExpireNX
		case equalFold(a, "XX"):
			cond |= state.ExpireXX
		case equalFold(a, "GT"):
			cond |= state.ExpireGT
		case equalFold(a, "LT"):
			cond |= state.ExpireLT
		default:
			out = append(out, "-ERR Unsupported option "...)
			out = appendSafe(out, a, 32)
			return append(out, "\r\n"...)
		}
	}
	if cond&state.ExpireNX != 0 && cond != state.ExpireNX {
		return resp.AppendError(out, "ERR NX and XX, GT or LT options at the same time are not compatible")
	}
	if !cond.Valid() {
		return resp.AppendError(out, "ERR GT and LT options at the same time are not compatible")
	}
	n, ok := state.ParseInt(args[2])
	if !ok {
		return resp.AppendError(out, "ERR value is not an integer or out of range")
	}
	if c.id == cmdExpire {
		if n > maxTTLMillis/1000 || n < -maxTTLMillis/1000 {
			return resp.AppendError(out, "ERR invalid expire time in 'expire' command")
		}
		n *= 1000
	} else if n > maxTTLMillis || n < -maxTTLMillis {
		return resp.AppendError(out, "ERR invalid expire time in 'pexpire' command")
	}
	ok, err := s.eng.ExpireIf(args[1], s.eng.Now()+n, cond)
	if err != nil {
		return appendEngineErr(out, err)
	}
	return appendBool(out, ok)
}

func (s *Server) respIncr(c respCommand, args [][]byte, out []byte) []byte {
	delta := int64(1)
	if c.id == cmdIncrBy || c.id == cmdDecrBy {
		n, ok := state.ParseInt(args[2])
		if !ok {
			return resp.AppendError(out, "ERR value is not an integer or out of range")
		}
		delta = n
	}
	if c.id == cmdDecr || c.id == cmdDecrBy {
		if delta == -1<<63 {
			return resp.AppendError(out, "ERR decrement would overflow")
		}
		delta = -delta
	}
	n, err := s.eng.Incr(args[1], delta)
	if err != nil {
		return appendEngineErr(out, err)
	}
	return resp.AppendInt(out, n)
}

func (s *Server) respAuth(ss *session, args [][]byte, out []byte) []byte {
	if len(args) > 2 {
		return resp.AppendError(out, "ERR syntax error")
	}
	if len(s.cfg.Secret) == 0 {
		return resp.AppendError(out, "ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?")
	}
	if !s.authAllowed(ss) {
		ss.quit = true
		return resp.AppendError(out, "ERR "+throttledText)
	}
	pass := args[len(args)-1]
	if !s.checkSecret(pass) || (len(args) == 2 && !equalFold(args[0], "DEFAULT")) {
		ss.quit = s.authFailed(ss)
		return resp.AppendError(out, "WRONGPASS invalid username-password pair or user is disabled.")
	}
	ss.authed = true
	return append(out, replyOK...)
}

// respMGet answers MGET. The client chooses the reply's size (one large
// key named many times multiplies it), so a reply that would pass MaxReply
// is refused as soon as that is known, before more is built.
func (s *Server) respMGet(ss *session, args [][]byte, out []byte) []byte {
	start := len(out)
	out = resp.AppendArrayLen(out, len(args)-1)
	sized := false
	for i, k := range args[1:] {
		if !sized && len(out)-start > mgetSizeAfter {
			// A large reply: measure the rest before building it.
			sized = true
			if !s.mgetFits(ss, len(out)-start, args[1+i:], nil) {
				ss.stats.tooLarge.Add(1)
				return appendReplyTooLarge(out[:start], s.cfg.MaxReply)
			}
		}
		v, _, ok := s.eng.Get(ss.scratch[:0], k)
		ss.scratch = v
		if len(out)-start+len(v)+16 > s.cfg.MaxReply {
			ss.stats.tooLarge.Add(1)
			return appendReplyTooLarge(out[:start], s.cfg.MaxReply)
		}
		if ok {
			ss.stats.hits.Add(1)
			out = resp.AppendBulk(out, v)
		} else {
			ss.stats.misses.Add(1)
			out = resp.AppendNull(out)
		}
	}
	return out
}

// appendReplyTooLarge is the error for a reply over Config.MaxReply.
func appendReplyTooLarge(out []byte, limit int) []byte {
	out = append(out, "-ERR reply larger than the limit of "...)
	out = strconv.AppendInt(out, int64(limit), 10)
	return append(out, " bytes (max-reply); ask for fewer or smaller keys\r\n"...)
}

// mgetSizeAfter is the reply size past which MGET measures the values it
// has left to read before copying them into the reply: a reply refused at
// MaxReply then costs reading the values once into the session's scratch
// buffer, not building (and page-faulting) MaxReply bytes of reply. Smaller
// replies are built in one pass.
const mgetSizeAfter = 1 << 20

// mgetFits reports whether a reply of size bytes so far, plus the values
// of keys (RESP) or of the packed keys in rest (binary), stays within
// MaxReply. It stops reading at the first value that passes it.
func (s *Server) mgetFits(ss *session, size int, keys [][]byte, rest []byte) bool {
	add := func(k []byte) bool {
		v, _, _ := s.eng.Get(ss.scratch[:0], k)
		ss.scratch = v
		size += len(v) + 16
		return size <= s.cfg.MaxReply
	}
	for _, k := range keys {
		if !add(k) {
			return false
		}
	}
	for {
		k, r, ok, _ := wire.NextMGetKey(rest)
		if !ok {
			return true
		}
		rest = r
		if !add(k) {
			return false
		}
	}
}
