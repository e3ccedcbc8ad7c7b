package origin

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"
)

// ErrBadDist is returned for a latency distribution that does not parse.
var ErrBadDist = errors.New("origin: bad latency distribution")

// maxLatency bounds every configured or sampled latency.
const maxLatency = time.Minute

// Dist is a latency distribution. The zero Dist answers at once.
type Dist struct {
	kind distKind
	a, b time.Duration
	src  string
}

type distKind uint8

const (
	distFixed distKind = iota
	distUniform
	distNormal
	distExp
	distHang
)

// ParseDist parses a latency distribution:
//
//	0 | none            no added latency
//	5ms | fixed:5ms     always 5ms
//	uniform:1ms-10ms    uniform between the bounds
//	normal:10ms,2ms     normal with mean and standard deviation (clamped at 0)
//	exp:5ms             exponential with the mean
//	hang                never answer (until the server stops or a minute passes)
//
// Durations are Go durations and at most a minute.
func ParseDist(s string) (Dist, error) {
	s = strings.TrimSpace(s)
	kind, arg, hasArg := strings.Cut(s, ":")
	d := Dist{src: s}
	bad := func(why string) (Dist, error) { return Dist{}, fmt.Errorf("%w %q: %s", ErrBadDist, s, why) }
	switch {
	case s == "" || s == "0" || s == "none":
		d.src = "none"
		return d, nil
	case s == "hang":
		d.kind = distHang
		return d, nil
	case !hasArg:
		arg, kind = s, "fixed"
	}
	switch kind {
	case "fixed":
		v, err := parseLatency(arg)
		if err != nil {
			return bad(err.Error())
		}
		d.kind, d.a = distFixed, v
	case "uniform":
		lo, hi, ok := strings.Cut(arg, "-")
		if !ok {
			return bad("want uniform:MIN-MAX")
		}
		a, err1 := parseLatency(lo)
		b, err2 := parseLatency(hi)
		if err := errors.Join(err1, err2); err != nil {
			return bad(err.Error())
		}
		if b < a {
			return bad("MAX below MIN")
		}
		d.kind, d.a, d.b = distUniform, a, b
	case "normal":
		mean, sd, ok := strings.Cut(arg, ",")
		if !ok {
			return bad("want normal:MEAN,STDDEV")
		}
		a, err1 := parseLatency(mean)
		b, err2 := parseLatency(sd)
		if err := errors.Join(err1, err2); err != nil {
			return bad(err.Error())
		}
		d.kind, d.a, d.b = distNormal, a, b
	case "exp":
		v, err := parseLatency(arg)
		if err != nil {
			return bad(err.Error())
		}
		d.kind, d.a = distExp, v
	default:
		return bad("kind is not one of fixed, uniform, normal, exp, hang")
	}
	return d, nil
}

func parseLatency(s string) (time.Duration, error) {
	v, err := time.ParseDuration(strings.TrimSpace(s))
	if err != nil {
		if f, ferr := strconv.ParseFloat(s, 64); ferr == nil && f == 0 {
			return 0, nil
		}
		return 0, err
	}
	if v < 0 || v > maxLatency {
		return 0, fmt.Errorf("%v is outside 0..%v", v, maxLatency)
	}
	return v, nil
}

// Hangs reports whether the distribution never answers.
func (d Dist) Hangs() bool { return d.kind == distHang }

// Sample draws one latency.
func (d Dist) Sample() time.Duration {
	var v float64
	switch d.kind {
	case distFixed:
		return d.a
	case distUniform:
		return d.a + time.Duration(rand.Int64N(int64(d.b-d.a)+1))
	case distNormal:
		v = float64(d.a) + rand.NormFloat64()*float64(d.b)
	case distExp:
		v = rand.ExpFloat64() * float64(d.a)
	case distHang:
		return maxLatency
	}
	return time.Duration(math.Max(0, math.Min(v, float64(maxLatency))))
}

func (d Dist) String() string {
	if d.src == "" {
		return "none"
	}
	return d.src
}
