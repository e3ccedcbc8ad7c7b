package slot

import (
	"strconv"
	"testing"
)

func TestOfMatchesRedis(t *testing.T) {
	// Expected slots from redis-cli CLUSTER KEYSLOT on Redis 7.
	tests := []struct {
		key  string
		want uint16
	}{
		{"foo", 12182},
		{"bar", 5061},
		{"hello", 866},
		{"{user1000}.following", 3443},
		{"{user1000}.followers", 3443},
		{"user1000", 3443},
		{"foo{}{bar}", 8363},
		{"foo{{bar}}zap", 4015},
		{"foo{bar}{zap}", 5061},
		{"", 0},
	}
	for _, tt := range tests {
		t.Run(tt.key, func(t *testing.T) {
			if got := Of([]byte(tt.key)); got != tt.want {
				t.Fatalf("Of(%q) = %d, want %d", tt.key, got, tt.want)
			}
		})
	}
	if got := CRC16([]byte("123456789")); got != 0x31c3 {
		t.Fatalf("CRC16 check value %#x, want 0x31c3", got)
	}
}

// Range is what the control plane shows and Owner is where clients send a
// key: they must agree on every slot, for every cluster size a stack allows.
func TestOwnerAndRangeAgree(t *testing.T) {
	for n := 1; n <= 64; n++ {
		t.Run(strconv.Itoa(n), func(t *testing.T) {
			next := 0
			for i := range n {
				lo, hi := Range(i, n)
				if int(lo) != next || hi < lo {
					t.Fatalf("node %d range %d-%d does not continue at %d", i, lo, hi, next)
				}
				for s := int(lo); s <= int(hi); s++ {
					if o := Owner(uint16(s), n); o != i {
						t.Fatalf("slot %d in node %d's range, Owner says %d", s, i, o)
					}
				}
				next = int(hi) + 1
			}
			if next != Count {
				t.Fatalf("ranges end at %d, want %d", next, Count)
			}
		})
	}
}
