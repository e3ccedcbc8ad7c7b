package accesslog

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"sync"
	"sync/atomic"
)

// DefaultQueueLen is the ring's size when Config.QueueLen is zero.
const DefaultQueueLen = 4096

// Config configures a Writer.
type Config struct {
	// Sample is the share of requests logged, in (0, 1]; zero means 1.
	Sample float64
	// QueueLen is how many records wait for the writer at most; it is
	// rounded up to a power of two. Zero means DefaultQueueLen.
	QueueLen int
}

// ErrSample reports a sampling rate outside (0, 1].
var ErrSample = errors.New("accesslog: sample rate must be in (0, 1]")

// cell is one slot of the ring with its sequence number (Vyukov's bounded
// queue: seq == position means free for the producer claiming position,
// seq == position+1 means filled for the consumer).
type cell struct {
	seq atomic.Uint64
	rec record
}

// Writer is a bounded multi-producer queue of access log records and the
// goroutine that writes them. The zero value is not usable; a nil
// *Writer logs nothing.
type Writer struct {
	out       *bufio.Writer
	threshold uint64 // sample when rand.Uint64() < threshold (all: MaxUint64)
	cells     []cell
	mask      uint64
	tail      atomic.Uint64 // next position to claim
	head      uint64        // next position to read; the writer's own
	sleeping  atomic.Bool
	wake      chan struct{}
	dropped   atomic.Uint64
	written   atomic.Uint64
	errs      atomic.Uint64
	closing   atomic.Bool
	closeOnce sync.Once
	done      chan struct{}
}

// New starts a Writer writing JSON lines to w. Close stops it.
func New(w io.Writer, cfg Config) (*Writer, error) {
	if cfg.Sample == 0 {
		cfg.Sample = 1
	}
	if !(cfg.Sample > 0 && cfg.Sample <= 1) {
		return nil, fmt.Errorf("%w: %v", ErrSample, cfg.Sample)
	}
	n := cfg.QueueLen
	if n <= 0 {
		n = DefaultQueueLen
	}
	size := uint64(1)
	for size < uint64(n) {
		size <<= 1
	}
	lw := &Writer{
		out:   bufio.NewWriterSize(w, 64<<10),
		cells: make([]cell, size),
		mask:  size - 1,
		wake:  make(chan struct{}, 1),
		done:  make(chan struct{}),
	}
	lw.threshold = math.MaxUint64
	if cfg.Sample < 1 {
		lw.threshold = uint64(cfg.Sample * (1 << 63) * 2)
	}
	for i := range lw.cells {
		lw.cells[i].seq.Store(uint64(i))
	}
	go lw.run()
	return lw, nil
}

// Sampled decides whether this request is logged; callers ask first so
// that unsampled requests do not even gather their fields. False for a
// nil Writer.
func (w *Writer) Sampled() bool {
	if w == nil {
		return false
	}
	return w.threshold == math.MaxUint64 || rand.Uint64() < w.threshold
}

// Log queues e and reports whether it was queued. It never blocks: when
// the ring is full (or the Writer closed) e is dropped and counted.
func (w *Writer) Log(e *Entry) bool {
	if w.closing.Load() {
		w.dropped.Add(1)
		return false
	}
	pos := w.tail.Load()
	var c *cell
	for {
		c = &w.cells[pos&w.mask]
		seq := c.seq.Load()
		switch d := int64(seq - pos); {
		case d == 0:
			if w.tail.CompareAndSwap(pos, pos+1) {
				goto claimed
			}
			pos = w.tail.Load()
		case d < 0:
			w.dropped.Add(1) // the writer has not freed this slot yet: full
			return false
		default:
			pos = w.tail.Load() // another producer claimed it
		}
	}
claimed:
	c.rec.fill(e)
	c.seq.Store(pos + 1)
	if w.sleeping.Load() {
		select {
		case w.wake <- struct{}{}:
		default:
		}
	}
	return true
}

// Dropped is how many entries were dropped because the queue was full.
func (w *Writer) Dropped() uint64 {
	if w == nil {
		return 0
	}
	return w.dropped.Load()
}

// Written is how many entries were written out.
func (w *Writer) Written() uint64 {
	if w == nil {
		return 0
	}
	return w.written.Load()
}

// WriteErrors is how many writes to the underlying writer failed.
func (w *Writer) WriteErrors() uint64 {
	if w == nil {
		return 0
	}
	return w.errs.Load()
}

// Close writes what is queued, stops the writer and flushes. Entries
// logged after Close are dropped. It does not close the underlying writer.
func (w *Writer) Close() error {
	if w == nil {
		return nil
	}
	w.closeOnce.Do(func() {
		w.closing.Store(true)
		select {
		case w.wake <- struct{}{}:
		default:
		}
	})
	<-w.done
	return nil
}

func (w *Writer) run() {
	defer close(w.done)
	line := make([]byte, 0, 2*textCap)
	for {
		if w.drain(&line) {
			continue
		}
		// Empty: flush, then sleep until a producer sees sleeping and
		// wakes us. Re-checking after setting the flag closes the race
		// with a producer that published just before.
		if w.out.Flush() != nil {
			w.errs.Add(1)
		}
		if w.closing.Load() {
			// Producers that claimed a slot before seeing closing finish
			// filling it within nanoseconds; take what they left.
			w.drain(&line)
			if w.out.Flush() != nil {
				w.errs.Add(1)
			}
			return
		}
		w.sleeping.Store(true)
		if w.ready() {
			w.sleeping.Store(false)
			continue
		}
		<-w.wake
		w.sleeping.Store(false)
	}
}

func (w *Writer) ready() bool {
	c := &w.cells[w.head&w.mask]
	return c.seq.Load() == w.head+1
}

// drain writes every filled record in order and reports whether it wrote any.
func (w *Writer) drain(line *[]byte) bool {
	any := false
	for w.ready() {
		c := &w.cells[w.head&w.mask]
		*line = c.rec.appendJSON((*line)[:0])
		c.seq.Store(w.head + w.mask + 1) // free for the producer one lap on
		w.head++
		if _, err := w.out.Write(*line); err != nil {
			w.errs.Add(1)
		}
		w.written.Add(1)
		any = true
	}
	return any
}
