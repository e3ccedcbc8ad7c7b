package wire

import "encoding/binary"

// AppendPing appends a PING whose value the server echoes.
func AppendPing(dst []byte, id uint32, payload []byte) []byte {
	return AppendFrame(dst, Header{Opcode: OpPing, ID: id}, nil, nil, payload)
}

// AppendAuth appends an AUTH carrying the shared secret.
func AppendAuth(dst []byte, id uint32, secret []byte) []byte {
	return AppendFrame(dst, Header{Opcode: OpAuth, ID: id}, nil, nil, secret)
}

// AppendGet appends a GET.
func AppendGet(dst []byte, id uint32, key []byte) []byte {
	return AppendFrame(dst, Header{Opcode: OpGet, ID: id}, nil, key, nil)
}

// AppendGetDel appends a GETDEL.
func AppendGetDel(dst []byte, id uint32, key []byte) []byte {
	return AppendFrame(dst, Header{Opcode: OpGetDel, ID: id}, nil, key, nil)
}

// AppendDelete appends a DELETE.
func AppendDelete(dst []byte, id uint32, key []byte) []byte {
	return AppendFrame(dst, Header{Opcode: OpDelete, ID: id}, nil, key, nil)
}

// AppendSet appends a SET with a ttl in ms (0: none) and flags (FlagNX, ...).
func AppendSet(dst []byte, id uint32, flags uint16, key, value []byte, ttlMs uint64) []byte {
	var x [8]byte
	binary.BigEndian.PutUint64(x[:], ttlMs)
	return AppendFrame(dst, Header{Opcode: OpSet, ID: id, Flags: flags}, x[:], key, value)
}

// AppendCAS appends a compare-and-set: the write happens only if the key's
// current version is (epoch, seq); (0, 0) means the key must be absent.
func AppendCAS(dst []byte, id uint32, key, value []byte, ttlMs uint64, epoch uint32, seq uint64) []byte {
	var x [20]byte
	binary.BigEndian.PutUint64(x[0:], ttlMs)
	binary.BigEndian.PutUint32(x[8:], epoch)
	binary.BigEndian.PutUint64(x[12:], seq)
	return AppendFrame(dst, Header{Opcode: OpCAS, ID: id}, x[:], key, value)
}

// AppendIncr appends an INCR by delta.
func AppendIncr(dst []byte, id uint32, key []byte, delta int64) []byte {
	var x [8]byte
	binary.BigEndian.PutUint64(x[:], uint64(delta))
	return AppendFrame(dst, Header{Opcode: OpIncr, ID: id}, x[:], key, nil)
}

// AppendExpire appends an EXPIRE; ttlMs -1 removes the expiry, 0 or less
// otherwise deletes the key.
func AppendExpire(dst []byte, id uint32, key []byte, ttlMs int64) []byte {
	var x [8]byte
	binary.BigEndian.PutUint64(x[:], uint64(ttlMs))
	return AppendFrame(dst, Header{Opcode: OpExpire, ID: id}, x[:], key, nil)
}

// AppendMGet appends a multi-get of keys.
func AppendMGet(dst []byte, id uint32, keys [][]byte) []byte {
	body := 0
	for _, k := range keys {
		body += 2 + len(k)
	}
	dst = AppendHeader(dst, Header{Opcode: OpMGet, ID: id, BodyLen: uint32(body)})
	for _, k := range keys {
		dst = binary.BigEndian.AppendUint16(dst, uint16(len(k)))
		dst = append(dst, k...)
	}
	return dst
}

// KV is one entry of a multi-set.
type KV struct{ Key, Value []byte }

// AppendMSet appends a multi-set of kvs, all with the same ttl.
func AppendMSet(dst []byte, id uint32, kvs []KV, ttlMs uint64) []byte {
	body := 8
	for _, kv := range kvs {
		body += 6 + len(kv.Key) + len(kv.Value)
	}
	dst = AppendHeader(dst, Header{Opcode: OpMSet, ID: id, ExtrasLen: 8, BodyLen: uint32(body)})
	dst = binary.BigEndian.AppendUint64(dst, ttlMs)
	for _, kv := range kvs {
		dst = binary.BigEndian.AppendUint16(dst, uint16(len(kv.Key)))
		dst = binary.BigEndian.AppendUint32(dst, uint32(len(kv.Value)))
		dst = append(dst, kv.Key...)
		dst = append(dst, kv.Value...)
	}
	return dst
}

// NextMGetKey splits the next key off an MGET value; ok is false at the end
// or when b is malformed (then rest is nil and bad is true).
func NextMGetKey(b []byte) (key, rest []byte, ok, bad bool) {
	if len(b) == 0 {
		return nil, nil, false, false
	}
	if len(b) < 2 {
		return nil, nil, false, true
	}
	n := int(binary.BigEndian.Uint16(b))
	if len(b)-2 < n {
		return nil, nil, false, true
	}
	return b[2 : 2+n], b[2+n:], true, false
}

// NextMSetEntry splits the next entry off an MSET value.
func NextMSetEntry(b []byte) (key, value, rest []byte, ok, bad bool) {
	if len(b) == 0 {
		return nil, nil, nil, false, false
	}
	if len(b) < 6 {
		return nil, nil, nil, false, true
	}
	kl := int(binary.BigEndian.Uint16(b))
	vl := int(binary.BigEndian.Uint32(b[2:]))
	if len(b)-6 < kl || len(b)-6-kl < vl {
		return nil, nil, nil, false, true
	}
	return b[6 : 6+kl], b[6+kl : 6+kl+vl], b[6+kl+vl:], true, false
}
