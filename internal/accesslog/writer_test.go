package accesslog

import (
	"bytes"
	"encoding/json"
	"github.com/strata-dp/strata/internal/syncbuf"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"
)

// blockingWriter blocks every Write until release is closed, telling
// entered when the first one starts.
type blockingWriter struct {
	entered chan struct{}
	release chan struct{}
	once    sync.Once
	mu      sync.Mutex
	buf     bytes.Buffer
}

func newBlockingWriter() *blockingWriter {
	return &blockingWriter{entered: make(chan struct{}), release: make(chan struct{})}
}

func (b *blockingWriter) Write(p []byte) (int, error) {
	b.once.Do(func() { close(b.entered) })
	<-b.release
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func testEntry() *Entry {
	return &Entry{
		Time: time.Date(2026, 12, 1, 22, 0, 0, 123456789, time.UTC), Duration: 1500 * time.Microsecond,
		Client: netip.MustParseAddrPort("192.0.2.7:4242"), Method: []byte("GET"),
		Target: []byte("/api/products/1?x=\"y\"\n"), Host: []byte("example.test"),
		RequestID: []byte("req-1"), Status: 200, Bytes: 1024, Cache: "hit",
	}
}

// TestFullQueueDropsAndCounts: with the writer stuck on its output, the
// queue takes exactly QueueLen entries, then Log drops and counts without
// blocking; once the output moves, every queued entry is written.
func TestFullQueueDropsAndCounts(t *testing.T) {
	out := newBlockingWriter()
	w, err := New(out, Config{QueueLen: 64})
	if err != nil {
		t.Fatal(err)
	}
	w.Log(testEntry()) // the writer takes it and blocks flushing it
	<-out.entered
	for i := range 64 {
		if !w.Log(testEntry()) {
			t.Fatalf("entry %d dropped with room in the queue", i)
		}
	}
	start := time.Now()
	for range 1000 {
		if w.Log(testEntry()) {
			t.Fatal("a full queue accepted an entry")
		}
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("1000 drops took %v: Log blocked", d)
	}
	if got := w.Dropped(); got != 1000 {
		t.Fatalf("Dropped = %d, want 1000", got)
	}
	close(out.release)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if got := w.Written(); got != 65 {
		t.Fatalf("Written = %d, want 65", got)
	}
	lines := strings.Split(strings.TrimSuffix(out.buf.String(), "\n"), "\n")
	if len(lines) != 65 {
		t.Fatalf("%d lines written, want 65", len(lines))
	}
	if w.Log(testEntry()) || w.Dropped() != 1001 {
		t.Fatal("Log after Close was not dropped and counted")
	}
}

func TestLineIsJSON(t *testing.T) {
	var r record
	e := testEntry()
	e.Target = append([]byte("/p\x00\xff\\"), "\u00e9"...)
	r.fill(e)
	line := r.appendJSON(nil)
	var got map[string]any
	if err := json.Unmarshal(line, &got); err != nil {
		t.Fatalf("%s: %v", line, err)
	}
	want := map[string]any{
		"time": "2026-12-01T22:00:00.123456789Z", "client": "192.0.2.7:4242", "method": "GET",
		"path": "/p\x00\ufffd\\\u00e9", "host": "example.test", "status": 200.0, "bytes": 1024.0,
		"duration_ms": 1.5, "cache": "hit", "request_id": "req-1",
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %#v, want %#v", k, got[k], v)
		}
	}
	if _, ok := got["route"]; ok || len(got) != len(want) {
		t.Errorf("fields %v, want exactly %v", got, want)
	}
}

func TestTruncatedTarget(t *testing.T) {
	var r record
	e := testEntry()
	e.Target = bytes.Repeat([]byte("a"), 2*textCap)
	r.fill(e)
	var got struct {
		Path      string
		Host      string
		Truncated bool
	}
	if err := json.Unmarshal(r.appendJSON(nil), &got); err != nil {
		t.Fatal(err)
	}
	if !got.Truncated || len(got.Path) != textCap-len("GET") || got.Host != "" {
		t.Fatalf("path %d bytes, host %q, truncated %v", len(got.Path), got.Host, got.Truncated)
	}
}

func TestSample(t *testing.T) {
	if _, err := New(&bytes.Buffer{}, Config{Sample: 1.5}); err == nil {
		t.Fatal("sample 1.5 accepted")
	}
	w, err := New(&bytes.Buffer{}, Config{Sample: 0.25})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	n := 0
	for range 100000 {
		if w.Sampled() {
			n++
		}
	}
	if n < 23000 || n > 27000 {
		t.Fatalf("%d of 100000 sampled at 0.25", n)
	}
	var nilW *Writer
	if nilW.Sampled() || nilW.Dropped() != 0 || nilW.Close() != nil {
		t.Fatal("a nil Writer must log nothing")
	}
}

// TestConcurrentProducers: entries from many goroutines are each written
// once or dropped once.
func TestConcurrentProducers(t *testing.T) {
	var out syncbuf.Buffer
	w, err := New(&out, Config{QueueLen: 128})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 2000 {
				w.Log(testEntry())
			}
		})
	}
	wg.Wait()
	w.Close()
	lines := strings.Count(out.String(), "\n")
	if uint64(lines) != w.Written() || w.Written()+w.Dropped() != 16000 {
		t.Fatalf("%d lines, written %d, dropped %d, want written+dropped = 16000", lines, w.Written(), w.Dropped())
	}
}

func TestLogAllocatesNothing(t *testing.T) {
	w, err := New(discard{}, Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	e := testEntry()
	if n := testing.AllocsPerRun(1000, func() { w.Log(e) }); n != 0 {
		t.Fatalf("Log allocates %v times", n)
	}
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

// BenchmarkLog is the cost a request pays when its entry is queued:
// sampling and the copy into the ring (the writer formats on its own
// goroutine). The timer stops every 1024 entries to let the writer drain,
// so that the figure is for queued entries, not for drops.
func BenchmarkLog(b *testing.B) {
	w, err := New(discard{}, Config{QueueLen: 4096})
	if err != nil {
		b.Fatal(err)
	}
	defer w.Close()
	e := testEntry()
	b.ReportAllocs()
	for i := range b.N {
		if i%1024 == 0 {
			b.StopTimer()
			for w.Written() < uint64(i) {
				time.Sleep(10 * time.Microsecond)
			}
			b.StartTimer()
		}
		if w.Sampled() {
			w.Log(e)
		}
	}
	b.StopTimer()
	if w.Dropped() > 0 {
		b.Fatalf("%d entries dropped", w.Dropped())
	}
}

// BenchmarkLogFull is the cost of a drop: the queue is full.
func BenchmarkLogFull(b *testing.B) {
	out := newBlockingWriter()
	w, err := New(out, Config{QueueLen: 64})
	if err != nil {
		b.Fatal(err)
	}
	defer func() { close(out.release); w.Close() }()
	e := testEntry()
	w.Log(e)
	<-out.entered
	for range 64 {
		w.Log(e)
	}
	b.ReportAllocs()
	for b.Loop() {
		w.Log(e)
	}
}

// BenchmarkFormat is the writer goroutine's cost per line.
func BenchmarkFormat(b *testing.B) {
	var r record
	r.fill(testEntry())
	line := make([]byte, 0, 2*textCap)
	b.ReportAllocs()
	for b.Loop() {
		line = r.appendJSON(line[:0])
	}
}
