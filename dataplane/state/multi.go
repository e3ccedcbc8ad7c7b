package state

import (
	"errors"
	"slices"
)

// ErrOddPairs is returned by SetMany for a key without a value.
var ErrOddPairs = errors.New("state: keys and values are not in pairs")

// SetMany writes every pair of kv (key, value, key, value, ...) with o's
// expiry and flags, as MSET does: all or nothing against bad input, and one
// write to every other writer.
//
// Every key and value is checked before anything is written, so a key too
// long or a value too large anywhere in kv leaves all keys as they were.
// The stripes of all keys are then locked together, in ascending order so
// that two SetManys cannot deadlock, and held until the last pair is
// stored: no other write (SET, INCR, CAS, another SetMany) interleaves
// with it. Readers do not take stripe locks, to keep GET at one shard read
// lock, so a GET on another event loop may see the first pairs written
// before the last ones for the microseconds the write lasts. Only o's
// ExpireAt and Flags apply; its mode is always SetAlways.
//
// A store failure past the checks (a pair that does not fit a shard) stops
// the write there and returns the error: the earlier pairs stay written.
func (e *Engine) SetMany(kv [][]byte, o SetOptions) error {
	if len(kv)%2 != 0 {
		return ErrOddPairs
	}
	var hashBuf, stripeBuf [16]uint64
	hashes, locked := hashBuf[:0], stripeBuf[:0]
	for i := 0; i < len(kv); i += 2 {
		if err := e.checkPair(kv[i], kv[i+1]); err != nil {
			return err
		}
		h := e.hash(kv[i])
		hashes = append(hashes, h)
		locked = append(locked, h&e.stripeMask)
	}
	if err := e.roomFor(kv); err != nil {
		return err
	}
	slices.Sort(locked)
	locked = slices.Compact(locked)
	for _, si := range locked {
		e.stripes[si].mu.Lock()
	}
	defer func() {
		for _, si := range locked {
			e.stripes[si].mu.Unlock()
		}
	}()
	m := Meta{ExpireAt: o.ExpireAt, Flags: o.Flags}
	for i, h := range hashes {
		t := e.openLocked(h, kv[2*i])
		if _, err := t.put(kv[2*i+1], nil, m); err != nil {
			return err
		}
	}
	return nil
}

// roomFor refuses, under PolicyNoEviction, a multi-key write whose pairs
// could not all fit in what is left under the bound, before anything is
// written. It counts every pair as new (conservative, as Redis refuses any
// MSET once over maxmemory); a single pair that does not fit its shard may
// still stop the write part-way.
func (e *Engine) roomFor(kv [][]byte) error {
	if e.cfg.Policy != PolicyNoEviction || e.views == nil {
		return nil
	}
	need := 0
	for i := 0; i < len(kv); i += 2 {
		need += neededSize(bcHeaderSize + 8 + recordSize(len(kv[i]), len(kv[i+1])))
	}
	if e.live.Load()+int64(need) > e.cfg.MemoryBytes {
		e.dropExpired()
	}
	if e.live.Load()+int64(need) > e.cfg.MemoryBytes {
		e.stats.refused.Add(1)
		return ErrOutOfMemory
	}
	return nil
}
