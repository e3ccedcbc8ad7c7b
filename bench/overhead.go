package bench

import (
	"context"
	"fmt"

	"github.com/strata-dp/strata/bench/overload"
	"github.com/strata-dp/strata/facade"
	"github.com/valyala/fasthttp"
)

// ServeOverheadPair serves one half of bench/overload's overhead pair:
// "framework" (the work as a facade route, behind routing, request ids,
// priority, admission control and metrics) or "raw" (the same work as a bare
// fasthttp handler). Each runs in a process of its own, like every system
// the suite measures.
func ServeOverheadPair(ctx context.Context, kind string, addrs []string) error {
	var h fasthttp.RequestHandler
	switch kind {
	case "framework":
		fh, _, err := overload.FrameworkHandler(facade.Config{NodeID: "overhead"})
		if err != nil {
			return fmt.Errorf("overhead pair: %w", err)
		}
		h = fh
	case "raw":
		h = overload.RawHandler()
	default:
		return fmt.Errorf("overhead pair: unknown kind %q (framework or raw)", kind)
	}
	return serveAll(ctx, addrs, h)
}
