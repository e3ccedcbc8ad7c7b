package edge

// Request fields that change how a stored response is used. A hit checks
// for them with one pass over the raw header block instead of one lookup
// per field, which matters at a few hundred nanoseconds per hit. The same
// pass checks the field lines' syntax.
const (
	hasDirectives  uint8 = 1 << iota // Cache-Control or Pragma
	hasConditional                   // If-None-Match, If-Modified-Since
	hasRange                         // Range
	allFlags       = hasDirectives | hasConditional | hasRange
)

// Reasons a request's field lines are refused, as Cache-Status details.
const (
	reasonObsFold       = "obs-fold"
	reasonBadFieldName  = "bad-field-name"
	reasonBadFieldValue = "bad-field-value"
	reasonBadHost       = "bad-host"
	reasonBadTarget     = "bad-target"
)

// scanRequest reports which of those fields the raw header block holds,
// and bad when a field line is one a proxy must refuse (RFC 9112 sections
// 5.1 and 5.2, RFC 9110 section 5.5): a line folded onto the previous one
// (fasthttp joins those silently), a name that is not a token (fasthttp
// keeps "Content Length" and would forward it), or a value with a control
// character other than HTAB. Without a raw block (a request built in code)
// it reports all flags, so that callers fall back to exact lookups.
func scanRequest(raw []byte) (flags uint8, bad string) {
	if len(raw) == 0 {
		return allFlags, ""
	}
	start := 0
	for i := 0; i <= len(raw); i++ {
		if i < len(raw) && raw[i] != '\n' {
			continue
		}
		line := raw[start:i]
		start = i + 1
		if n := len(line); n > 0 && line[n-1] == '\r' {
			line = line[:n-1]
		}
		if len(line) == 0 {
			continue // the blank line that ends the block
		}
		if line[0] == ' ' || line[0] == '\t' {
			return flags, reasonObsFold
		}
		colon := 0
		for colon < len(line) && tokenChar[line[colon]] {
			colon++
		}
		if colon == 0 || colon == len(line) || line[colon] != ':' {
			return flags, reasonBadFieldName
		}
		for _, c := range line[colon+1:] {
			if c < ' ' && c != '\t' || c == 0x7f {
				return flags, reasonBadFieldValue
			}
		}
		switch k := line[:colon]; k[0] | 0x20 {
		case 'c':
			if equalFold(k, "cache-control") {
				flags |= hasDirectives
			}
		case 'p':
			if equalFold(k, "pragma") {
				flags |= hasDirectives
			}
		case 'i':
			if equalFold(k, "if-none-match") || equalFold(k, "if-modified-since") {
				flags |= hasConditional
			}
		case 'r':
			if equalFold(k, "range") {
				flags |= hasRange
			}
		}
	}
	return flags, ""
}

// tokenChar holds RFC 9110's tchar, the characters of a field name.
var tokenChar = func() (t [256]bool) {
	for _, c := range []byte("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&'*+-.^_`|~") {
		t[c] = true
	}
	return t
}()
