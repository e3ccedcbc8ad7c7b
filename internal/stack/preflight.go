package stack

import (
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/strata-dp/strata/internal/config"
	"github.com/strata-dp/strata/internal/secret"
)

// ErrPreflight is returned when the configuration names something that is
// not there: a pool member nothing listens on, a secret file that cannot
// be read. Like ErrPortInUse it stops start-up before any process runs,
// instead of after the whole ready timeout with a 502 from the edge.
var ErrPreflight = errors.New("pre-flight check failed")

// dialTimeout bounds the probe of one pool member outside the stack; a
// loopback or LAN listener answers in well under it.
const dialTimeout = 500 * time.Millisecond

// preflight checks what the stack relies on but does not start itself.
// Pool members that are facades of this stack are not dialled: they start
// later, in their tier.
func preflight(s *config.Stack) error {
	if p := s.State.AuthSecretFile; p != "" {
		if _, err := secret.Read(p); err != nil {
			return fmt.Errorf("%w: state.auth_secret_file: %w", ErrPreflight, err)
		}
	}
	facades := map[string]bool{}
	for _, n := range s.Facades.Nodes {
		facades[n.Listen] = true
	}
	for i, svc := range s.LB.Services {
		for j, b := range svc.Backends {
			if facades[b.Addr] {
				continue
			}
			if svc.Proto != "tcp" {
				continue // nothing to dial for udp; the LB's checks tell
			}
			c, err := net.DialTimeout("tcp", b.Addr, dialTimeout)
			if err != nil {
				return fmt.Errorf("%w: lb.services[%d].backends[%d].addr: %s is no facade of this stack (facades.nodes[].listen) "+
					"and nothing listens there: %w", ErrPreflight, i, j, b.Addr, err)
			}
			_ = c.Close()
		}
	}
	return nil
}
