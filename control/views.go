package control

import (
	"github.com/strata-dp/strata/dataplane/state/slot"
	"github.com/strata-dp/strata/internal/config"
)

// ServicesView is GET /api/v1/services.
type ServicesView struct {
	// Mode is the LB mode in use, as the LB reports it (strata_lb_mode), or
	// the configured mode while the LB has not said.
	Mode       string        `json:"mode"`
	ModeSource string        `json:"mode_source"` // "lb" or "config"
	Services   []ServiceView `json:"services"`
}

// ServiceView is one virtual service.
type ServiceView struct {
	Name       string        `json:"name"`
	VIP        string        `json:"vip"`
	Proto      string        `json:"proto"`
	Scheduler  string        `json:"scheduler"`
	Forwarding string        `json:"forwarding"`
	Backends   []BackendView `json:"backends"`
}

// BackendView is one backend with its weight and health.
type BackendView struct {
	Addr   string `json:"addr"`
	Weight uint32 `json:"weight"`
	Node   string `json:"node,omitempty"`
	// Health is "healthy", "unhealthy" or "unknown" (not a process of this
	// stack, so not watched).
	Health string `json:"health"`
}

// StateView is GET /api/v1/state.
type StateView struct {
	Slots        int             `json:"slots"`
	Partitioning string          `json:"partitioning"`
	Replication  string          `json:"replication"`
	Nodes        []StateNodeView `json:"nodes"`
}

// StateNodeView is one state node and the slot ranges it is primary for.
type StateNodeView struct {
	ID         string   `json:"id"`
	Addr       string   `json:"addr"`
	RESP       string   `json:"resp,omitempty"`
	Ready      bool     `json:"ready"`
	Role       string   `json:"role"`
	Epoch      uint64   `json:"epoch"`
	SlotRanges [][2]int `json:"slot_ranges"`
	Replicas   []string `json:"replicas"`
}

// AutoscalerView is GET /api/v1/autoscaler.
type AutoscalerView struct {
	Enabled   bool       `json:"enabled"`
	Current   int        `json:"current"`
	Ready     int        `json:"ready"`
	Target    int        `json:"target"`
	Decisions []Decision `json:"decisions"`
}

// Decision is one scaling decision.
type Decision struct {
	At     string `json:"at"`
	From   int    `json:"from"`
	To     int    `json:"to"`
	Reason string `json:"reason"`
}

func (cp *Plane) servicesView() ServicesView {
	v := ServicesView{Mode: cp.cfg.Mode, ModeSource: "config"}
	if m := cp.lbMode.Load(); m != nil && *m != "" {
		v.Mode, v.ModeSource = *m, "lb"
	}
	nodeByAddr := map[string]config.FacadeNode{}
	for _, n := range cp.cfg.Facades.Nodes {
		nodeByAddr[n.Listen] = n
	}
	for _, s := range cp.cfg.LB.Services {
		sv := ServiceView{Name: s.Name, VIP: s.VIP, Proto: s.Proto, Scheduler: s.Scheduler, Forwarding: s.Forwarding}
		for _, b := range s.Backends {
			bv := BackendView{Addr: b.Addr, Weight: b.EffectiveWeight(), Health: "unknown"}
			if n, ok := nodeByAddr[b.Addr]; ok {
				bv.Node = n.ID
				if st, ok := cp.inv.Get(n.ID); ok && !st.LastCheck.IsZero() {
					bv.Health = map[bool]string{true: "healthy", false: "unhealthy"}[st.Ready]
				}
			}
			sv.Backends = append(sv.Backends, bv)
		}
		v.Services = append(v.Services, sv)
	}
	return v
}

func (cp *Plane) stateView() StateView {
	v := StateView{Slots: slot.Count,
		Partitioning: "contiguous CRC16 slot ranges, one per node, in node order",
		Replication:  "none: each node is the only copy of its slots"}
	// The ranges are the state client's (slot.Owner), so the view shows
	// where clients actually send each key.
	nodes := len(cp.cfg.State.Nodes)
	for i, n := range cp.cfg.State.Nodes {
		st, _ := cp.inv.Get(n.ID)
		first, last := slot.Range(i, nodes)
		v.Nodes = append(v.Nodes, StateNodeView{ID: n.ID, Addr: n.Listen, RESP: n.RESP, Ready: st.Ready,
			Role: "primary", Epoch: config.FirstEpoch, SlotRanges: [][2]int{{int(first), int(last)}}, Replicas: []string{}})
	}
	return v
}

func (cp *Plane) autoscalerView() AutoscalerView {
	v := AutoscalerView{Current: len(cp.cfg.Facades.Nodes), Target: len(cp.cfg.Facades.Nodes), Decisions: []Decision{}}
	for _, n := range cp.cfg.Facades.Nodes {
		if st, ok := cp.inv.Get(n.ID); ok && st.Ready {
			v.Ready++
		}
	}
	return v
}
