package state

import (
	"errors"
	"fmt"
	"strconv"
)

// SetMode is the condition under which Set writes.
type SetMode uint8

// Set conditions.
const (
	SetAlways    SetMode = iota // write unconditionally
	SetIfAbsent                 // NX: only when the key holds no live value
	SetIfPresent                // XX: only when the key holds a live value
	SetIfVersion                // CAS: only when the current version equals Expect (zero: absent)
)

// SetOptions qualify a Set.
type SetOptions struct {
	Mode     SetMode
	Expect   Version // for SetIfVersion
	ExpireAt int64   // unix ms; 0 means no expiry
	KeepTTL  bool    // keep the current expiry (ExpireAt is ignored)
	Flags    uint8
	// ReturnOld appends the previous value to OldBuf in the result.
	ReturnOld bool
	OldBuf    []byte
}

// SetResult says what a Set did.
type SetResult struct {
	Written bool
	Existed bool    // the key held a live value before
	Version Version // the new version when written, else the current one (zero if absent)
	Old     []byte  // the previous value, when ReturnOld and Existed
}

// Set writes value under key if the mode's condition holds.
func (e *Engine) Set(key, value []byte, o SetOptions) (SetResult, error) {
	if err := e.checkPair(key, value); err != nil {
		return SetResult{}, err
	}
	if res, done := e.setInPlace(key, value, &o); done {
		return res, nil
	}
	t, err := e.begin(key)
	if err != nil {
		return SetResult{}, err
	}
	defer t.end()
	res, m, write := decideSet(t.found, t.cur, &o)
	if !write {
		return res, nil
	}
	v, err := t.put(value, nil, m)
	if err != nil {
		return res, err
	}
	res.Written, res.Version = true, v
	return res, nil
}

// decideSet applies o's condition to the key's current record: the result
// so far, the header to write, and whether to write at all.
func decideSet(found bool, cur record, o *SetOptions) (SetResult, Meta, bool) {
	res := SetResult{Existed: found}
	if found {
		res.Version = cur.meta.Version
		if o.ReturnOld {
			res.Old = append(o.OldBuf, cur.val...) //nolint:gocritic // appendAssign: Old is the caller's OldBuf with the value appended, as documented
		}
	}
	switch o.Mode {
	case SetIfAbsent:
		if found {
			return res, Meta{}, false
		}
	case SetIfPresent:
		if !found {
			return res, Meta{}, false
		}
	case SetIfVersion:
		if res.Version != o.Expect {
			return res, Meta{}, false
		}
	}
	m := Meta{ExpireAt: o.ExpireAt, Flags: o.Flags}
	if o.KeepTTL {
		m.ExpireAt = 0
		if found {
			m.ExpireAt = cur.meta.ExpireAt
		}
	}
	return res, m, true
}

// Delete removes key; it reports whether a live value was removed.
func (e *Engine) Delete(key []byte) (bool, error) {
	t, err := e.begin(key)
	if err != nil {
		return false, err
	}
	defer t.end()
	if !t.found {
		return false, nil
	}
	return true, t.del()
}

// GetDel appends the value of key to dst and deletes the key.
func (e *Engine) GetDel(dst, key []byte) ([]byte, bool, error) {
	t, err := e.begin(key)
	if err != nil {
		return dst, false, err
	}
	defer t.end()
	if !t.found {
		return dst, false, nil
	}
	dst = append(dst, t.cur.val...)
	return dst, true, t.del()
}

// Incr adds delta to the decimal integer stored under key (absent counts as
// 0) and returns the result. The expiry is kept, as in Redis.
func (e *Engine) Incr(key []byte, delta int64) (int64, error) {
	t, err := e.begin(key)
	if err != nil {
		return 0, err
	}
	defer t.end()
	var n int64
	var m Meta
	if t.found {
		var ok bool
		if n, ok = ParseInt(t.cur.val); !ok {
			return 0, ErrNotInteger
		}
		m.ExpireAt, m.Flags = t.cur.meta.ExpireAt, t.cur.meta.Flags
	}
	if (delta > 0 && n > maxInt64-delta) || (delta < 0 && n < minInt64-delta) {
		return 0, ErrOverflow
	}
	n += delta
	var buf [20]byte
	if _, err := t.put(strconv.AppendInt(buf[:0], n, 10), nil, m); err != nil {
		return 0, err
	}
	return n, nil
}

// Append appends value to the key's value (creating it) and returns the new
// length. The expiry is kept.
func (e *Engine) Append(key, value []byte) (int, error) {
	t, err := e.begin(key)
	if err != nil {
		return 0, err
	}
	defer t.end()
	var m Meta
	var cur []byte
	if t.found {
		cur, m.ExpireAt, m.Flags = t.cur.val, t.cur.meta.ExpireAt, t.cur.meta.Flags
	}
	if _, err := t.put(cur, value, m); err != nil {
		return 0, err
	}
	return len(cur) + len(value), nil
}

// ExpireCond is a set of conditions on EXPIRE, Redis 7's NX, XX, GT and LT.
// A key without an expiry counts as expiring infinitely late, as in Redis:
// GT never applies to it and LT always does.
type ExpireCond uint8

// Expire conditions; NX excludes the others, GT excludes LT.
const (
	ExpireNX ExpireCond = 1 << iota // only when the key has no expiry
	ExpireXX                        // only when it has one
	ExpireGT                        // only when the new expiry is later
	ExpireLT                        // only when the new expiry is earlier
)

// ErrExpireCond is returned for conditions that cannot hold together.
var ErrExpireCond = errors.New("state: NX excludes XX, GT and LT, and GT excludes LT")

// Valid reports whether the conditions can hold together.
func (c ExpireCond) Valid() bool {
	return !(c&ExpireNX != 0 && c&(ExpireXX|ExpireGT|ExpireLT) != 0) && c&(ExpireGT|ExpireLT) != ExpireGT|ExpireLT
}

// holds reports whether an expiry at may replace cur (0: none).
func (c ExpireCond) holds(cur, at int64) bool {
	switch {
	case c&ExpireNX != 0 && cur != 0,
		c&ExpireXX != 0 && cur == 0,
		c&ExpireGT != 0 && (cur == 0 || at <= cur),
		c&ExpireLT != 0 && cur != 0 && at >= cur:
		return false
	}
	return true
}

// Expire sets the key's expiry to at (unix ms). An expiry not in the future
// deletes the key. It reports whether the key existed.
func (e *Engine) Expire(key []byte, at int64) (bool, error) {
	return e.ExpireIf(key, at, 0)
}

// ExpireIf is Expire under the conditions c. It reports whether the expiry
// was set (or the key deleted, for an expiry not in the future): false when
// the key is absent or a condition does not hold.
func (e *Engine) ExpireIf(key []byte, at int64, c ExpireCond) (bool, error) {
	if !c.Valid() {
		return false, ErrExpireCond
	}
	t, err := e.begin(key)
	if err != nil {
		return false, err
	}
	defer t.end()
	if !t.found || !c.holds(t.cur.meta.ExpireAt, at) {
		return false, nil
	}
	if at <= t.now {
		return true, t.del()
	}
	m := t.cur.meta
	m.ExpireAt = at
	_, err = t.put(t.cur.val, nil, m)
	return true, err
}

// Persist removes the key's expiry; it reports whether there was one.
func (e *Engine) Persist(key []byte) (bool, error) {
	t, err := e.begin(key)
	if err != nil {
		return false, err
	}
	defer t.end()
	if !t.found || t.cur.meta.ExpireAt == 0 {
		return false, nil
	}
	m := t.cur.meta
	m.ExpireAt = 0
	_, err = t.put(t.cur.val, nil, m)
	return err == nil, err
}

// Flush removes every key.
func (e *Engine) Flush() error {
	seq := e.nextSeq()
	if e.views != nil {
		e.flushShards()
	} else if err := e.cache.Reset(); err != nil {
		e.abortSeq()
		return fmt.Errorf("state: flush: %w", err)
	}
	e.publish(Change{Seq: seq, Op: OpFlush, Meta: Meta{Version: Version{Epoch: e.cfg.Epoch, Seq: seq}}})
	return nil
}

const (
	maxInt64 = 1<<63 - 1
	minInt64 = -1 << 63
)

// ParseInt parses a decimal int64 the way Redis accepts integers: optional
// minus sign, no plus sign, no leading zeros, no spaces. It does not allocate.
func ParseInt(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 20 {
		return 0, false
	}
	neg := b[0] == '-'
	if neg {
		b = b[1:]
		if len(b) == 0 {
			return 0, false
		}
	}
	if len(b) > 1 && b[0] == '0' {
		return 0, false
	}
	var u uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		d := uint64(c - '0')
		if u > (1<<64-1-d)/10 {
			return 0, false
		}
		u = u*10 + d
	}
	if neg {
		if u > 1<<63 {
			return 0, false
		}
		if neg && u == 0 {
			return 0, false // "-0" is not canonical
		}
		return -int64(u), true
	}
	if u > maxInt64 {
		return 0, false
	}
	return int64(u), true
}
