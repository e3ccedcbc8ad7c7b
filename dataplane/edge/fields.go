package edge

// Byte helpers for header values, allocation-free.

// equalFold compares b with the lower-case ASCII string s, ignoring case.
func equalFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := range len(b) {
		c := b[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != s[i] {
			return false
		}
	}
	return true
}

func equalFoldBytes(a, b []byte) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range len(a) {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

func trimSpace(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t') {
		b = b[1:]
	}
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t') {
		b = b[:len(b)-1]
	}
	return b
}

// listHas reports whether the comma-separated list holds token, ignoring
// case and whitespace.
func listHas(list, token []byte) bool {
	for len(list) > 0 {
		i := 0
		for i < len(list) && list[i] != ',' {
			i++
		}
		if equalFoldBytes(trimSpace(list[:i]), token) {
			return true
		}
		if i == len(list) {
			break
		}
		list = list[i+1:]
	}
	return false
}

// splitAny splits v at any byte of seps, dropping empty parts.
func splitAny(v []byte, seps string) [][]byte {
	var out [][]byte
	start := -1
	for i := 0; i <= len(v); i++ {
		sep := i == len(v)
		if !sep {
			for j := range len(seps) {
				if v[i] == seps[j] {
					sep = true
					break
				}
			}
		}
		if sep {
			if start >= 0 {
				out = append(out, v[start:i])
				start = -1
			}
		} else if start < 0 {
			start = i
		}
	}
	return out
}

func lower(b []byte) []byte {
	out := make([]byte, len(b))
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		out[i] = c
	}
	return out
}
