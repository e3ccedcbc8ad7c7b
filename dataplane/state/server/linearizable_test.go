package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"
	"github.com/redis/go-redis/v9"

	"github.com/strata-dp/strata/dataplane/state/client"
)

// The state node must be correct first: every history of concurrent
// single-key operations it serves must be linearizable, whichever protocol
// and event loop each client uses. TestLinearizable records such a history
// against a real server over loopback (half the clients on the binary
// protocol, half on RESP through go-redis, two event loops) and checks it
// with porcupine against the sequential model below.
//
// STRATA_LINEARIZE_OPS sets the operations per client (default 300) for a
// longer run: STRATA_LINEARIZE_OPS=20000 go test -run Linearizable ./dataplane/state/server

// kvOp is one operation of the model; every value is a decimal integer so
// that INCR applies to any key.
type kvOp struct {
	kind  string // get, set, setnx, incr, del, getdel
	key   string
	value int64 // set, setnx: the value; incr: the delta
}

// kvOut is what the server answered.
type kvOut struct {
	present bool  // get, getdel: found; setnx: written; del: existed
	value   int64 // get, getdel: the value; incr: the new value
}

// kvState is one key's state in the sequential model.
type kvState struct {
	present bool
	value   int64
}

var kvModel = porcupine.Model{
	Partition: func(h []porcupine.Operation) [][]porcupine.Operation {
		byKey := map[string][]porcupine.Operation{}
		var keys []string
		for _, op := range h {
			k := op.Input.(kvOp).key
			if _, ok := byKey[k]; !ok {
				keys = append(keys, k)
			}
			byKey[k] = append(byKey[k], op)
		}
		var out [][]porcupine.Operation
		for _, k := range keys {
			out = append(out, byKey[k])
		}
		return out
	},
	Init: func() any { return kvState{} },
	Step: func(s, in, out any) (bool, any) {
		st, op, o := s.(kvState), in.(kvOp), out.(kvOut)
		switch op.kind {
		case "get":
			return o.present == st.present && (!st.present || o.value == st.value), st
		case "set":
			return true, kvState{true, op.value}
		case "setnx":
			if st.present {
				return !o.present, st
			}
			return o.present, kvState{true, op.value}
		case "incr":
			n := op.value
			if st.present {
				n += st.value
			}
			return o.value == n, kvState{true, n}
		case "del":
			return o.present == st.present, kvState{}
		case "getdel":
			return o.present == st.present && (!st.present || o.value == st.value), kvState{}
		}
		return false, st
	},
	Equal: func(a, b any) bool { return a.(kvState) == b.(kvState) },
	DescribeOperation: func(in, out any) string {
		op, o := in.(kvOp), out.(kvOut)
		return fmt.Sprintf("%s(%s,%d) -> %v,%d", op.kind, op.key, op.value, o.present, o.value)
	},
}

// kvDoer runs one operation over some protocol.
type kvDoer func(ctx context.Context, op kvOp) (kvOut, error)

func binaryDoer(c *client.Client) kvDoer {
	return func(ctx context.Context, op kvOp) (kvOut, error) {
		k := []byte(op.key)
		v := []byte(strconv.FormatInt(op.value, 10))
		switch op.kind {
		case "get", "getdel":
			get := c.Get
			if op.kind == "getdel" {
				get = c.GetDel
			}
			b, err := get(ctx, k)
			if errors.Is(err, client.ErrNotFound) {
				return kvOut{}, nil
			}
			if err != nil {
				return kvOut{}, err
			}
			n, err := strconv.ParseInt(string(b), 10, 64)
			return kvOut{true, n}, err
		case "set":
			return kvOut{}, c.Set(ctx, k, v, 0)
		case "setnx":
			ok, err := c.SetNX(ctx, k, v, 0)
			return kvOut{present: ok}, err
		case "incr":
			n, err := c.Incr(ctx, k, op.value)
			return kvOut{value: n}, err
		case "del":
			ok, err := c.Delete(ctx, k)
			return kvOut{present: ok}, err
		}
		return kvOut{}, fmt.Errorf("unknown op %q", op.kind)
	}
}

func respDoer(c *redis.Client) kvDoer {
	return func(ctx context.Context, op kvOp) (kvOut, error) {
		switch op.kind {
		case "get", "getdel":
			cmd := c.Get(ctx, op.key)
			if op.kind == "getdel" {
				cmd = c.GetDel(ctx, op.key)
			}
			n, err := cmd.Int64()
			if errors.Is(err, redis.Nil) {
				return kvOut{}, nil
			}
			return kvOut{true, n}, err
		case "set":
			return kvOut{}, c.Set(ctx, op.key, op.value, 0).Err()
		case "setnx":
			ok, err := c.SetNX(ctx, op.key, op.value, 0).Result()
			return kvOut{present: ok}, err
		case "incr":
			n, err := c.IncrBy(ctx, op.key, op.value).Result()
			return kvOut{value: n}, err
		case "del":
			n, err := c.Del(ctx, op.key).Result()
			return kvOut{present: n == 1}, err
		}
		return kvOut{}, fmt.Errorf("unknown op %q", op.kind)
	}
}

func randomOp(r *rand.Rand, keys []string) kvOp {
	kinds := []string{"get", "get", "get", "set", "set", "setnx", "incr", "incr", "del", "getdel"}
	return kvOp{kind: kinds[r.IntN(len(kinds))], key: keys[r.IntN(len(keys))], value: r.Int64N(1000)}
}

func TestLinearizable(t *testing.T) {
	perClient := 300
	if v, err := strconv.Atoi(os.Getenv("STRATA_LINEARIZE_OPS")); err == nil && v > 0 {
		perClient = v
	}
	s := startServer(t, Config{EventLoops: 2})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	const clients = 8
	keys := []string{"lin:a", "lin:b", "lin:c"}
	doers := make([]kvDoer, clients)
	var closers []io.Closer
	defer func() {
		for _, c := range closers {
			c.Close()
		}
	}()
	for i := range doers {
		if i%2 == 0 {
			c, err := client.Dial(ctx, []string{s.Addr()}, client.Options{PoolSize: 1})
			if err != nil {
				t.Fatal(err)
			}
			closers = append(closers, c)
			doers[i] = binaryDoer(c)
		} else {
			c := redis.NewClient(&redis.Options{Addr: s.RESPAddr(), PoolSize: 1, Protocol: 2})
			closers = append(closers, c)
			doers[i] = respDoer(c)
		}
	}
	start := time.Now()
	history := make([][]porcupine.Operation, clients)
	errs := make(chan error, clients)
	var wg sync.WaitGroup
	for i := range clients {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(i), uint64(time.Now().UnixNano())))
			for range perClient {
				op := randomOp(r, keys)
				call := time.Since(start).Nanoseconds()
				out, err := doers[i](ctx, op)
				ret := time.Since(start).Nanoseconds()
				if err != nil {
					errs <- fmt.Errorf("client %d %s %s: %w", i, op.kind, op.key, err)
					return
				}
				history[i] = append(history[i], porcupine.Operation{ClientId: i, Input: op, Call: call, Output: out, Return: ret})
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	var ops []porcupine.Operation
	for _, h := range history {
		ops = append(ops, h...)
	}
	res, info := porcupine.CheckOperationsVerbose(kvModel, ops, time.Minute)
	switch res {
	case porcupine.Ok:
		t.Logf("%d operations by %d clients over both protocols: linearizable", len(ops), clients)
	case porcupine.Illegal:
		path := t.TempDir() + "/history.html"
		if f, err := os.Create(path); err == nil {
			porcupine.Visualize(kvModel, info, f)
			f.Close()
		}
		t.Fatalf("the history of %d operations is not linearizable (visualization: %s)", len(ops), path)
	default:
		t.Fatalf("the checker gave up on %d operations: %v", len(ops), res)
	}
}

// TestLinearizableCheckerCatchesStaleRead feeds the model a history that a
// broken server could produce, a read of a value overwritten before the
// read began, so that TestLinearizable is known to be able to fail.
func TestLinearizableCheckerCatchesStaleRead(t *testing.T) {
	ops := []porcupine.Operation{
		{ClientId: 0, Input: kvOp{kind: "set", key: "k", value: 1}, Call: 0, Output: kvOut{}, Return: 10},
		{ClientId: 0, Input: kvOp{kind: "set", key: "k", value: 2}, Call: 20, Output: kvOut{}, Return: 30},
		{ClientId: 1, Input: kvOp{kind: "get", key: "k"}, Call: 40, Output: kvOut{true, 1}, Return: 50},
	}
	if porcupine.CheckOperations(kvModel, ops) {
		t.Fatal("a stale read passed the linearizability check")
	}
	ops[2].Output = kvOut{true, 2}
	if !porcupine.CheckOperations(kvModel, ops) {
		t.Fatal("a correct history failed the linearizability check")
	}
}
