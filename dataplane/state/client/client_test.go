package client_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/strata-dp/strata/dataplane/state"
	"github.com/strata-dp/strata/dataplane/state/client"
	"github.com/strata-dp/strata/dataplane/state/server"
)

func startNode(t *testing.T, secret string) string {
	t.Helper()
	eng, err := state.New(state.Config{MemoryBytes: 16 << 20})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { eng.Close() })
	s, err := server.New(server.Config{Engine: eng, Listen: "127.0.0.1:0", Secret: []byte(secret), EventLoops: 1})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		s.Shutdown(ctx)
	})
	return s.Addr()
}

func dial(t *testing.T, addrs []string, o client.Options) *client.Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := client.Dial(ctx, addrs, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestClientAPI(t *testing.T) {
	c := dial(t, []string{startNode(t, "")}, client.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	k := []byte("k")
	if _, err := c.Get(ctx, k); !errors.Is(err, client.ErrNotFound) {
		t.Fatalf("get absent: %v", err)
	}
	if err := c.Set(ctx, k, []byte("v"), 0); err != nil {
		t.Fatal(err)
	}
	if v, err := c.Get(ctx, k); err != nil || string(v) != "v" {
		t.Fatalf("get = %q, %v", v, err)
	}
	if ok, err := c.SetNX(ctx, k, []byte("x"), 0); ok || err != nil {
		t.Fatalf("setnx present = %v, %v", ok, err)
	}
	if ok, err := c.SetNX(ctx, []byte("new"), []byte("x"), time.Minute); !ok || err != nil {
		t.Fatalf("setnx absent = %v, %v", ok, err)
	}
	it, err := c.GetItem(ctx, []byte("new"))
	if err != nil || it.TTL <= 0 || it.TTL > time.Minute || it.Version.Seq == 0 {
		t.Fatalf("item %+v, %v", it, err)
	}
	// CAS: a stale version fails, the current one succeeds.
	v1, _ := c.SetVersion(ctx, k, []byte("a"), 0)
	if _, err := c.CompareAndSet(ctx, k, []byte("b"), client.Version{Epoch: 1, Seq: v1.Seq - 1}, 0); !errors.Is(err, client.ErrVersionMismatch) {
		t.Fatalf("stale cas: %v", err)
	}
	if _, err := c.CompareAndSet(ctx, k, []byte("b"), v1, 0); err != nil {
		t.Fatalf("cas: %v", err)
	}
	if n, err := c.Incr(ctx, []byte("ctr"), 5); n != 5 || err != nil {
		t.Fatalf("incr = %d, %v", n, err)
	}
	if _, err := c.Incr(ctx, k, 1); !errors.Is(err, client.ErrNotInteger) {
		t.Fatalf("incr non-int: %v", err)
	}
	if ok, err := c.Delete(ctx, k); !ok || err != nil {
		t.Fatalf("delete = %v, %v", ok, err)
	}
	if ok, err := c.Delete(ctx, k); ok || err != nil {
		t.Fatalf("delete again = %v, %v", ok, err)
	}
	if ok, _ := c.Expire(ctx, []byte("new"), -1); !ok {
		t.Fatal("persist of an existing key reported absent")
	}
	if it, _ := c.GetItem(ctx, []byte("new")); it.TTL != -1 {
		t.Fatalf("ttl after persist %v", it.TTL)
	}
	if v, err := c.GetDel(ctx, []byte("new")); string(v) != "x" || err != nil {
		t.Fatalf("getdel = %q, %v", v, err)
	}
	// Too large for the frame limit: refused locally, the connection stays.
	if err := c.Set(ctx, k, make([]byte, 5<<20), 0); !errors.Is(err, client.ErrTooLarge) {
		t.Fatalf("oversized set: %v", err)
	}
	// Too large for the engine (1 MiB values): the server's status.
	if err := c.Set(ctx, k, make([]byte, 2<<20), 0); !errors.Is(err, client.ErrTooLarge) {
		t.Fatalf("value over the engine limit: %v", err)
	}
	if err := c.Ping(ctx); err != nil {
		t.Fatalf("ping after refusals: %v", err)
	}
}

func TestClientBatchesAndPipelineOverNodes(t *testing.T) {
	addrs := []string{startNode(t, ""), startNode(t, ""), startNode(t, "")}
	c := dial(t, addrs, client.Options{PoolSize: 2})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var kvs []client.KV
	var keys [][]byte
	for i := range 100 {
		k := []byte(fmt.Sprint("key-", i))
		kvs = append(kvs, client.KV{Key: k, Value: []byte(fmt.Sprint("val-", i))})
		keys = append(keys, k)
	}
	if err := c.MSet(ctx, kvs, 0); err != nil {
		t.Fatal(err)
	}
	got, err := c.MGet(ctx, append(keys, []byte("missing")))
	if err != nil {
		t.Fatal(err)
	}
	for i, kv := range kvs {
		if !bytes.Equal(got[i], kv.Value) {
			t.Fatalf("mget[%d] = %q", i, got[i])
		}
	}
	if got[100] != nil {
		t.Fatal("missing key returned a value")
	}
	// Every node got some keys: the slot ranges spread them.
	per := make([]int, len(addrs))
	for _, k := range keys {
		per[c.NodeFor(k)]++
	}
	for i, n := range per {
		if n == 0 {
			t.Fatalf("node %d owns none of 100 keys", i)
		}
	}
	// Each node stores exactly its own keys.
	for i, a := range addrs {
		single := dial(t, []string{a}, client.Options{})
		for _, k := range keys {
			_, err := single.Get(ctx, k)
			if owns := c.NodeFor(k) == i; owns != (err == nil) {
				t.Fatalf("key %s on node %d: owns=%v err=%v", k, i, owns, err)
			}
		}
	}
	p := c.Pipeline()
	r1 := p.Set([]byte("p1"), []byte("x"), 0)
	r2 := p.Get([]byte("p1"))
	r3 := p.Incr([]byte("pc"), 2)
	r4 := p.Get([]byte("nope"))
	r5 := p.Delete([]byte("p1"))
	if err := p.Exec(ctx); err != nil {
		t.Fatal(err)
	}
	if r1.Err != nil || string(r2.Value) != "x" || r3.N != 2 || !errors.Is(r4.Err, client.ErrNotFound) || r5.N != 1 {
		t.Fatalf("pipeline results %+v %+v %+v %+v %+v", r1, r2, r3, r4, r5)
	}
}

func TestClientConcurrentMultiplexing(t *testing.T) {
	c := dial(t, []string{startNode(t, "")}, client.Options{PoolSize: 2})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	for g := range 16 {
		wg.Go(func() {
			for i := range 200 {
				k := []byte(fmt.Sprint(g, ":", i))
				if err := c.Set(ctx, k, k, 0); err != nil {
					t.Error(err)
					return
				}
				v, err := c.Get(ctx, k)
				if err != nil || !bytes.Equal(v, k) {
					t.Errorf("get %s = %q, %v", k, v, err)
					return
				}
			}
		})
	}
	wg.Wait()
}

func TestClientContextAndAuth(t *testing.T) {
	addr := startNode(t, "s3cret")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := client.Dial(ctx, []string{addr}, client.Options{Secret: []byte("wrong")}); !errors.Is(err, client.ErrAuth) {
		t.Fatalf("wrong secret: %v", err)
	}
	c := dial(t, []string{addr}, client.Options{Secret: []byte("s3cret")})
	if err := c.Set(ctx, []byte("a"), []byte("b"), 0); err != nil {
		t.Fatal(err)
	}
	done, cancel2 := context.WithCancel(ctx)
	cancel2()
	if _, err := c.Get(done, []byte("a")); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled get: %v", err)
	}
	if err := c.Ping(ctx); err != nil {
		t.Fatalf("ping after a cancelled call: %v", err)
	}
	c.Close()
	if _, err := c.Get(ctx, []byte("a")); !errors.Is(err, client.ErrClosed) {
		t.Fatalf("get after close: %v", err)
	}
}

func BenchmarkClientParallel(b *testing.B) {
	eng, err := state.New(state.Config{MemoryBytes: 16 << 20})
	if err != nil {
		b.Fatal(err)
	}
	defer eng.Close()
	s, err := server.New(server.Config{Engine: eng, Listen: "127.0.0.1:0"})
	if err != nil {
		b.Fatal(err)
	}
	if err := s.Start(); err != nil {
		b.Fatal(err)
	}
	defer s.Shutdown(context.Background())
	ctx := context.Background()
	c, err := client.Dial(ctx, []string{s.Addr()}, client.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	key, val := []byte("bench-key"), bytes.Repeat([]byte("v"), 64)
	c.Set(ctx, key, val, 0)
	for _, op := range []string{"get", "set"} {
		b.Run(op, func(b *testing.B) {
			b.ReportAllocs()
			b.SetParallelism(16)
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					var err error
					if op == "get" {
						_, err = c.Get(ctx, key)
					} else {
						err = c.Set(ctx, key, val, 0)
					}
					if err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}

// TestMSetIsAllOrNothing sends one batch with a value over the engine's
// limit last: the server refuses the whole batch, so the keys before it
// keep their old values.
func TestMSetIsAllOrNothing(t *testing.T) {
	c := dial(t, []string{startNode(t, "")}, client.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.Set(ctx, []byte("a"), []byte("old"), 0); err != nil {
		t.Fatal(err)
	}
	kvs := []client.KV{{Key: []byte("a"), Value: []byte("new")}, {Key: []byte("b"), Value: make([]byte, 2<<20)}}
	if err := c.MSet(ctx, kvs, 0); !errors.Is(err, client.ErrTooLarge) {
		t.Fatalf("mset with an oversized value: %v", err)
	}
	if v, err := c.Get(ctx, []byte("a")); err != nil || string(v) != "old" {
		t.Fatalf("a = %q, %v after a refused batch; want old", v, err)
	}
}
