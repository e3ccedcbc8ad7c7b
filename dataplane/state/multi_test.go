package state

import (
	"bytes"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"
)

func pairs(kv ...string) [][]byte {
	out := make([][]byte, len(kv))
	for i, s := range kv {
		out[i] = []byte(s)
	}
	return out
}

func TestSetManyIsAllOrNothingOnBadInput(t *testing.T) {
	e, _ := newTestEngine(t, Config{MaxKeySize: 16, MaxValueSize: 32})
	if err := e.SetMany(pairs("a", "1", "b", "2"), SetOptions{}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		kv   [][]byte
		want error
	}{
		{"odd", pairs("a", "x", "b"), ErrOddPairs},
		{"key too long last", pairs("a", "x", "0123456789abcdefXX", "y"), ErrKeyTooLong},
		{"empty key", pairs("a", "x", "", "y"), ErrEmptyKey},
		{"value too large", pairs("a", "x", "b", string(bytes.Repeat([]byte("v"), 33))), ErrValueTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := e.SetMany(tt.kv, SetOptions{}); !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			for k, want := range map[string]string{"a": "1", "b": "2"} {
				if v, _ := mustGet(t, e, k); v != want {
					t.Fatalf("%s = %q after a refused SetMany, want %q", k, v, want)
				}
			}
		})
	}
}

func TestSetManyWritesEveryPair(t *testing.T) {
	for _, h := range hashings {
		t.Run(h.name, func(t *testing.T) {
			e, c := newTestEngine(t, h.cfg)
			var kv []string
			for i := range 100 { // more pairs than SetMany's stack buffer
				kv = append(kv, fmt.Sprint("k", i), fmt.Sprint("v", i))
			}
			kv = append(kv, "k3", "last wins")
			if err := e.SetMany(pairs(kv...), SetOptions{ExpireAt: c.now() + 5000}); err != nil {
				t.Fatal(err)
			}
			for i := range 100 {
				want := fmt.Sprint("v", i)
				if i == 3 {
					want = "last wins"
				}
				if v, ok := mustGet(t, e, fmt.Sprint("k", i)); !ok || v != want {
					t.Fatalf("k%d = %q, %v; want %q", i, v, ok, want)
				}
			}
			if ms, ok := e.TTL(nil, []byte("k7")); !ok || ms != 5000 {
				t.Fatalf("ttl %d, %v", ms, ok)
			}
		})
	}
}

// TestSetManyWritesNothingBeforeHoldingEveryStripe holds the stripe of
// one key of an MSET, as a concurrent writer of that key would: no pair may
// be written until it is released, and then all are.
func TestSetManyWritesNothingBeforeHoldingEveryStripe(t *testing.T) {
	e, _ := newTestEngine(t, Config{Stripes: 64})
	x, y := "x", "y"
	for i := 0; e.hash([]byte(x))&e.stripeMask == e.hash([]byte(y))&e.stripeMask; i++ {
		y = fmt.Sprint("y", i)
	}
	e.SetMany(pairs(x, "old", y, "old"), SetOptions{})
	held := &e.stripes[e.hash([]byte(y))&e.stripeMask].mu
	held.Lock()
	done := make(chan error)
	go func() { done <- e.SetMany(pairs(x, "new", y, "new"), SetOptions{}) }()
	time.Sleep(50 * time.Millisecond)
	if v, _ := mustGet(t, e, x); v != "old" {
		held.Unlock()
		t.Fatalf("%s = %q while %s's stripe was held: SetMany wrote before holding every stripe", x, v, y)
	}
	held.Unlock()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{x, y} {
		if v, _ := mustGet(t, e, k); v != "new" {
			t.Fatalf("%s = %q after the release", k, v)
		}
	}
}

// TestSetManyExcludesOtherWriters runs SetMany of the same two keys with
// different values against INCR-free single SETs: with the stripes held
// together, a later whole SetMany is never mixed with an earlier one, so
// both keys always end up with values of one writer.
func TestSetManyExcludesOtherWriters(t *testing.T) {
	e, _ := newTestEngine(t, Config{Stripes: 64})
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 2000 {
				v := fmt.Sprintf("w%d-%d", w, i)
				if err := e.SetMany(pairs("x", v, "y", v, "z", v), SetOptions{}); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	x, _ := mustGet(t, e, "x")
	y, _ := mustGet(t, e, "y")
	z, _ := mustGet(t, e, "z")
	if x != y || y != z {
		t.Fatalf("interleaved SetManys: x=%q y=%q z=%q", x, y, z)
	}
}

func TestExpireConditions(t *testing.T) {
	tests := []struct {
		name    string
		ttl     int64 // current ttl ms; 0: none
		newTTL  int64
		cond    ExpireCond
		applied bool
	}{
		{"always, none", 0, 100, 0, true},
		{"NX, none", 0, 100, ExpireNX, true},
		{"NX, has ttl", 50, 100, ExpireNX, false},
		{"XX, none", 0, 100, ExpireXX, false},
		{"XX, has ttl", 50, 100, ExpireXX, true},
		{"GT, none counts as infinite", 0, 100, ExpireGT, false},
		{"GT, later", 50, 100, ExpireGT, true},
		{"GT, earlier", 500, 100, ExpireGT, false},
		{"GT, equal", 100, 100, ExpireGT, false},
		{"LT, none counts as infinite", 0, 100, ExpireLT, true},
		{"LT, earlier", 500, 100, ExpireLT, true},
		{"LT, later", 50, 100, ExpireLT, false},
		{"XX+LT, none", 0, 100, ExpireXX | ExpireLT, false},
		{"XX+GT, later", 50, 100, ExpireXX | ExpireGT, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, c := newTestEngine(t, Config{})
			k := []byte("k")
			o := SetOptions{}
			if tt.ttl != 0 {
				o.ExpireAt = c.now() + tt.ttl
			}
			e.Set(k, []byte("v"), o)
			ok, err := e.ExpireIf(k, c.now()+tt.newTTL, tt.cond)
			if err != nil || ok != tt.applied {
				t.Fatalf("ExpireIf = %v, %v; want %v", ok, err, tt.applied)
			}
			want := tt.ttl
			if tt.applied {
				want = tt.newTTL
			}
			if want == 0 {
				want = -1
			}
			if ms, _ := e.TTL(nil, k); ms != want {
				t.Fatalf("ttl = %d, want %d", ms, want)
			}
		})
	}
	e, c := newTestEngine(t, Config{})
	if ok, _ := e.ExpireIf([]byte("absent"), c.now()+10, 0); ok {
		t.Fatal("expire of an absent key applied")
	}
	for _, bad := range []ExpireCond{ExpireNX | ExpireXX, ExpireNX | ExpireGT, ExpireNX | ExpireLT, ExpireGT | ExpireLT} {
		if _, err := e.ExpireIf([]byte("k"), c.now()+10, bad); !errors.Is(err, ErrExpireCond) {
			t.Fatalf("conditions %b: err %v", bad, err)
		}
	}
	e.Set([]byte("gone"), []byte("v"), SetOptions{})
	if ok, _ := e.ExpireIf([]byte("gone"), c.now()-1, ExpireLT); !ok {
		t.Fatal("a past expiry under a holding condition did not apply")
	}
	if _, ok := mustGet(t, e, "gone"); ok {
		t.Fatal("a past expiry did not delete the key")
	}
}
