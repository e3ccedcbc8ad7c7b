// Package bodybuf holds request bodies in memory that grows only as their
// bytes arrive, charged to a node-wide budget.
//
// What is dangerous about request bodies is the length a client declares:
// fasthttp's readers allocate a buffer of the declared Content-Length (or
// chunk size) before a byte of it has arrived, and pool it afterwards, so
// a few hundred connections that declare megabytes and send nothing take a
// process to gigabytes and keep them (red team, 1 Dec 2026: the edge went
// from 17 MB to 2 GB, a facade to 1 GB). A Buffer grows by doubling only
// when what arrived fills it, every byte of its capacity is charged to a
// Budget until Release, and only buffers of up to MaxPooled bytes (three
// size classes) return to a pool; larger ones are left to the collector.
package bodybuf

import (
	"sync"
	"sync/atomic"
)

// MaxPooled is the largest buffer kept for reuse.
const MaxPooled = 64 << 10

// classes are the pooled capacities.
var classes = [...]int{4 << 10, 16 << 10, MaxPooled}

var pools [len(classes)]sync.Pool // of *[]byte

// Budget bounds the bytes of body buffers held by all requests together.
type Budget struct {
	limit int64
	used  atomic.Int64
}

// NewBudget returns a budget of limit bytes.
func NewBudget(limit int64) *Budget { return &Budget{limit: limit} }

// Used is the capacity of the buffers held now.
func (b *Budget) Used() int64 { return b.used.Load() }

func (b *Budget) take(n int64) bool {
	if b.used.Add(n) > b.limit {
		b.used.Add(-n)
		return false
	}
	return true
}

// Buffer is one request's body. The zero value is empty; B is the body.
type Buffer struct {
	B       []byte
	box     *[]byte // B's pool entry, reused on Release; nil if not pooled
	charged int64
	budget  *Budget
}

// Grow makes room for need bytes in B (keeping its contents), doubling
// within limit (the declared length, or the largest body allowed) so that
// copying stays linear. It reports false, changing nothing, when the new
// capacity would pass the budget.
func (buf *Buffer) Grow(need, limit int, budget *Budget) bool {
	have := cap(buf.B)
	if need <= have {
		return true
	}
	n := max(need, 2*have)
	if n > limit {
		n = max(limit, need)
	}
	n = roundCap(n)
	if !budget.take(int64(n - have)) {
		return false
	}
	box, nb := get(n)
	nb = append(nb, buf.B...)
	put(buf.box, buf.B)
	buf.B, buf.box, buf.budget = nb, box, budget
	buf.charged += int64(n - have)
	return true
}

// Release gives the buffer back (to its pool when small enough) and its
// bytes back to the budget. The caller must no longer use B's old bytes.
func (buf *Buffer) Release() {
	if buf.budget != nil {
		buf.budget.used.Add(-buf.charged)
	}
	put(buf.box, buf.B)
	*buf = Buffer{}
}

// roundCap is the capacity a buffer of at least n bytes gets: a pool
// class when one fits, else n.
func roundCap(n int) int {
	for _, c := range classes {
		if n <= c {
			return c
		}
	}
	return n
}

func get(size int) (*[]byte, []byte) {
	for i, c := range classes {
		if size == c {
			if p, ok := pools[i].Get().(*[]byte); ok {
				return p, (*p)[:0]
			}
			b := make([]byte, 0, c)
			return &b, b
		}
	}
	return nil, make([]byte, 0, size)
}

func put(box *[]byte, b []byte) {
	if box == nil {
		return
	}
	for i, c := range classes {
		if cap(b) == c {
			*box = b[:0]
			pools[i].Put(box)
			return
		}
	}
}
