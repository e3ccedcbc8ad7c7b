package slot

import "testing"

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

func TestOwnerAndRangeAgree(t *testing.T) {
	for _, n := range []int{1, 2, 3, 5, 7} {
		t.Run(string(rune('0'+n)), func(t *testing.T) {
			for i := range n {
				lo, hi := Range(i, n)
				if Owner(lo, n) != i || Owner(hi, n) != i {
					t.Fatalf("n=%d node %d range %d-%d owners %d,%d", n, i, lo, hi, Owner(lo, n), Owner(hi, n))
				}
				if i == n-1 && hi != Count-1 {
					t.Fatalf("last range ends at %d", hi)
				}
			}
		})
	}
}
