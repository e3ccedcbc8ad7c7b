package bodybuf

import (
	"bytes"
	"testing"
)

func TestGrowChargesCapacityAndRelease(t *testing.T) {
	b := NewBudget(1 << 20)
	var buf Buffer
	if !buf.Grow(100, 1<<20, b) || cap(buf.B) != 4<<10 || b.Used() != 4<<10 {
		t.Fatalf("first grow: cap %d, used %d", cap(buf.B), b.Used())
	}
	buf.B = append(buf.B, bytes.Repeat([]byte("a"), 4<<10)...)
	if !buf.Grow(4<<10+1, 1<<20, b) || cap(buf.B) != 16<<10 || b.Used() != 16<<10 {
		t.Fatalf("second grow: cap %d, used %d", cap(buf.B), b.Used())
	}
	if !bytes.Equal(buf.B, bytes.Repeat([]byte("a"), 4<<10)) {
		t.Fatal("contents lost")
	}
	// Doubling stops at the limit.
	if !buf.Grow(100<<10, 100<<10, b) || cap(buf.B) != 100<<10 || b.Used() != 100<<10 {
		t.Fatalf("grow to the limit: cap %d, used %d", cap(buf.B), b.Used())
	}
	if buf.Grow(2<<20, 4<<20, b) || b.Used() != 100<<10 {
		t.Fatalf("a grow past the budget succeeded or leaked: used %d", b.Used())
	}
	buf.Release()
	if b.Used() != 0 || buf.B != nil {
		t.Fatalf("after release: used %d", b.Used())
	}
}

func TestGrowAllocatesNothingWhenPooled(t *testing.T) {
	b := NewBudget(1 << 20)
	allocs := testing.AllocsPerRun(100, func() {
		var buf Buffer
		buf.Grow(1000, 1<<20, b)
		buf.Release()
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per pooled buffer", allocs)
	}
}
