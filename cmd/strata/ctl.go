package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/strata-dp/strata/control"
	"github.com/strata-dp/strata/internal/secret"
)

func init() {
	register(&command{
		name:    "ctl",
		summary: "admin client of the control plane (services, state, autoscaler, components)",
		run:     runCtl,
	})
}

var ctlViews = []string{"services", "state", "autoscaler", "components"}

func runCtl(ctx context.Context, args []string, env *environment) error {
	fs := newFlagSet("ctl", "[--control URL] [--token-file FILE] [--json] services|state|autoscaler|components", env)
	addr := fs.String("control", "http://127.0.0.1:9090", "base URL of the control plane")
	tokenFile := fs.String("token-file", "", "file holding the control plane's bearer token (its --token-file); "+
		"default: the STRATA_TOKEN environment variable, else none")
	asJSON := fs.Bool("json", false, "print the API's JSON instead of a table")
	timeout := fs.Duration("timeout", 5*time.Second, "request timeout")
	pos, err := parseFlagsAnywhere(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("want exactly one of %s", strings.Join(ctlViews, ", "))
	}
	view := pos[0]
	known := false
	for _, v := range ctlViews {
		known = known || v == view
	}
	if !known {
		return usagef("unknown view %q (want one of %s)", view, strings.Join(ctlViews, ", "))
	}
	token := []byte(strings.TrimSpace(os.Getenv("STRATA_TOKEN")))
	if *tokenFile != "" {
		var err error
		if token, err = secret.Read(*tokenFile); err != nil {
			return usagef("--token-file: %v", err)
		}
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	body, err := ctlGet(ctx, strings.TrimRight(*addr, "/")+"/api/v1/"+view, token)
	if err != nil {
		return err
	}
	if *asJSON {
		_, err = env.stdout.Write(body)
		return err
	}
	return printCtlView(env.stdout, view, body, time.Now())
}

func ctlGet(ctx context.Context, url string, token []byte) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	if len(token) > 0 {
		req.Header.Set("Authorization", "Bearer "+string(token))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("control plane unreachable: %w", err)
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return nil, err
	}
	switch {
	case resp.StatusCode == http.StatusUnauthorized && len(token) == 0:
		return nil, fmt.Errorf("%s: %s: the control plane wants a token (--token-file FILE or STRATA_TOKEN)", url, resp.Status)
	case resp.StatusCode == http.StatusUnauthorized:
		return nil, fmt.Errorf("%s: %s: the control plane refused the token", url, resp.Status)
	case resp.StatusCode != http.StatusOK:
		return nil, fmt.Errorf("%s: %s", url, resp.Status)
	}
	return body, nil
}

// printCtlView prints a view as a table; times are relative to now ("3m
// ago"), as the raw RFC 3339 stays in --json.
func printCtlView(out io.Writer, view string, body []byte, now time.Time) (err error) {
	w := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	defer func() {
		if ferr := w.Flush(); err == nil {
			err = ferr
		}
	}()
	switch view {
	case "services":
		var v control.ServicesView
		if err := json.Unmarshal(body, &v); err != nil {
			return err
		}
		fmt.Fprintf(w, "LB mode: %s (%s)\n", v.Mode, v.ModeSource)
		fmt.Fprintln(w, "SERVICE\tVIP\tSCHEDULER\tBACKEND\tNODE\tWEIGHT\tHEALTH")
		for _, s := range v.Services {
			for _, b := range s.Backends {
				fmt.Fprintf(w, "%s\t%s/%s\t%s\t%s\t%s\t%d\t%s\n", s.Name, s.Proto, s.VIP, s.Scheduler, b.Addr, b.Node, b.Weight, b.Health)
			}
		}
	case "state":
		var v control.StateView
		if err := json.Unmarshal(body, &v); err != nil {
			return err
		}
		fmt.Fprintf(w, "%d slots; %s; replication: %s\n", v.Slots, v.Partitioning, v.Replication)
		fmt.Fprintln(w, "NODE\tADDRESS\tRESP\tROLE\tEPOCH\tSLOTS\tREADY")
		for _, n := range v.Nodes {
			var rs []string
			for _, r := range n.SlotRanges {
				rs = append(rs, fmt.Sprintf("%d-%d", r[0], r[1]))
			}
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%d\t%s\t%v\n", n.ID, n.Addr, n.RESP, n.Role, n.Epoch, strings.Join(rs, ","), n.Ready)
		}
	case "autoscaler":
		var v control.AutoscalerView
		if err := json.Unmarshal(body, &v); err != nil {
			return err
		}
		fmt.Fprintf(w, "enabled: %v\ncurrent: %d\nready: %d\ntarget: %d\ndecisions: %d\n", v.Enabled, v.Current, v.Ready, v.Target, len(v.Decisions))
		for _, d := range v.Decisions {
			at := d.At
			if t, err := time.Parse(time.RFC3339Nano, d.At); err == nil {
				at = ago(now, t)
			}
			fmt.Fprintf(w, "  %s\t%d -> %d\t%s\n", at, d.From, d.To, d.Reason)
		}
	case "components":
		var v []control.Status
		if err := json.Unmarshal(body, &v); err != nil {
			return err
		}
		fmt.Fprintln(w, "NAME\tTIER\tREADY\tSINCE\tCHECKED\tRESTARTS\tLAST EXIT\tERROR")
		for _, s := range v {
			lastExit := "-"
			if s.LastExit != "" {
				lastExit = s.LastExit
				if s.LastRestart != nil {
					lastExit += " (restarted " + ago(now, *s.LastRestart) + ")"
				}
			}
			fmt.Fprintf(w, "%s\t%s\t%v\t%s\t%s\t%d\t%s\t%s\n", s.Name, s.Tier, s.Ready, ago(now, s.Since), ago(now, s.LastCheck),
				s.Restarts, lastExit, s.Error)
		}
	}
	return nil
}

// ago prints t relative to now at a precision a reader needs: "4s ago",
// "3m ago", "2h5m ago", "3d ago"; "never" for the zero time.
func ago(now, t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	d := now.Sub(t)
	if d < 0 {
		return "just now" // the control plane's clock is ahead of ours
	}
	switch {
	case d < time.Second:
		return "just now"
	case d < time.Minute:
		return fmt.Sprintf("%ds ago", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm ago", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh%dm ago", int(d.Hours()), int(d.Minutes())%60)
	}
	return fmt.Sprintf("%dd ago", int(d.Hours()/24))
}
