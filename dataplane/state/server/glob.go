package server

// globMatch matches s against a Redis-style glob pattern: * ? [abc] [^a]
// [a-z] and backslash escapes, with the semantics of Redis's stringmatchlen
// (util.c), malformed classes included: an unterminated class runs to the
// end of the pattern, a range's end may be ']' ("[a-]" is the range
// ']'..'a'), a lone trailing backslash is a literal backslash.
//
// It never backtracks more than one star: every token but '*' matches
// exactly one byte, so when the rest of the pattern fails after a star,
// retrying from the latest star one byte further is enough (the greedy
// star-restart algorithm). The work is O(len(p)*len(s)) at worst, against
// the exponential recursion it replaces, which let a 21-byte pattern hold
// an event loop for 15 s.
//
// Two differences from Redis, both outside what SCAN can see: an empty s
// matches a pattern of stars only (Redis: only the empty pattern, but its
// SCAN never matches "*" at all), and there is no limit of 1000 nested
// stars (Redis refuses deeper patterns as abusive; here they cost nothing).
func globMatch(p, s []byte) bool {
	px, sx := 0, 0
	starP, starS := -1, 0 // token after the latest star, and where it was tried
	for sx < len(s) {
		if px < len(p) {
			if p[px] == '*' {
				for px < len(p) && p[px] == '*' {
					px++
				}
				if px == len(p) {
					return true
				}
				starP, starS = px, sx
				continue
			}
			if next, ok := globToken(p, px, s[sx]); ok {
				px, sx = next, sx+1
				continue
			}
		}
		if starP < 0 {
			return false
		}
		starS++
		px, sx = starP, starS
	}
	for px < len(p) && p[px] == '*' {
		px++
	}
	return px == len(p)
}

// globToken matches c against the one-byte token of p at i (anything but
// '*') and returns where the next token starts. The extent of a token
// never depends on c.
func globToken(p []byte, i int, c byte) (next int, ok bool) {
	switch p[i] {
	case '?':
		return i + 1, true
	case '\\':
		if i+1 < len(p) {
			i++
		}
		return i + 1, p[i] == c
	case '[':
		return globClass(p, i+1, c)
	}
	return i + 1, p[i] == c
}

// globClass matches c against the class whose body starts at p[i] (after
// the '['), exactly as Redis parses it.
func globClass(p []byte, i int, c byte) (next int, ok bool) {
	not := i < len(p) && p[i] == '^'
	if not {
		i++
	}
	match := false
	for i < len(p) {
		switch {
		case p[i] == '\\' && i+1 < len(p):
			i++
			match = match || p[i] == c
		case p[i] == ']':
			return i + 1, match != not
		case i+2 < len(p) && p[i+1] == '-':
			lo, hi := p[i], p[i+2]
			if lo > hi {
				lo, hi = hi, lo
			}
			match = match || (lo <= c && c <= hi)
			i += 2
		default:
			match = match || p[i] == c
		}
		i++
	}
	return i, match != not // unterminated: the class ran to the end
}
