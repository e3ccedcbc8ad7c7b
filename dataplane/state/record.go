package state

import (
	"bytes"
	"encoding/binary"
)

// Version orders the writes of a key: Epoch changes when a partition changes
// hands (failover), Seq grows with every write on the node that owns it.
type Version struct {
	Epoch uint32
	Seq   uint64
}

// IsZero reports whether v is the zero version, which no stored value has.
func (v Version) IsZero() bool { return v.Epoch == 0 && v.Seq == 0 }

// Less orders versions by epoch, then sequence.
func (v Version) Less(o Version) bool {
	if v.Epoch != o.Epoch {
		return v.Epoch < o.Epoch
	}
	return v.Seq < o.Seq
}

// Meta is the header kept with every value.
type Meta struct {
	Version  Version
	ExpireAt int64 // unix milliseconds; 0 means no expiry
	Flags    uint8 // opaque to the engine; reserved for replication and clients
}

// expired reports whether the value is past its expiry at now (unix ms).
func (m Meta) expired(now int64) bool { return m.ExpireAt != 0 && m.ExpireAt <= now }

// Record layout inside a bucket (little endian): a fixed header, then the
// key, then the value.
const (
	recKeyLen   = 0  // u16 key length
	recValLen   = 2  // u32 value length
	recEpoch    = 6  // u32 version epoch
	recSeq      = 10 // u64 version sequence
	recExpireAt = 18 // i64 expiry, unix ms (0: none)
	recFlags    = 26 // u8 flags

	recHeaderSize = recFlags + 1 // the key starts here
)

// MaxKeySize is the longest key a record can describe.
const MaxKeySize = 1<<16 - 1

func recordSize(keyLen, valLen int) int { return recHeaderSize + keyLen + valLen }

// appendRecord appends one record to dst.
func appendRecord(dst, key, val []byte, m Meta) []byte {
	var h [recHeaderSize]byte
	binary.LittleEndian.PutUint16(h[recKeyLen:], uint16(len(key)))
	binary.LittleEndian.PutUint32(h[recValLen:], uint32(len(val)))
	putMeta(h[:], m)
	dst = append(dst, h[:]...)
	dst = append(dst, key...)
	return append(dst, val...)
}

// putMeta writes m into the header of the record at the start of r.
func putMeta(r []byte, m Meta) {
	binary.LittleEndian.PutUint32(r[recEpoch:], m.Version.Epoch)
	binary.LittleEndian.PutUint64(r[recSeq:], m.Version.Seq)
	binary.LittleEndian.PutUint64(r[recExpireAt:], uint64(m.ExpireAt))
	r[recFlags] = m.Flags
}

// patchValueLen rewrites the value length of the record at the start of r.
func patchValueLen(r []byte, n int) { binary.LittleEndian.PutUint32(r[recValLen:], uint32(n)) }

// record is a parsed view into a bucket; its slices alias the bucket.
type record struct {
	key, val []byte
	meta     Meta
	size     int
}

// parseRecord reads the record at the start of b. ok is false when b is
// too short to hold the record it announces (a corrupt bucket).
func parseRecord(b []byte) (r record, ok bool) {
	if len(b) < recHeaderSize {
		return r, false
	}
	kl := int(binary.LittleEndian.Uint16(b[recKeyLen:]))
	vl := int(binary.LittleEndian.Uint32(b[recValLen:]))
	if len(b)-recHeaderSize < kl+vl {
		return r, false
	}
	r.meta.Version.Epoch = binary.LittleEndian.Uint32(b[recEpoch:])
	r.meta.Version.Seq = binary.LittleEndian.Uint64(b[recSeq:])
	r.meta.ExpireAt = int64(binary.LittleEndian.Uint64(b[recExpireAt:]))
	r.meta.Flags = b[recFlags]
	r.key = b[recHeaderSize : recHeaderSize+kl]
	r.val = b[recHeaderSize+kl : recHeaderSize+kl+vl]
	r.size = recHeaderSize + kl + vl
	return r, true
}

// findRecord returns the record for key in bucket, and its offset.
func findRecord(bucket, key []byte) (record, int, bool) {
	off := 0
	for off < len(bucket) {
		r, ok := parseRecord(bucket[off:])
		if !ok {
			return record{}, 0, false
		}
		if bytes.Equal(r.key, key) {
			return r, off, true
		}
		off += r.size
	}
	return record{}, 0, false
}

// countRecords returns how many records bucket holds.
func countRecords(bucket []byte) int {
	n := 0
	for off := 0; off < len(bucket); n++ {
		r, ok := parseRecord(bucket[off:])
		if !ok {
			return n
		}
		off += r.size
	}
	return n
}
