package server

import (
	"encoding/binary"
	"errors"
	"time"

	"github.com/strata-dp/strata/dataplane/state"
	"github.com/strata-dp/strata/dataplane/state/wire"
)

// binCmd maps opcodes to counted commands (an array: no map on the hot path).
var binCmd = func() (t [256]cmd) {
	for op, c := range map[wire.Opcode]cmd{
		wire.OpPing: cmdPing, wire.OpAuth: cmdAuth, wire.OpGet: cmdGet, wire.OpSet: cmdSet,
		wire.OpDelete: cmdDel, wire.OpCAS: cmdCAS, wire.OpIncr: cmdIncr, wire.OpExpire: cmdExpire,
		wire.OpGetDel: cmdGetDel, wire.OpMGet: cmdMGet, wire.OpMSet: cmdMSet,
	} {
		t[op] = c
	}
	return t
}()

// wireRefusal is sent to a binary client over the connection limit.
func wireRefusal() []byte {
	return wire.AppendStatus(nil, wire.OpPing, 0, wire.StatusBusy)
}

// serveBinary answers every whole frame in in. A frame that breaks framing
// gets one error response and closes the connection.
func (s *Server) serveBinary(ss *session, in, out []byte) ([]byte, int, bool) {
	pos := 0
	for pos < len(in) && len(out) < batchOutputBudget {
		maxBody := s.cfg.MaxFrame
		if !ss.authed {
			maxBody = preAuthInput
		}
		f, n, err := wire.Decode(in[pos:], maxBody)
		if err != nil {
			s.protoErrs.Add(1)
			st := wire.StatusBadRequest
			if errors.Is(err, wire.ErrFrameTooLarge) {
				st = wire.StatusTooLarge
			}
			return wire.AppendResponse(out, f.Opcode, f.ID, st, nil, []byte(err.Error())), len(in), true
		}
		if n == 0 {
			break
		}
		pos += n
		out = s.execBinary(ss, &f, out)
		if ss.quit {
			return out, pos, true
		}
	}
	return out, pos, false
}

// execBinary counts a frame's command and runs it, timing one in
// cmdSampleEvery of its kind.
func (s *Server) execBinary(ss *session, f *wire.Frame, out []byte) []byte {
	c := binCmd[f.Opcode]
	ls := ss.stats
	ls.cmds[protoBinary][c].Add(1)
	if !ls.sample(protoBinary, c) {
		return s.runBinary(ss, f, out)
	}
	start := time.Now()
	out = s.runBinary(ss, f, out)
	ls.timed(protoBinary, c, time.Since(start))
	return out
}

func (s *Server) runBinary(ss *session, f *wire.Frame, out []byte) []byte {
	if !ss.authed && f.Opcode != wire.OpAuth {
		return wire.AppendStatus(out, f.Opcode, f.ID, wire.StatusAuthRequired)
	}
	if f.Flags&wire.DurabilityMask != 0 {
		return wire.AppendStatus(out, f.Opcode, f.ID, wire.StatusUnsupported)
	}
	e := s.eng
	switch f.Opcode {
	case wire.OpPing:
		return wire.AppendResponse(out, f.Opcode, f.ID, wire.StatusOK, nil, f.Value)
	case wire.OpAuth:
		if !s.authAllowed(ss) {
			ss.quit = true
			return wire.AppendResponse(out, f.Opcode, f.ID, wire.StatusBusy, nil, throttledAnswer)
		}
		if !s.checkSecret(f.Value) {
			ss.quit = s.authFailed(ss)
			return wire.AppendStatus(out, f.Opcode, f.ID, wire.StatusAuthFailed)
		}
		ss.authed = true
		return wire.AppendStatus(out, f.Opcode, f.ID, wire.StatusOK)
	case wire.OpGet:
		v, m, ok := e.Get(ss.scratch[:0], f.Key)
		ss.scratch = v
		if !ok {
			ss.stats.misses.Add(1)
			return wire.AppendStatus(out, f.Opcode, f.ID, wire.StatusNotFound)
		}
		ss.stats.hits.Add(1)
		return wire.AppendValueResponse(out, f.Opcode, f.ID, m.Version.Epoch, m.Version.Seq, s.ttlOf(m), v)
	case wire.OpGetDel:
		v, ok, err := e.GetDel(ss.scratch[:0], f.Key)
		ss.scratch = v
		if err != nil {
			return wire.AppendStatus(out, f.Opcode, f.ID, statusOf(err))
		}
		if !ok {
			return wire.AppendStatus(out, f.Opcode, f.ID, wire.StatusNotFound)
		}
		return wire.AppendValueResponse(out, f.Opcode, f.ID, 0, 0, -1, v)
	case wire.OpSet, wire.OpCAS:
		return s.binSet(f, out)
	case wire.OpDelete:
		ok, err := e.Delete(f.Key)
		if err != nil {
			return wire.AppendStatus(out, f.Opcode, f.ID, statusOf(err))
		}
		if !ok {
			return wire.AppendStatus(out, f.Opcode, f.ID, wire.StatusNotFound)
		}
		return wire.AppendStatus(out, f.Opcode, f.ID, wire.StatusOK)
	case wire.OpIncr:
		if len(f.Extras) != 8 {
			return wire.AppendStatus(out, f.Opcode, f.ID, wire.StatusBadRequest)
		}
		n, err := e.Incr(f.Key, int64(binary.BigEndian.Uint64(f.Extras)))
		if err != nil {
			return wire.AppendStatus(out, f.Opcode, f.ID, statusOf(err))
		}
		return wire.AppendIntResponse(out, f.Opcode, f.ID, n)
	case wire.OpExpire:
		return s.binExpire(f, out)
	case wire.OpMGet:
		return s.binMGet(ss, f, out)
	case wire.OpMSet:
		return s.binMSet(ss, f, out)
	}
	return wire.AppendStatus(out, f.Opcode, f.ID, wire.StatusUnknownOpcode)
}

func (s *Server) ttlOf(m state.Meta) int64 {
	if m.ExpireAt == 0 {
		return -1
	}
	return max(m.ExpireAt-s.eng.Now(), 0)
}

func (s *Server) expireAt(ttlMs uint64) int64 {
	if ttlMs == 0 {
		return 0
	}
	return s.eng.Now() + int64(min(ttlMs, maxTTLMillis))
}

func (s *Server) binSet(f *wire.Frame, out []byte) []byte {
	want := 8
	if f.Opcode == wire.OpCAS {
		want = 20
	}
	if len(f.Extras) != want || f.Flags&(wire.FlagNX|wire.FlagXX) == wire.FlagNX|wire.FlagXX {
		return wire.AppendStatus(out, f.Opcode, f.ID, wire.StatusBadRequest)
	}
	o := state.SetOptions{ExpireAt: s.expireAt(binary.BigEndian.Uint64(f.Extras)), KeepTTL: f.Flags&wire.FlagKeepTTL != 0}
	switch {
	case f.Opcode == wire.OpCAS:
		o.Mode = state.SetIfVersion
		o.Expect = state.Version{Epoch: binary.BigEndian.Uint32(f.Extras[8:]), Seq: binary.BigEndian.Uint64(f.Extras[12:])}
	case f.Flags&wire.FlagNX != 0:
		o.Mode = state.SetIfAbsent
	case f.Flags&wire.FlagXX != 0:
		o.Mode = state.SetIfPresent
	}
	r, err := s.eng.Set(f.Key, f.Value, o)
	if err != nil {
		return wire.AppendStatus(out, f.Opcode, f.ID, statusOf(err))
	}
	st := wire.StatusOK
	if !r.Written {
		switch o.Mode {
		case state.SetIfVersion:
			st = wire.StatusVersionMismatch
		case state.SetIfPresent:
			st = wire.StatusNotFound
		default:
			st = wire.StatusExists
		}
	}
	return wire.AppendVersionResponse(out, f.Opcode, f.ID, st, r.Version.Epoch, r.Version.Seq)
}

func (s *Server) binExpire(f *wire.Frame, out []byte) []byte {
	if len(f.Extras) != 8 {
		return wire.AppendStatus(out, f.Opcode, f.ID, wire.StatusBadRequest)
	}
	ttl := int64(binary.BigEndian.Uint64(f.Extras))
	var ok bool
	var err error
	if ttl == -1 {
		_, err = s.eng.Persist(f.Key)
		if err == nil {
			ok = s.eng.Exists(nil, f.Key)
		}
	} else {
		ok, err = s.eng.Expire(f.Key, s.eng.Now()+min(ttl, maxTTLMillis))
	}
	if err != nil {
		return wire.AppendStatus(out, f.Opcode, f.ID, statusOf(err))
	}
	if !ok {
		return wire.AppendStatus(out, f.Opcode, f.ID, wire.StatusNotFound)
	}
	return wire.AppendStatus(out, f.Opcode, f.ID, wire.StatusOK)
}

func (s *Server) binMGet(ss *session, f *wire.Frame, out []byte) []byte {
	// Body length is unknown until every value is read: write the header
	// with a placeholder and patch it.
	start := len(out)
	out = wire.AppendHeader(out, wire.Header{Opcode: f.Opcode, ID: f.ID})
	body := len(out)
	rest := f.Value
	sized := false
	for {
		if !sized && len(out)-body > mgetSizeAfter {
			// A large reply: measure the rest before building it.
			sized = true
			if !s.mgetFits(ss, len(out)-body, nil, rest) {
				ss.stats.tooLarge.Add(1)
				return wire.AppendResponse(out[:start], f.Opcode, f.ID, wire.StatusTooLarge, nil, s.replyTooLarge)
			}
		}
		key, r, ok, bad := wire.NextMGetKey(rest)
		if bad {
			return wire.AppendStatus(out[:start], f.Opcode, f.ID, wire.StatusBadRequest)
		}
		if !ok {
			break
		}
		rest = r
		v, _, found := s.eng.Get(ss.scratch[:0], key)
		ss.scratch = v
		if len(out)-body+len(v)+5 > s.cfg.MaxReply {
			ss.stats.tooLarge.Add(1)
			return wire.AppendResponse(out[:start], f.Opcode, f.ID, wire.StatusTooLarge, nil, s.replyTooLarge)
		}
		if found {
			ss.stats.hits.Add(1)
			out = wire.AppendMGetItem(out, wire.StatusOK, v)
		} else {
			ss.stats.misses.Add(1)
			out = wire.AppendMGetItem(out, wire.StatusNotFound, nil)
		}
	}
	binary.BigEndian.PutUint32(out[start+16:], uint32(len(out)-body))
	return out
}

func (s *Server) binMSet(ss *session, f *wire.Frame, out []byte) []byte {
	if len(f.Extras) != 8 {
		return wire.AppendStatus(out, f.Opcode, f.ID, wire.StatusBadRequest)
	}
	o := state.SetOptions{ExpireAt: s.expireAt(binary.BigEndian.Uint64(f.Extras))}
	// The pairs alias the frame; the session's argument slice, unused by
	// binary connections otherwise, holds them.
	kv := ss.args[:0]
	rest := f.Value
	for {
		key, val, r, ok, bad := wire.NextMSetEntry(rest)
		if bad {
			return wire.AppendStatus(out, f.Opcode, f.ID, wire.StatusBadRequest)
		}
		if !ok {
			break
		}
		rest = r
		kv = append(kv, key, val)
	}
	ss.args = kv[:0]
	if err := s.eng.SetMany(kv, o); err != nil {
		return wire.AppendStatus(out, f.Opcode, f.ID, statusOf(err))
	}
	return wire.AppendStatus(out, f.Opcode, f.ID, wire.StatusOK)
}

// statusOf maps engine errors to wire statuses.
func statusOf(err error) wire.Status {
	switch {
	case errors.Is(err, state.ErrKeyTooLong), errors.Is(err, state.ErrEmptyKey):
		return wire.StatusKeyTooLong
	case errors.Is(err, state.ErrValueTooLarge):
		return wire.StatusTooLarge
	case errors.Is(err, state.ErrNotInteger):
		return wire.StatusNotInteger
	case errors.Is(err, state.ErrOverflow):
		return wire.StatusOverflow
	case errors.Is(err, state.ErrNoSpace):
		return wire.StatusNoSpace
	case errors.Is(err, state.ErrOutOfMemory):
		return wire.StatusOutOfMemory
	}
	return wire.StatusInternal
}
