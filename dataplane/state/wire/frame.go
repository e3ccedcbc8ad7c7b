package wire

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Header layout (big endian):
//
//	0  u16 magic 0x5354 ("ST")
//	2  u8  version (1)
//	3  u8  opcode
//	4  u16 flags
//	6  u16 status (responses; 0 in requests)
//	8  u32 request id, echoed in the response
//	12 u16 key length
//	14 u8  extras length
//	15 u8  reserved, 0
//	16 u32 body length = extras + key + value
const (
	HeaderSize = 20
	Magic      = 0x5354
	Version    = 1
)

// DefaultMaxBody is the default limit on a frame's body.
const DefaultMaxBody = 4 << 20

// Opcode names an operation.
type Opcode uint8

// Opcodes of version 1.
const (
	OpPing   Opcode = 0x01 // value is echoed
	OpAuth   Opcode = 0x02 // value is the shared secret
	OpGet    Opcode = 0x10
	OpSet    Opcode = 0x11 // extras: ttl ms u64 (0: none)
	OpDelete Opcode = 0x12
	OpCAS    Opcode = 0x13 // extras: ttl ms u64, expected epoch u32, expected seq u64
	OpIncr   Opcode = 0x14 // extras: delta i64
	OpExpire Opcode = 0x15 // extras: ttl ms i64 (-1: remove the expiry)
	OpGetDel Opcode = 0x16
	OpMGet   Opcode = 0x20 // value: repeated (key len u16, key)
	OpMSet   Opcode = 0x21 // extras: ttl ms u64; value: repeated (key len u16, value len u32, key, value)
)

// Request flags.
const (
	FlagNX      uint16 = 1 << 0 // SET only if absent
	FlagXX      uint16 = 1 << 1 // SET only if present
	FlagKeepTTL uint16 = 1 << 2 // SET keeps the current expiry
	// Durability bits 8-9 are reserved for replication: 0 acknowledges after
	// the primary applied the write; 1 (replicas) and 2 (persisted) are
	// refused with StatusUnsupported until replication exists.
	DurabilityMask  uint16 = 3 << 8
	DurabilityShift        = 8
)

// Status is a response's outcome.
type Status uint16

// Status codes.
const (
	StatusOK              Status = 0
	StatusNotFound        Status = 1
	StatusExists          Status = 2 // NX failed
	StatusVersionMismatch Status = 3 // CAS failed; extras carry the current version
	StatusNotInteger      Status = 4
	StatusTooLarge        Status = 5 // frame or value over the limit
	StatusKeyTooLong      Status = 6
	StatusBadRequest      Status = 7
	StatusUnknownOpcode   Status = 8
	StatusAuthRequired    Status = 9
	StatusAuthFailed      Status = 10
	StatusUnsupported     Status = 11
	StatusNoSpace         Status = 12
	StatusInternal        Status = 13
	StatusOverflow        Status = 14
	StatusBusy            Status = 15 // connection limit reached; the server closes
	StatusOutOfMemory     Status = 16 // noeviction: the write would grow live data past the memory bound
)

var statusText = [...]string{
	"ok", "not found", "exists", "version mismatch", "not an integer", "too large",
	"key too long", "bad request", "unknown opcode", "authentication required",
	"authentication failed", "unsupported", "no space", "internal error", "overflow", "busy",
	"out of memory",
}

func (s Status) String() string {
	if int(s) < len(statusText) {
		return statusText[s]
	}
	return fmt.Sprintf("status %d", uint16(s))
}

// Decoding errors. A server answers them with StatusBadRequest or
// StatusTooLarge and closes the connection: framing is lost.
var (
	ErrBadMagic      = errors.New("wire: bad magic")
	ErrBadVersion    = errors.New("wire: unsupported protocol version")
	ErrFrameTooLarge = errors.New("wire: frame larger than the limit")
	ErrBadLengths    = errors.New("wire: extras and key longer than the body")
)

// Header is a decoded frame header.
type Header struct {
	Opcode    Opcode
	Flags     uint16
	Status    Status
	ID        uint32
	KeyLen    uint16
	ExtrasLen uint8
	BodyLen   uint32
}

// Frame is one decoded frame; its slices alias the decoded buffer.
type Frame struct {
	Header
	Extras, Key, Value []byte
}

// AppendHeader appends h.
func AppendHeader(dst []byte, h Header) []byte {
	var b [HeaderSize]byte
	binary.BigEndian.PutUint16(b[0:], Magic)
	b[2] = Version
	b[3] = byte(h.Opcode)
	binary.BigEndian.PutUint16(b[4:], h.Flags)
	binary.BigEndian.PutUint16(b[6:], uint16(h.Status))
	binary.BigEndian.PutUint32(b[8:], h.ID)
	binary.BigEndian.PutUint16(b[12:], h.KeyLen)
	b[14] = h.ExtrasLen
	binary.BigEndian.PutUint32(b[16:], h.BodyLen)
	return append(dst, b[:]...)
}

// Decode decodes the frame at the start of b. It returns n == 0 and no
// error when b does not hold a whole frame yet. maxBody bounds BodyLen and
// is checked on the header alone.
func Decode(b []byte, maxBody int) (f Frame, n int, err error) {
	if len(b) < HeaderSize {
		if len(b) >= 2 && binary.BigEndian.Uint16(b) != Magic {
			return f, 0, ErrBadMagic
		}
		return f, 0, nil
	}
	if binary.BigEndian.Uint16(b) != Magic {
		return f, 0, ErrBadMagic
	}
	if b[2] != Version {
		return f, 0, ErrBadVersion
	}
	f.Opcode = Opcode(b[3])
	f.Flags = binary.BigEndian.Uint16(b[4:])
	f.Status = Status(binary.BigEndian.Uint16(b[6:]))
	f.ID = binary.BigEndian.Uint32(b[8:])
	f.KeyLen = binary.BigEndian.Uint16(b[12:])
	f.ExtrasLen = b[14]
	f.BodyLen = binary.BigEndian.Uint32(b[16:])
	if uint64(f.BodyLen) > uint64(maxBody) {
		return f, 0, fmt.Errorf("%w: %d bytes, limit %d", ErrFrameTooLarge, f.BodyLen, maxBody)
	}
	if int(f.ExtrasLen)+int(f.KeyLen) > int(f.BodyLen) {
		return f, 0, ErrBadLengths
	}
	total := HeaderSize + int(f.BodyLen)
	if len(b) < total {
		return f, 0, nil
	}
	body := b[HeaderSize:total:total]
	e, k := int(f.ExtrasLen), int(f.KeyLen)
	f.Extras, f.Key, f.Value = body[:e:e], body[e:e+k:e+k], body[e+k:]
	return f, total, nil
}

// AppendFrame appends a whole frame; ExtrasLen, KeyLen and BodyLen of h are
// computed from the parts.
func AppendFrame(dst []byte, h Header, extras, key, value []byte) []byte {
	h.ExtrasLen = uint8(len(extras))
	h.KeyLen = uint16(len(key))
	h.BodyLen = uint32(len(extras) + len(key) + len(value))
	dst = AppendHeader(dst, h)
	dst = append(dst, extras...)
	dst = append(dst, key...)
	return append(dst, value...)
}
