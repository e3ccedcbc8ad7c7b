package xdp

import (
	"os"
	"regexp"
	"strconv"
	"testing"
)

// TestConstsMatchC keeps the Go mirrors of bpf/lib/consts.h honest.
func TestConstsMatchC(t *testing.T) {
	src, err := os.ReadFile("../../../bpf/lib/consts.h")
	if err != nil {
		t.Fatal(err)
	}
	define := func(name string) int {
		t.Helper()
		m := regexp.MustCompile(`#define ` + name + `\s+(\d+)`).FindSubmatch(src)
		if m == nil {
			t.Fatalf("%s not defined in consts.h", name)
		}
		v, _ := strconv.Atoi(string(m[1]))
		return v
	}
	// enumCount counts the members from first up to (not including) max.
	enumCount := func(first, max string) int {
		t.Helper()
		block := regexp.MustCompile(`(?s)` + first + `.*?` + max + `,`).Find(src)
		if block == nil {
			t.Fatalf("enum %s..%s not found", first, max)
		}
		return len(regexp.MustCompile(`(?m)^\s*[A-Z][A-Z0-9_]*(?: = 0)?,`).FindAll(block, -1)) - 1
	}
	tests := []struct {
		name  string
		goVal int
		cVal  int
	}{
		{"LB_MAX_SERVICES", MaxServices, define("LB_MAX_SERVICES")},
		{"LB_MAX_BACKENDS", MaxBackends, define("LB_MAX_BACKENDS")},
		{"LB_TABLE_SIZE", int(DefaultTableSize), define("LB_TABLE_SIZE")},
		{"LB_CT_SIZE", DefaultConntrack, define("LB_CT_SIZE")},
		{"LB_GENERATIONS", generations, define("LB_GENERATIONS")},
		{"LB_MAX_VLANS", maxVLANs, define("LB_MAX_VLANS")},
		{"LB_ENCAP_TTL", encapTTL, define("LB_ENCAP_TTL")},
		{"LB_VIP_FILTER_BITS", vipFilterBits, define("LB_VIP_FILTER_BITS")},
		{"pass reasons", passReasons, enumCount("LB_PASS_NOT_IP", "LB_PASS_MAX")},
		{"drop reasons", dropReasons, enumCount("LB_DROP_FRAGMENT", "LB_DROP_MAX")},
		{"decap stats", decapStats, enumCount("DECAP_V4", "DECAP_MAX")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.goVal != tt.cVal {
				t.Errorf("Go has %d, consts.h has %d", tt.goVal, tt.cVal)
			}
		})
	}
}
