// Package requestid makes and checks the X-Request-Id every tier logs and
// passes on, so that one request can be followed from the edge through a
// facade to its origin calls.
//
// Ids are "<16 hex of a random boot prefix><16 hex of a counter>": unique
// across nodes and restarts with overwhelming odds, cheap and
// allocation-free. An incoming id is kept only when it is short visible
// ASCII without separators, because it is echoed into headers and logs.
package requestid

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"sync/atomic"
)

// Header carries the request id in and out.
const Header = "X-Request-Id"

// MaxLen bounds an incoming id; longer ones are replaced.
const MaxLen = 64

// Source makes request ids.
type Source struct {
	prefix [16]byte // hex of the random boot prefix, made once
	seq    atomic.Uint64
}

// NewSource returns a Source with a fresh random prefix.
func NewSource() *Source {
	var b [8]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on Linux
	s := &Source{}
	hex.Encode(s.prefix[:], b[:])
	return s
}

// Next writes a new id into dst and returns its length.
func (s *Source) Next(dst *[MaxLen]byte) int {
	copy(dst[:16], s.prefix[:])
	var n [8]byte
	binary.BigEndian.PutUint64(n[:], s.seq.Add(1))
	hex.Encode(dst[16:32], n[:])
	return 32
}

// Valid reports whether an incoming id may be kept: 1..MaxLen visible
// ASCII characters without separators.
func Valid(b []byte) bool { return ValidToken(b, MaxLen) }

// ValidToken accepts 1..max visible ASCII characters without separators.
func ValidToken(b []byte, max int) bool {
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
