package state

import (
	"bytes"
	"encoding/binary"
)

// txn is an open read-modify-write of one key's bucket, holding the key's
// stripe lock from begin to end.
type txn struct {
	e     *Engine
	s     *stripe
	key   []byte
	cur   record // the key's live record, when found
	found bool
	now   int64
}

func (e *Engine) begin(key []byte) (txn, error) {
	if err := e.checkKey(key); err != nil {
		return txn{}, err
	}
	h := e.hash(key)
	e.stripes[h&e.stripeMask].mu.Lock()
	return e.openLocked(h, key), nil
}

// openLocked opens the txn of key, whose hash is h and whose stripe the
// caller has locked.
func (e *Engine) openLocked(h uint64, key []byte) txn {
	s := &e.stripes[h&e.stripeMask]
	binary.LittleEndian.PutUint64(s.hkey[:], h)
	s.old, _ = e.appendBucket(s.old[:0], h)
	t := txn{e: e, s: s, key: key, now: e.now()}
	if r, _, ok := findRecord(s.old, key); ok && !r.meta.expired(t.now) {
		t.cur, t.found = r, true
	}
	return t
}

func (t *txn) end() { t.s.mu.Unlock() }

// others appends the bucket's other live records to the stripe's next
// buffer; expired records of other keys are dropped (and counted) on the way.
func (t *txn) others() []byte {
	next := t.s.next[:0]
	for off := 0; off < len(t.s.old); {
		r, ok := parseRecord(t.s.old[off:])
		if !ok {
			break
		}
		off += r.size
		switch {
		case bytes.Equal(r.key, t.key):
		case r.meta.expired(t.now):
			t.e.stats.expired.Add(1)
		default:
			next = append(next, t.s.old[off-r.size:off]...)
		}
	}
	return next
}

// put stores key = a||b with meta m (its version is assigned here).
func (t *txn) put(a, b []byte, m Meta) (Version, error) {
	if len(a)+len(b) > t.e.cfg.MaxValueSize {
		return Version{}, ErrValueTooLarge
	}
	seq := t.e.nextSeq()
	m.Version = Version{Epoch: t.e.cfg.Epoch, Seq: seq}
	next := t.others()
	recStart := len(next)
	next = appendRecord(next, t.key, a, m)
	next = append(next, b...)
	if len(b) > 0 {
		patchValueLen(next[recStart:], len(a)+len(b))
	}
	t.s.next = next
	if err := t.e.storeBucket(t.s, next); err != nil {
		t.e.abortSeq()
		return Version{}, err
	}
	val := next[recStart+recHeaderSize+len(t.key):]
	t.e.publish(Change{Seq: seq, Op: OpPut, Key: t.key, Value: val, Meta: m})
	return m.Version, nil
}

// del removes the key from its bucket.
func (t *txn) del() error {
	seq := t.e.nextSeq()
	next := t.others()
	t.s.next = next
	if err := t.e.storeBucket(t.s, next); err != nil {
		t.e.abortSeq()
		return err
	}
	t.e.publish(Change{Seq: seq, Op: OpDelete, Key: t.key,
		Meta: Meta{Version: Version{Epoch: t.e.cfg.Epoch, Seq: seq}}})
	return nil
}

// abortSeq releases the feed after a write that failed to store (a write
// refused for memory, most often). With a sink, every sequence number is
// taken under feedMu, so the failed write's number is given back and the
// feed stays without gaps; without one, gaps are harmless and other writers
// may already hold later numbers.
func (e *Engine) abortSeq() {
	if e.cfg.Sink != nil {
		e.seq.Add(^uint64(0))
		e.feedMu.Unlock()
	}
}
