package bytesize

import "testing"

func TestParse(t *testing.T) {
	tests := []struct {
		in      string
		want    Size
		wantErr bool
	}{
		{"0", 0, false},
		{"1024", 1024, false},
		{"64MiB", 64 << 20, false},
		{"64mib", 64 << 20, false},
		{"1GiB", 1 << 30, false},
		{"1G", 1 << 30, false},
		{"1GB", 1e9, false},
		{"10KB", 10e3, false},
		{"512 KiB", 512 << 10, false},
		{"5B", 5, false},
		{"", 0, true},
		{"-1", 0, true},
		{"1.5GiB", 0, true},
		{"MiB", 0, true},
		{"12XB", 0, true},
		{"9999999999TiB", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := Parse(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("Parse(%q) error = %v, wantErr %v", tt.in, err, tt.wantErr)
			}
			if got != tt.want {
				t.Fatalf("Parse(%q) = %d, want %d", tt.in, got, tt.want)
			}
		})
	}
}

func TestStringRoundTrip(t *testing.T) {
	for _, s := range []Size{0, 1, 1000, 1 << 10, 3 << 20, 256 << 20, 1 << 30, 1<<30 + 1} {
		got, err := Parse(s.String())
		if err != nil || got != s {
			t.Fatalf("round trip of %d via %q = %d, %v", s, s.String(), got, err)
		}
	}
}
