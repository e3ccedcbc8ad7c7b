// Package lbfile reads the load balancer's part of a YAML configuration
// file: a list of virtual services. The shape is small on purpose (the
// stack-wide configuration will embed it under an "lb" key):
//
//	services:
//	  - name: web              # optional
//	    vip: 127.0.0.1:8000
//	    proto: tcp             # tcp (default) or udp
//	    scheduler: maglev      # maglev (default) or wrr
//	    forwarding: l2         # XDP only: l2 (default) or ipip
//	    backends:
//	      - 127.0.0.1:8101=2   # ADDR:PORT[=WEIGHT], weight 1 by default
//	      - 127.0.0.1:8102
//
// Unknown keys are errors, so a typo never silently changes nothing.
package lbfile

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"

	"go.yaml.in/yaml/v3"

	"github.com/strata-dp/strata/dataplane/lb"
)

// MaxSize bounds a configuration file.
const MaxSize = 1 << 20

// ErrTooLarge is returned for files over MaxSize.
var ErrTooLarge = errors.New("lbfile: configuration larger than 1 MiB")

type file struct {
	Services []service `yaml:"services"`
}

type service struct {
	Name       string   `yaml:"name"`
	VIP        string   `yaml:"vip"`
	Proto      string   `yaml:"proto"`
	Scheduler  string   `yaml:"scheduler"`
	Forwarding string   `yaml:"forwarding"`
	Backends   []string `yaml:"backends"`
}

// Load reads and validates a configuration file.
func Load(path string) (lb.Config, error) {
	f, err := os.Open(path)
	if err != nil {
		return lb.Config{}, fmt.Errorf("lbfile: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxSize+1))
	if err != nil {
		return lb.Config{}, fmt.Errorf("lbfile: %s: %w", path, err)
	}
	cfg, err := Parse(data)
	if err != nil {
		return lb.Config{}, fmt.Errorf("%s: %w", path, err)
	}
	return cfg, nil
}

// Parse decodes and validates a configuration.
func Parse(data []byte) (lb.Config, error) {
	if len(data) > MaxSize {
		return lb.Config{}, ErrTooLarge
	}
	var f file
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil {
		if errors.Is(err, io.EOF) {
			return lb.Config{}, fmt.Errorf("lbfile: empty document: %w", lb.ErrNoServices)
		}
		return lb.Config{}, fmt.Errorf("lbfile: %w", err)
	}
	var cfg lb.Config
	for i, s := range f.Services {
		vip, err := netip.ParseAddrPort(s.VIP)
		if err != nil {
			return lb.Config{}, fmt.Errorf("lbfile: services[%d].vip: %w", i, err)
		}
		proto, err := lb.ParseProto(s.Proto)
		if err != nil {
			return lb.Config{}, fmt.Errorf("lbfile: services[%d].proto: %w", i, err)
		}
		svc := lb.Service{Name: s.Name, VIP: vip, Proto: proto,
			Scheduler: lb.Scheduler(s.Scheduler), Forwarding: lb.Forwarding(s.Forwarding)}
		for j, b := range s.Backends {
			be, err := lb.ParseBackend(b)
			if err != nil {
				return lb.Config{}, fmt.Errorf("lbfile: services[%d].backends[%d]: %w", i, j, err)
			}
			svc.Backends = append(svc.Backends, be)
		}
		cfg.Services = append(cfg.Services, svc)
	}
	if err := cfg.Validate(); err != nil {
		return lb.Config{}, fmt.Errorf("lbfile: %w", err)
	}
	return cfg, nil
}
