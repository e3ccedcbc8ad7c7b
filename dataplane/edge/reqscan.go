package edge

// Request fields that change how a stored response is used. A hit checks
// for them with one pass over the raw header block instead of one lookup
// per field, which matters at a few hundred nanoseconds per hit.
const (
	hasDirectives  uint8 = 1 << iota // Cache-Control or Pragma
	hasConditional                   // If-None-Match, If-Modified-Since
	hasRange                         // Range
	allFlags       = hasDirectives | hasConditional | hasRange
)

// scanRequest reports which of those fields the raw header block holds.
// Without a raw block (a request built in code) it reports all of them, so
// that callers fall back to exact lookups.
func scanRequest(raw []byte) uint8 {
	if len(raw) == 0 {
		return allFlags
	}
	var flags uint8
	start := 0
	for i := 0; i <= len(raw); i++ {
		if i < len(raw) && raw[i] != '\n' {
			continue
		}
		line := raw[start:i]
		start = i + 1
		colon := -1
		for j, c := range line {
			if c == ':' {
				colon = j
				break
			}
		}
		if colon <= 0 {
			continue
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
	return flags
}
