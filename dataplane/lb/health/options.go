package health

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"
)

// Kind is the active check to run.
type Kind string

const (
	TCP  Kind = "tcp"
	HTTP Kind = "http"
	Off  Kind = "off"
)

// Defaults of Options, which remove a dead backend well within a second;
// the flags of `strata lb` start from them too.
const (
	DefaultKind            = TCP
	DefaultInterval        = 200 * time.Millisecond
	DefaultTimeout         = 250 * time.Millisecond
	DefaultRise            = 2
	DefaultFall            = 2
	DefaultSlowStart       = 5 * time.Second
	DefaultMaxEjectedShare = 0.5
	DefaultOutliers        = 3
	DefaultOutlierEjection = 10 * time.Second
	maxEjectionMultiplier  = 10
)

// ErrBadSpec is returned by ParseSpec.
var ErrBadSpec = errors.New("health: bad check spec")

// Options configure a Checker. Zero values take the defaults, which remove
// a dead backend well within a second.
type Options struct {
	Kind Kind
	// Path is the HTTP check's request path.
	Path string
	// Interval between checks of one backend (default 200 ms).
	Interval time.Duration
	// Timeout of one check (default 250 ms).
	Timeout time.Duration
	// Rise consecutive successes bring a backend back (default 2).
	Rise int
	// Fall consecutive failures eject it (default 2).
	Fall int
	// SlowStart ramps a returning backend's weight over this long
	// (default 5 s; negative disables).
	SlowStart time.Duration
	// Outliers is how many consecutive sessions a backend may leave
	// unanswered (lb.SignalNoResponse) before it is ejected as an
	// outlier (default 3; negative disables). Only the userspace mode
	// reports such sessions.
	Outliers int
	// OutlierEjection is how long an outlier's first ejection lasts; each
	// further ejection lasts one more of it, up to 10 times, and every
	// OutlierEjection the backend then stays healthy takes one off
	// (default 10 s). After it the active checks bring the backend back.
	OutlierEjection time.Duration
	// MaxEjectedShare bounds the share of a service's backends ejected at
	// once (default 0.5; at least one backend may always be ejected).
	MaxEjectedShare float64
	Logger          *slog.Logger
}

// ParseSpec parses the --health flag: "tcp", "http:/path" or "off".
func ParseSpec(s string) (Kind, string, error) {
	switch {
	case s == "tcp":
		return TCP, "", nil
	case s == "off":
		return Off, "", nil
	case strings.HasPrefix(s, "http:/"):
		return HTTP, strings.TrimPrefix(s, "http:"), nil
	case s == "http":
		return HTTP, "/", nil
	}
	return "", "", fmt.Errorf("%w: %q (allowed: tcp, http:/PATH, off)", ErrBadSpec, s)
}

func (o Options) withDefaults() Options {
	if o.Kind == "" {
		o.Kind = DefaultKind
	}
	if o.Path == "" {
		o.Path = "/"
	}
	if o.Interval <= 0 {
		o.Interval = DefaultInterval
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.Rise <= 0 {
		o.Rise = DefaultRise
	}
	if o.Fall <= 0 {
		o.Fall = DefaultFall
	}
	if o.SlowStart == 0 {
		o.SlowStart = DefaultSlowStart
	}
	if o.Outliers == 0 {
		o.Outliers = DefaultOutliers
	}
	if o.OutlierEjection <= 0 {
		o.OutlierEjection = DefaultOutlierEjection
	}
	if o.MaxEjectedShare <= 0 || o.MaxEjectedShare > 1 {
		o.MaxEjectedShare = DefaultMaxEjectedShare
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}
