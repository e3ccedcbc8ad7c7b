package server

import (
	"context"
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// go-redis, unmodified, against the RESP listener.
func TestGoRedisClient(t *testing.T) {
	s := startServer(t, Config{Secret: []byte("pw")})
	rdb := redis.NewClient(&redis.Options{Addr: s.RESPAddr(), Password: "pw", MaxRetries: -1, DialTimeout: 2 * time.Second})
	t.Cleanup(func() { rdb.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := rdb.Ping(ctx).Err(); err != nil {
		t.Fatalf("ping: %v", err)
	}
	if err := rdb.Set(ctx, "k", "v", time.Minute).Err(); err != nil {
		t.Fatal(err)
	}
	if v, err := rdb.Get(ctx, "k").Result(); err != nil || v != "v" {
		t.Fatalf("get = %q, %v", v, err)
	}
	if _, err := rdb.Get(ctx, "absent").Result(); err != redis.Nil {
		t.Fatalf("get absent: %v", err)
	}
	if ttl, err := rdb.TTL(ctx, "k").Result(); err != nil || ttl <= 0 || ttl > time.Minute {
		t.Fatalf("ttl = %v, %v", ttl, err)
	}
	if ok, err := rdb.SetNX(ctx, "k", "x", 0).Result(); ok || err != nil {
		t.Fatalf("setnx = %v, %v", ok, err)
	}
	if n, err := rdb.IncrBy(ctx, "n", 7).Result(); n != 7 || err != nil {
		t.Fatalf("incrby = %d, %v", n, err)
	}
	if err := rdb.MSet(ctx, "a", "1", "b", "2").Err(); err != nil {
		t.Fatal(err)
	}
	vals, err := rdb.MGet(ctx, "a", "zz", "b").Result()
	if err != nil || fmt.Sprint(vals) != "[1 <nil> 2]" {
		t.Fatalf("mget = %v, %v", vals, err)
	}
	pipe := rdb.Pipeline()
	for i := range 100 {
		pipe.Set(ctx, fmt.Sprint("p", i), i, 0)
	}
	get := pipe.Get(ctx, "p99")
	if _, err := pipe.Exec(ctx); err != nil || get.Val() != "99" {
		t.Fatalf("pipeline: %v %q", err, get.Val())
	}
	keys, _, err := rdb.Scan(ctx, 0, "p9*", 1000).Result()
	if err != nil || len(keys) == 0 {
		t.Fatalf("scan: %v %v", keys, err)
	}
	if n, err := rdb.DBSize(ctx).Result(); err != nil || n != 104 {
		t.Fatalf("dbsize = %d, %v", n, err)
	}
	if _, err := rdb.Do(ctx, "LPUSH", "l", "x").Result(); err == nil || !strings.Contains(err.Error(), "unknown command") {
		t.Fatalf("unsupported command: %v", err)
	}
	if err := rdb.FlushDB(ctx).Err(); err != nil {
		t.Fatal(err)
	}
}

// redis-cli and redis-benchmark, the real binaries, against the RESP listener.
func TestRedisTools(t *testing.T) {
	if testing.Short() {
		t.Skip("runs redis-cli and redis-benchmark")
	}
	cli, err := exec.LookPath("redis-cli")
	if err != nil {
		t.Skip("redis-cli not installed")
	}
	s := startServer(t, Config{})
	host, port, _ := strings.Cut(s.RESPAddr(), ":")
	run := func(args ...string) string {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		out, err := exec.CommandContext(ctx, cli, append([]string{"-h", host, "-p", port}, args...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("redis-cli %v: %v\n%s", args, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	steps := []struct {
		args []string
		want string
	}{
		{[]string{"PING"}, "PONG"},
		{[]string{"SET", "greeting", "hello world"}, "OK"},
		{[]string{"GET", "greeting"}, "hello world"},
		{[]string{"INCR", "hits"}, "1"},
		{[]string{"EXPIRE", "hits", "100"}, "1"},
		{[]string{"DBSIZE"}, "2"},
		{[]string{"GET", "nothing"}, ""},
		{[]string{"LPUSH", "x", "y"}, "ERR unknown command 'LPUSH', with args beginning with: 'x' 'y'"},
	}
	for _, st := range steps {
		if got := run(st.args...); got != st.want {
			t.Errorf("redis-cli %v = %q, want %q", st.args, got, st.want)
		}
	}
	// Interactive start-up probes (COMMAND DOCS) are answered too.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, cli, "-h", host, "-p", port)
	cmd.Stdin = strings.NewReader("SET k v\nGET k\n")
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "v") {
		t.Fatalf("interactive redis-cli: %v\n%s", err, out)
	}
	if bench, err := exec.LookPath("redis-benchmark"); err == nil {
		out, err := exec.CommandContext(ctx, bench, "-h", host, "-p", port, "-c", "4", "-n", "2000", "-d", "64", "-t", "get,set", "-P", "4", "-q").CombinedOutput()
		if err != nil || !strings.Contains(string(out), "GET:") || !strings.Contains(string(out), "SET:") {
			t.Fatalf("redis-benchmark: %v\n%s", err, out)
		}
	}
}
