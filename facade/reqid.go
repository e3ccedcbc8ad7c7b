package facade

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"sync/atomic"
)

// RequestIDHeader carries the request id in and out.
const RequestIDHeader = "X-Request-Id"

// maxRequestID bounds an incoming id; longer ones are replaced.
const maxRequestID = 64

// idSource makes request ids "<16 hex of a random boot prefix><16 hex of a
// counter>": unique across nodes and restarts with overwhelming odds, cheap
// and allocation-free.
type idSource struct {
	prefix [16]byte // hex of the random boot prefix, made once
	seq    atomic.Uint64
}

func newIDSource() *idSource {
	var b [8]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on Linux
	s := &idSource{}
	hex.Encode(s.prefix[:], b[:])
	return s
}

// next writes a new id into dst and returns its length.
func (s *idSource) next(dst *[maxRequestID]byte) int {
	copy(dst[:16], s.prefix[:])
	var n [8]byte
	binary.BigEndian.PutUint64(n[:], s.seq.Add(1))
	hex.Encode(dst[16:32], n[:])
	return 32
}

// validRequestID accepts ids of visible ASCII without separators, so that an
// id echoed into headers and logs cannot inject anything.
func validRequestID(b []byte) bool { return validToken(b, maxRequestID) }

// validToken accepts 1..max visible ASCII characters without separators.
func validToken(b []byte, max int) bool {
	if len(b) == 0 || len(b) > max {
		return false
	}
	for _, c := range b {
		if c <= ' ' || c >= 0x7f || c == ',' || c == ';' || c == '"' {
			return false
		}
	}
	return true
}
