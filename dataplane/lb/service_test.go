package lb

import (
	"errors"
	"net/netip"
	"testing"
)

func validService() Service {
	return Service{
		Name: "web", VIP: netip.MustParseAddrPort("198.18.0.10:80"), Proto: TCP,
		Backends: []Backend{
			{Addr: netip.MustParseAddrPort("198.18.1.1:80"), Weight: 1},
			{Addr: netip.MustParseAddrPort("198.18.1.2:80"), Weight: MaxWeight},
		},
	}
}

func TestValidate(t *testing.T) {
	with := func(f func(s *Service)) Config {
		s := validService()
		f(&s)
		return Config{Services: []Service{s}}
	}
	udp := validService()
	udp.Proto = UDP
	tests := []struct {
		name string
		cfg  Config
		want error // nil: valid
	}{
		{"valid", Config{Services: []Service{validService()}}, nil},
		{"explicit maglev l2", with(func(s *Service) { s.Scheduler, s.Forwarding = Maglev, L2 }), nil},
		{"wrr ipip", with(func(s *Service) { s.Scheduler, s.Forwarding = RoundRobin, IPIP }), nil},
		{"weight 0 drains", with(func(s *Service) { s.Backends[0].Weight = 0 }), nil},
		{"IPv6", with(func(s *Service) {
			s.VIP = netip.MustParseAddrPort("[fd00::10]:443")
			s.Backends = []Backend{{Addr: netip.MustParseAddrPort("[fd00::1]:443"), Weight: 1}}
		}), nil},
		{"same VIP, other protocol", Config{Services: []Service{validService(), udp}}, nil},
		{"no services", Config{}, ErrNoServices},
		{"invalid VIP", with(func(s *Service) { s.VIP = netip.AddrPort{} }), ErrInvalidAddress},
		{"VIP port 0", with(func(s *Service) { s.VIP = netip.MustParseAddrPort("198.18.0.10:0") }), ErrInvalidAddress},
		{"duplicate VIP", Config{Services: []Service{validService(), validService()}}, ErrDuplicateVIP},
		{"bad scheduler", with(func(s *Service) { s.Scheduler = "random" }), ErrBadScheduler},
		{"bad forwarding", with(func(s *Service) { s.Forwarding = "gre" }), ErrBadForwarding},
		{"no backends", with(func(s *Service) { s.Backends = nil }), ErrNoBackends},
		{"invalid backend", with(func(s *Service) { s.Backends[0].Addr = netip.AddrPort{} }), ErrInvalidAddress},
		{"duplicate backend", with(func(s *Service) { s.Backends[1].Addr = s.Backends[0].Addr }), ErrDuplicateAddr},
		{"weight too large", with(func(s *Service) { s.Backends[0].Weight = MaxWeight + 1 }), ErrBadWeight},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.Validate()
			if tt.want == nil {
				if err != nil {
					t.Fatalf("Validate: %v, want nil", err)
				}
				return
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("Validate: %v, want %v", err, tt.want)
			}
			if !errors.Is(err, ErrConfig) {
				t.Errorf("Validate: %v does not wrap ErrConfig", err)
			}
		})
	}
}

func TestParseBackend(t *testing.T) {
	tests := []struct {
		in      string
		want    Backend
		wantErr error
	}{
		{in: "198.18.1.1:80", want: Backend{Addr: netip.MustParseAddrPort("198.18.1.1:80"), Weight: 1}},
		{in: "198.18.1.1:80=5", want: Backend{Addr: netip.MustParseAddrPort("198.18.1.1:80"), Weight: 5}},
		{in: "198.18.1.1:80=0", want: Backend{Addr: netip.MustParseAddrPort("198.18.1.1:80"), Weight: 0}},
		{in: "198.18.1.1:80=65536", want: Backend{Addr: netip.MustParseAddrPort("198.18.1.1:80"), Weight: MaxWeight}},
		{in: "[fd00::1]:443=2", want: Backend{Addr: netip.MustParseAddrPort("[fd00::1]:443"), Weight: 2}},
		{in: "", wantErr: ErrInvalidAddress},
		{in: "198.18.1.1", wantErr: ErrInvalidAddress},
		{in: "backend.example:80", wantErr: ErrInvalidAddress},
		{in: "198.18.1.1:70000", wantErr: ErrInvalidAddress},
		{in: "=3", wantErr: ErrInvalidAddress},
		{in: "198.18.1.1:80=", wantErr: ErrBadWeight},
		{in: "198.18.1.1:80=x", wantErr: ErrBadWeight},
		{in: "198.18.1.1:80=-1", wantErr: ErrBadWeight},
		{in: "198.18.1.1:80=+1", wantErr: ErrBadWeight},
		{in: "198.18.1.1:80=1.5", wantErr: ErrBadWeight},
		{in: "198.18.1.1:80=007", wantErr: ErrBadWeight},
		{in: "198.18.1.1:80=65537", wantErr: ErrBadWeight},
		{in: "198.18.1.1:80=99999999999", wantErr: ErrBadWeight},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseBackend(tt.in)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) || !errors.Is(err, ErrConfig) {
					t.Fatalf("ParseBackend(%q) = %+v, %v; want %v", tt.in, got, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseBackend(%q): %v", tt.in, err)
			}
			if got.Addr != tt.want.Addr || got.Weight != tt.want.Weight || got.MAC != nil {
				t.Errorf("ParseBackend(%q) = %+v, want %+v", tt.in, got, tt.want)
			}
		})
	}
}

func TestParseProto(t *testing.T) {
	for in, want := range map[string]Proto{"tcp": TCP, "TCP": TCP, "": TCP, "udp": UDP, "Udp": UDP} {
		if got, err := ParseProto(in); err != nil || got != want {
			t.Errorf("ParseProto(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"sctp", "6", "tcp "} {
		if _, err := ParseProto(in); !errors.Is(err, ErrBadProto) || !errors.Is(err, ErrConfig) {
			t.Errorf("ParseProto(%q): %v, want ErrBadProto", in, err)
		}
	}
	if TCP.String() != "tcp" || UDP.String() != "udp" || Proto(1).String() != "proto(1)" {
		t.Errorf("String: %s %s %s", TCP, UDP, Proto(1))
	}
}
