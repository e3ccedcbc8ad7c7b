package store

import (
	"fmt"
	"strconv"
	"sync"
	"testing"
)

func TestStoreBasics(t *testing.T) {
	tests := []struct {
		name     string
		capacity int64
		ops      func(t *testing.T, s *Store[string])
	}{
		{"set get delete", 10_000, func(t *testing.T, s *Store[string]) {
			t.Helper()
			mustSet(t, s, "a", "A", 10)
			if v, ok := s.Get([]byte("a")); !ok || v != "A" {
				t.Fatalf("Get(a) = %q, %v", v, ok)
			}
			if !s.Delete("a") || s.Delete("a") {
				t.Fatal("Delete should succeed once")
			}
			if _, ok := s.Get([]byte("a")); ok {
				t.Fatal("deleted key still found")
			}
		}},
		{"replace keeps one entry", 10_000, func(t *testing.T, s *Store[string]) {
			t.Helper()
			mustSet(t, s, "a", "1", 10)
			mustSet(t, s, "a", "2", 20)
			if v, _ := s.Get([]byte("a")); v != "2" {
				t.Fatalf("Get(a) = %q", v)
			}
			if st := s.Stats(); st.Objects != 1 || st.Bytes != 20+1+EntryOverhead {
				t.Fatalf("stats = %+v", st)
			}
		}},
		{"too large refused", 1000, func(t *testing.T, s *Store[string]) {
			t.Helper()
			if err := s.Set("big", "x", 2000); err != ErrTooLarge {
				t.Fatalf("Set(big) = %v", err)
			}
		}},
		{"hard bound under churn", 20_000, func(t *testing.T, s *Store[string]) {
			t.Helper()
			for i := range 5000 {
				mustSet(t, s, strconv.Itoa(i), "v", int64(100+i%700))
				if st := s.Stats(); st.Bytes > s.Capacity() {
					t.Fatalf("bytes %d over capacity %d", st.Bytes, s.Capacity())
				}
			}
			if st := s.Stats(); st.EvictedObjects == 0 || st.EvictedBytes == 0 {
				t.Fatalf("nothing evicted: %+v", st)
			}
		}},
		{"frequent key survives a scan", 50_000, func(t *testing.T, s *Store[string]) {
			t.Helper()
			mustSet(t, s, "hot", "H", 100)
			for i := range 2000 {
				s.Get([]byte("hot"))
				mustSet(t, s, "scan"+strconv.Itoa(i), "v", 100)
			}
			if _, ok := s.Get([]byte("hot")); !ok {
				t.Fatal("a key read on every step was evicted by a one-pass scan")
			}
		}},
		{"range sees all", 100_000, func(t *testing.T, s *Store[string]) {
			t.Helper()
			for i := range 50 {
				mustSet(t, s, strconv.Itoa(i), "v", 10)
			}
			n := 0
			s.Range(func(string, string) bool { n++; return true })
			if n != 50 {
				t.Fatalf("Range saw %d", n)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.ops(t, New[string](tt.capacity))
		})
	}
}

func mustSet(t *testing.T, s *Store[string], k, v string, cost int64) {
	t.Helper()
	if err := s.Set(k, v, cost); err != nil {
		t.Fatalf("Set(%s): %v", k, err)
	}
}

func TestGetAllocs(t *testing.T) {
	s := New[*int](1 << 20)
	v := 7
	if err := s.Set("/some/key?x=1", &v, 100); err != nil {
		t.Fatal(err)
	}
	key := []byte("/some/key?x=1")
	if n := testing.AllocsPerRun(1000, func() { s.Get(key) }); n != 0 {
		t.Fatalf("Get allocates %v times", n)
	}
}

func TestConcurrent(t *testing.T) {
	s := New[int](64 << 10)
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 3000 {
				k := fmt.Sprintf("k%d", (i*7+w)%500)
				if _, ok := s.Get([]byte(k)); !ok {
					_ = s.Set(k, i, 200)
				}
				if i%97 == 0 {
					s.Delete(k)
				}
			}
		}()
	}
	wg.Wait()
	if st := s.Stats(); st.Bytes > s.Capacity() || st.Bytes < 0 {
		t.Fatalf("stats after concurrent use: %+v", st)
	}
}

func BenchmarkGet(b *testing.B) {
	s := New[int](64 << 20)
	keys := make([][]byte, 1024)
	for i := range keys {
		keys[i] = []byte("http://example.test/object/" + strconv.Itoa(i))
		_ = s.Set(string(keys[i]), i, 1024)
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			s.Get(keys[i&1023])
			i++
		}
	})
}
