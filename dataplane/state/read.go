package state

// Get appends the value of key to dst. ok is false when the key is absent,
// expired or invalid. Get does not allocate when dst has room.
func (e *Engine) Get(dst, key []byte) (out []byte, m Meta, ok bool) {
	if len(key) == 0 || len(key) > e.cfg.MaxKeySize {
		return dst, m, false
	}
	h := e.hash(key)
	start := len(dst)
	// The bucket is copied after dst's contents, then the value is moved
	// down to start: no buffer besides dst is needed.
	buf, found := e.appendBucket(dst, h)
	if !found {
		return dst, m, false
	}
	r, _, found := findRecord(buf[start:], key)
	if !found || r.meta.expired(e.now()) {
		return buf[:start], m, false
	}
	if e.cfg.Policy == PolicyLRU {
		e.views[h&uint64(e.shards-1)].touch(h)
	}
	n := copy(buf[start:], r.val)
	return buf[:start+n], r.meta, true
}

// Exists reports whether key holds a live value.
func (e *Engine) Exists(scratch, key []byte) bool {
	_, _, ok := e.Get(scratch[:0], key)
	return ok
}

// Meta returns the header of key without its value.
func (e *Engine) Meta(scratch, key []byte) (Meta, bool) {
	_, m, ok := e.Get(scratch[:0], key)
	return m, ok
}

// TTL returns the milliseconds key has left, -1 when it has no expiry;
// found is false when the key is absent.
func (e *Engine) TTL(scratch, key []byte) (ms int64, found bool) {
	m, ok := e.Meta(scratch, key)
	if !ok {
		return 0, false
	}
	if m.ExpireAt == 0 {
		return -1, true
	}
	return max(m.ExpireAt-e.now(), 0), true
}

// Now is the engine's clock in unix milliseconds.
func (e *Engine) Now() int64 { return e.now() }
