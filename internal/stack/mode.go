package stack

import (
	"context"
	"errors"
	"fmt"

	"github.com/strata-dp/strata/internal/config"
)

// chooseMode settles the LB mode before anything starts. userspace: the
// stack on loopback. xdp: the stack across the bed (a plan, or an error
// saying why not). auto: xdp when the host allows it, else userspace with
// the reason logged and shown in the endpoints table.
func (st *Stack) chooseMode() (*bedPlan, error) {
	cfg := st.opts.Config
	switch cfg.Mode {
	case "xdp", "auto":
	default:
		st.modeNote = "userspace"
		return nil, nil
	}
	if err := xdpAllowed(); err != nil {
		return nil, st.fallback(fmt.Errorf("xdp mode: %w", err))
	}
	plan, err := planBed(cfg)
	if err != nil {
		return nil, st.fallback(err)
	}
	if bedExists() {
		return nil, ErrBedExists
	}
	return plan, nil
}

// fallback turns an auto stack into a userspace one (returning nil), or
// returns err for an explicit --mode xdp.
func (st *Stack) fallback(err error) error {
	if st.opts.Config.Mode != "auto" {
		return err
	}
	data, merr := st.opts.Config.Marshal()
	if merr != nil {
		return merr
	}
	c, perr := config.Parse(data) // a copy: the caller's config stays as given
	if perr != nil {
		return perr
	}
	c.Mode = "userspace"
	st.opts.Config = c
	st.modeNote = "userspace (auto: " + err.Error() + ")"
	st.opts.Log.Info("lb mode auto chose userspace", "reason", err.Error())
	return nil
}

// startNet builds the bed's network for plan; in auto mode a failure falls
// back to userspace (st.net stays nil).
func (st *Stack) startNet(ctx context.Context, plan *bedPlan) error {
	n, err := upNet(ctx, plan, st.opts.Bin, st.runDir)
	if err != nil {
		if errors.Is(err, ErrBedExists) {
			return err
		}
		return st.fallback(fmt.Errorf("xdp mode: %w", err))
	}
	how := "native XDP on eth0 in " + bedNS("lb") + ", L2 direct server return"
	if st.opts.Config.Mode == "auto" {
		st.modeNote = "xdp (auto: " + how + ")"
	} else {
		st.modeNote = "xdp (" + how + ")"
	}
	st.opts.Log.Info("lb mode", "mode", "xdp", "requested", st.opts.Config.Mode, "network", BedPrefix+"-*")
	st.net = n
	st.opts.Config = plan.cfg
	return nil
}

// childrenFor lists the children of the stack, placed in the bed's
// namespaces when plan is set.
func (st *Stack) childrenFor(plan *bedPlan, files runFiles) []child {
	if plan == nil {
		return children(st.opts.Config, files)
	}
	return placeChildren(children(plan.cfg, files), plan.cfg)
}
