package wire

import "encoding/binary"

// Response extras:
//
//	GET, GETDEL          epoch u32, seq u64, ttl ms i64 (-1: none)   20 bytes
//	SET, CAS             epoch u32, seq u64 (new version; the current one on
//	                     StatusExists / StatusVersionMismatch)        12 bytes
//	INCR                 new value i64                                8 bytes
//	MGET                 value: per key, status u8, value len u32, value
const (
	GetExtrasLen     = 20
	VersionExtrasLen = 12
)

// AppendResponse appends a response frame for request id.
func AppendResponse(dst []byte, op Opcode, id uint32, st Status, extras, value []byte) []byte {
	return AppendFrame(dst, Header{Opcode: op, ID: id, Status: st}, extras, nil, value)
}

// AppendStatus appends a response with no body.
func AppendStatus(dst []byte, op Opcode, id uint32, st Status) []byte {
	return AppendHeader(dst, Header{Opcode: op, ID: id, Status: st})
}

// AppendValueResponse appends a GET-style response: version, ttl and value.
func AppendValueResponse(dst []byte, op Opcode, id uint32, epoch uint32, seq uint64, ttlMs int64, value []byte) []byte {
	dst = AppendHeader(dst, Header{Opcode: op, ID: id, ExtrasLen: GetExtrasLen, BodyLen: uint32(GetExtrasLen + len(value))})
	dst = binary.BigEndian.AppendUint32(dst, epoch)
	dst = binary.BigEndian.AppendUint64(dst, seq)
	dst = binary.BigEndian.AppendUint64(dst, uint64(ttlMs))
	return append(dst, value...)
}

// AppendVersionResponse appends a SET/CAS response carrying a version.
func AppendVersionResponse(dst []byte, op Opcode, id uint32, st Status, epoch uint32, seq uint64) []byte {
	dst = AppendHeader(dst, Header{Opcode: op, ID: id, Status: st, ExtrasLen: VersionExtrasLen, BodyLen: VersionExtrasLen})
	dst = binary.BigEndian.AppendUint32(dst, epoch)
	return binary.BigEndian.AppendUint64(dst, seq)
}

// AppendIntResponse appends an INCR response.
func AppendIntResponse(dst []byte, op Opcode, id uint32, n int64) []byte {
	dst = AppendHeader(dst, Header{Opcode: op, ID: id, ExtrasLen: 8, BodyLen: 8})
	return binary.BigEndian.AppendUint64(dst, uint64(n))
}

// AppendMGetItem appends one item of an MGET response value.
func AppendMGetItem(dst []byte, st Status, value []byte) []byte {
	dst = append(dst, byte(st))
	dst = binary.BigEndian.AppendUint32(dst, uint32(len(value)))
	return append(dst, value...)
}

// NextMGetItem splits the next item off an MGET response value.
func NextMGetItem(b []byte) (st Status, value, rest []byte, ok, bad bool) {
	if len(b) == 0 {
		return 0, nil, nil, false, false
	}
	if len(b) < 5 {
		return 0, nil, nil, false, true
	}
	n := int(binary.BigEndian.Uint32(b[1:]))
	if len(b)-5 < n {
		return 0, nil, nil, false, true
	}
	return Status(b[0]), b[5 : 5+n], b[5+n:], true, false
}

// VersionExtras reads the version from SET/CAS/GET response extras.
func VersionExtras(x []byte) (epoch uint32, seq uint64, ok bool) {
	if len(x) < VersionExtrasLen {
		return 0, 0, false
	}
	return binary.BigEndian.Uint32(x), binary.BigEndian.Uint64(x[4:]), true
}

// TTLExtras reads the ttl from GET response extras.
func TTLExtras(x []byte) (ttlMs int64, ok bool) {
	if len(x) < GetExtrasLen {
		return 0, false
	}
	return int64(binary.BigEndian.Uint64(x[12:])), true
}

// Uint64Extras reads a u64 at the start of extras.
func Uint64Extras(x []byte) (uint64, bool) {
	if len(x) < 8 {
		return 0, false
	}
	return binary.BigEndian.Uint64(x), true
}
