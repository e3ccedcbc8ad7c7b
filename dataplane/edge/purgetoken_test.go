package edge_test

import (
	"net/http"
	"net/netip"
	"testing"

	"github.com/strata-dp/strata/dataplane/edge"
)

// TestPurgeToken: outside --purge-from, the token is the only way in, on
// every purge path.
func TestPurgeToken(t *testing.T) {
	const token = "0123456789abcdef-purge"
	cfg := edge.Config{PurgeFrom: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}, PurgeToken: token}
	for _, p := range purgePaths {
		for _, tc := range []struct {
			authz string
			ok    bool
		}{
			{"Bearer " + token, true},
			{"bearer " + token, true},
			{"Bearer " + token + "x", false},
			{"Bearer " + token[:len(token)-1], false},
			{"Basic " + token, false},
			{token, false},
			{"Bearer ", false},
		} {
			t.Run(p.name+"/"+tc.authz, func(t *testing.T) {
				b, admin := purgeBed(t, cfg)
				want := http.StatusForbidden
				if tc.ok {
					want = http.StatusOK
				}
				if st := p.send(b, admin, tc.authz); st != want {
					t.Fatalf("status %d, want %d", st, want)
				}
				b.wantStored(!tc.ok)
			})
		}
	}
	if _, err := edge.New(edge.Config{Origin: "http://127.0.0.1:1", PurgeToken: "short"}, nil); err == nil {
		t.Fatal("a 5-byte purge token was accepted")
	}
}
