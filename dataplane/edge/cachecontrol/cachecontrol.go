// Package cachecontrol parses the directive lists of Cache-Control (RFC 9111
// section 5.2), CDN-Cache-Control (RFC 9213) and Surrogate-Control without
// allocating.
//
// The bytes come straight from clients and origins, so the parser is lenient
// in what it skips and strict in what it believes: a directive whose value
// does not parse is recorded as Invalid, so that callers can treat the
// response as stale rather than guess a lifetime. When a directive repeats,
// the first occurrence wins (RFC 9111 section 4.2.1 allows that choice).
package cachecontrol

// Unset marks a delta-seconds directive that was not present.
const Unset = -1

// MaxDelta is the value used for delta-seconds too large to represent
// (RFC 9111 section 1.2.2: 2^31).
const MaxDelta = 1 << 31

// Directives is the parsed form of one or more directive lists. Numeric
// fields hold delta-seconds or Unset.
type Directives struct {
	MaxAge               int64
	SMaxAge              int64
	StaleWhileRevalidate int64
	StaleIfError         int64
	MaxStale             int64 // request only; MaxDelta when given without a value
	MinFresh             int64 // request only

	NoStore         bool
	NoCache         bool // also set by the qualified form no-cache="field"
	Private         bool // also set by the qualified form private="field"
	Public          bool
	MustRevalidate  bool
	ProxyRevalidate bool
	MustUnderstand  bool
	NoTransform     bool
	OnlyIfCached    bool
	Immutable       bool

	// NoCacheFields and PrivateFields hold the field-name list of the
	// qualified forms (no-cache="a, b"), pointing into the parsed value.
	NoCacheFields []byte
	PrivateFields []byte

	// Invalid is set when a directive that decides freshness (max-age,
	// s-maxage) had a value that is not delta-seconds.
	Invalid bool
	// Present is set when at least one directive was seen.
	Present bool
}

// Reset clears d to "nothing present".
func (d *Directives) Reset() {
	*d = Directives{
		MaxAge: Unset, SMaxAge: Unset, StaleWhileRevalidate: Unset,
		StaleIfError: Unset, MaxStale: Unset, MinFresh: Unset,
	}
}

// Parse parses value into a fresh Directives.
func Parse(value []byte) Directives {
	var d Directives
	d.Reset()
	d.Add(value)
	return d
}

// Add merges one more field line into d, so that several Cache-Control lines
// read as one list (RFC 9110 section 5.3).
func (d *Directives) Add(value []byte) {
	i := 0
	for i < len(value) {
		// Skip separators and whitespace.
		for i < len(value) && (value[i] == ',' || isSpace(value[i])) {
			i++
		}
		start := i
		for i < len(value) && isToken(value[i]) {
			i++
		}
		name := value[start:i]
		var arg []byte
		hasArg := false
		// RFC 9111 section 5.2: token [ "=" ( token / quoted-string ) ],
		// no whitespace around "=": "max-age =5" has no argument.
		if i < len(value) && value[i] == '=' {
			hasArg = true
			i++
			if i < len(value) && value[i] == '"' {
				i++
				s := i
				for i < len(value) && value[i] != '"' {
					if value[i] == '\\' && i+1 < len(value) {
						i++
					}
					i++
				}
				arg = value[s:i]
				if i < len(value) {
					i++ // closing quote
				}
			} else {
				s := i
				for i < len(value) && value[i] != ',' && !isSpace(value[i]) {
					i++
				}
				arg = value[s:i]
			}
		}
		// Anything up to the next comma is junk from a malformed list.
		for i < len(value) && value[i] != ',' {
			i++
		}
		if len(name) == 0 {
			continue
		}
		d.Present = true
		d.apply(name, arg, hasArg)
	}
}

func (d *Directives) apply(name, arg []byte, hasArg bool) {
	switch {
	case equalFold(name, "max-age"):
		d.setDelta(&d.MaxAge, arg, hasArg, true)
	case equalFold(name, "s-maxage"):
		d.setDelta(&d.SMaxAge, arg, hasArg, true)
	case equalFold(name, "stale-while-revalidate"):
		d.setDelta(&d.StaleWhileRevalidate, arg, hasArg, false)
	case equalFold(name, "stale-if-error"):
		d.setDelta(&d.StaleIfError, arg, hasArg, false)
	case equalFold(name, "min-fresh"):
		d.setDelta(&d.MinFresh, arg, hasArg, false)
	case equalFold(name, "max-stale"):
		if d.MaxStale != Unset {
			return
		}
		if !hasArg {
			d.MaxStale = MaxDelta
			return
		}
		if v, ok := ParseDelta(arg); ok {
			d.MaxStale = v
		}
	case equalFold(name, "no-store"):
		d.NoStore = true
	case equalFold(name, "no-cache"):
		if hasArg && d.NoCacheFields == nil && !d.NoCache {
			d.NoCacheFields = arg
		} else if !hasArg {
			d.NoCacheFields = nil // the unqualified form wins
		}
		d.NoCache = true
	case equalFold(name, "private"):
		if hasArg && d.PrivateFields == nil && !d.Private {
			d.PrivateFields = arg
		} else if !hasArg {
			d.PrivateFields = nil
		}
		d.Private = true
	case equalFold(name, "public"):
		d.Public = true
	case equalFold(name, "must-revalidate"):
		d.MustRevalidate = true
	case equalFold(name, "proxy-revalidate"):
		d.ProxyRevalidate = true
	case equalFold(name, "must-understand"):
		d.MustUnderstand = true
	case equalFold(name, "no-transform"):
		d.NoTransform = true
	case equalFold(name, "only-if-cached"):
		d.OnlyIfCached = true
	case equalFold(name, "immutable"):
		d.Immutable = true
	}
}

func (d *Directives) setDelta(dst *int64, arg []byte, hasArg, decidesFreshness bool) {
	if *dst != Unset {
		return // first occurrence wins
	}
	v, ok := ParseDelta(arg)
	if !hasArg || !ok {
		if decidesFreshness {
			d.Invalid = true
		}
		return
	}
	*dst = v
}

// ParseDelta parses delta-seconds: one or more digits, saturating at
// MaxDelta.
func ParseDelta(b []byte) (int64, bool) {
	if len(b) == 0 {
		return 0, false
	}
	var v int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		if v < MaxDelta {
			v = v*10 + int64(c-'0')
		}
	}
	if v > MaxDelta {
		v = MaxDelta
	}
	return v, true
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' }

// isToken reports a tchar of RFC 9110 section 5.6.2.
func isToken(c byte) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		return true
	}
	switch c {
	case '!', '#', '$', '%', '&', '\'', '*', '+', '-', '.', '^', '_', '`', '|', '~':
		return true
	}
	return false
}

// equalFold compares b with the lower-case ASCII string s, ignoring case.
func equalFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := range len(b) {
		c := b[i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != s[i] {
			return false
		}
	}
	return true
}
