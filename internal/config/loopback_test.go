package config

import "testing"

func TestLoopbackAddr(t *testing.T) {
	tests := []struct {
		addr string
		want bool
	}{
		{"", true},
		{"127.0.0.1:7001", true},
		{"127.0.0.61:0", true},
		{"[::1]:9090", true},
		{"localhost:9090", true},
		{"[::ffff:127.0.0.1]:1", true},
		{"0.0.0.0:7001", false},
		{"[::]:7001", false},
		{":7001", false},
		{"198.18.0.20:7001", false},
		{"10.0.0.1:9090", false},
		{"example.com:9090", false},
		{"localhost.example.com:9090", false},
		{"127.0.0.1", false}, // no port: malformed
	}
	for _, tt := range tests {
		if got := LoopbackAddr(tt.addr); got != tt.want {
			t.Errorf("LoopbackAddr(%q) = %v, want %v", tt.addr, got, tt.want)
		}
	}
}
