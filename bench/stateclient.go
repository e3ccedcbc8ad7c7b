package bench

import (
	"context"
	"errors"
	"fmt"

	"github.com/strata-dp/strata/bench/loadgen"
	"github.com/strata-dp/strata/dataplane/state/client"
)

func init() { newStrataWorker = strataClientWorker }

// strataClientWorker gives each KVLoad worker its own client with one
// connection, as go-redis gets PoolSize 1, so both sides run the same number
// of connections and the same pipelining depth.
func strataClientWorker(addr string) func() (loadgen.KVBatch, func(), error) {
	return func() (loadgen.KVBatch, func(), error) {
		c, err := client.Dial(context.Background(), []string{addr}, client.Options{PoolSize: 1})
		if err != nil {
			return nil, nil, fmt.Errorf("dial strata state %s: %w", addr, err)
		}
		p := c.Pipeline()
		results := make([]*client.Result, 0, 64)
		batch := func(ctx context.Context, keys []string) (int, error) {
			if len(keys) == 1 {
				_, err := c.Get(ctx, []byte(keys[0]))
				if errors.Is(err, client.ErrNotFound) {
					return 1, nil
				}
				return 0, err
			}
			results = results[:0]
			for _, k := range keys {
				results = append(results, p.Get([]byte(k)))
			}
			if err := p.Exec(ctx); err != nil {
				return 0, err
			}
			misses := 0
			for _, r := range results {
				switch {
				case errors.Is(r.Err, client.ErrNotFound):
					misses++
				case r.Err != nil:
					return 0, r.Err
				}
			}
			return misses, nil
		}
		return batch, func() { _ = c.Close() }, nil
	}
}
