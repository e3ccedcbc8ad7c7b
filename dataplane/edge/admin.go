package edge

import (
	"encoding/json"
	"net/http"
	"net/netip"
)

// AdminHandler serves the purge API, to be mounted at /purge on an admin or
// metrics listener:
//
//	POST /purge?url=http://host/path?query[&soft=1]
//	POST /purge?tag=TAG[&soft=1]
//
// It answers {"purged": N, "soft": bool} as JSON, and 403 to clients
// outside Config.PurgeFrom that do not present Config.PurgeToken.
func (e *Edge) AdminHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		var ip netip.Addr
		if ap, err := netip.ParseAddrPort(r.RemoteAddr); err == nil {
			ip = ap.Addr()
		}
		if !e.purgeAuth.allows(ip, []byte(r.Header.Get("Authorization"))) {
			e.m.purgeRefused.Inc()
			http.Error(w, "purge not allowed", http.StatusForbidden)
			return
		}
		if r.Method != http.MethodPost && r.Method != "PURGE" {
			w.Header().Set("Allow", "POST, PURGE")
			http.Error(w, "use POST", http.StatusMethodNotAllowed)
			return
		}
		q := r.URL.Query()
		soft := q.Get("soft") == "1" || q.Get("soft") == "true"
		var n int
		switch {
		case q.Get("url") != "":
			var err error
			if n, err = e.Purge(q.Get("url"), soft); err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
		case q.Get("tag") != "":
			n = e.PurgeTag(q.Get("tag"), soft)
		default:
			http.Error(w, "give url= or tag=", http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(struct {
			Purged int  `json:"purged"`
			Soft   bool `json:"soft"`
		}{n, soft})
	})
}
