package state

// setInPlace is Set's fast path for a key that already holds a value of
// the same length (the common overwrite): the record's header and value
// are rewritten inside bigcache's queue under the key's stripe and the
// shard's write lock, with one index lookup and no copy of the bucket.
// done is false when the fast path does not apply (absent key, another
// length, a change sink that needs the ordered slow path, no peek); the
// caller then takes the general path, which re-reads everything.
func (e *Engine) setInPlace(key, value []byte, o *SetOptions) (res SetResult, done bool) {
	if e.views == nil || e.cfg.Sink != nil || o.ReturnOld {
		return res, false
	}
	h := e.hash(key)
	s := &e.stripes[h&e.stripeMask]
	s.mu.Lock()
	defer s.mu.Unlock()
	v := &e.views[h&uint64(e.shards-1)]
	v.lock.Lock()
	defer v.lock.Unlock()
	idx := (*v.hashmap)[h]
	if idx == 0 {
		return res, false
	}
	w, err := v.entries.Get(int(idx))
	if err != nil || len(w) < bcHeaderSize+8 || entryHash(w) != h {
		return res, false
	}
	bucket := w[bcHeaderSize+8:]
	r, off, ok := findRecord(bucket, key)
	if !ok || len(r.val) != len(value) {
		return res, false
	}
	found := !r.meta.expired(e.now())
	res, m, write := decideSet(found, r, o)
	if !write {
		return res, true
	}
	m.Version = Version{Epoch: e.cfg.Epoch, Seq: e.seq.Add(1)}
	putMeta(bucket[off:], m)
	if m.ExpireAt != 0 {
		v.noteExpiry(m.ExpireAt)
	}
	copy(r.val, value)
	res.Written, res.Version = true, m.Version
	return res, true
}
