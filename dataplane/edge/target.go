package edge

import "bytes"

// What the request names: the authority and the target. Both go into the
// cache key and both are sent to the origin, so they must mean the same
// thing to the key, to fasthttp's client (which re-parses them) and to the
// origin. A Host of "a.test/account", "a.test@evil.test", "a.test?x" or
// "a.test x" was taken apart differently by each, and let one client store
// another URL's page under a victim's key. Hence the strict grammar below
// (RFC 9110 section 7.2, RFC 3986 section 3.2.2), checked on every request
// without allocating.

// targetForm is the form of a request-target (RFC 9112 section 3.2).
type targetForm uint8

const (
	originForm   targetForm = iota // /path?query
	absoluteForm                   // http://authority/path?query
	asteriskForm                   // * (OPTIONS only)
	badForm
)

// splitTarget returns the authority a request names and its target in
// origin-form (which may lack the leading "/" when the absolute form had
// none: "http://a.test?x" gives "?x"). The absolute form's authority wins
// over Host (RFC 9112 section 3.2.2). Only the http scheme is accepted;
// fragments are not part of a request-target. An empty query ("/p?") is
// dropped, as fasthttp's client drops it on the way to the origin.
func splitTarget(uri, hostField []byte) (host, target []byte, form targetForm) {
	switch {
	case len(uri) == 0:
		return nil, nil, badForm
	case uri[0] == '/':
		if bytes.IndexByte(uri, '#') >= 0 {
			return nil, nil, badForm
		}
		return hostField, dropEmptyQuery(uri), originForm
	case len(uri) == 1 && uri[0] == '*':
		return hostField, uri, asteriskForm
	}
	const scheme = "http://"
	if len(uri) < len(scheme) || !equalFold(uri[:len(scheme)], scheme) {
		return nil, nil, badForm
	}
	rest := uri[len(scheme):]
	end := len(rest)
	for i, c := range rest {
		if c == '/' || c == '?' || c == '#' {
			end = i
			break
		}
	}
	host, target = rest[:end], rest[end:]
	if !validHost(host) || bytes.IndexByte(target, '#') >= 0 {
		return nil, nil, badForm
	}
	return host, dropEmptyQuery(target), absoluteForm
}

func dropEmptyQuery(t []byte) []byte {
	if n := len(t); n > 0 && t[n-1] == '?' && bytes.IndexByte(t, '?') == n-1 {
		return t[:n-1]
	}
	return t
}

// validHost reports whether b is uri-host [":" port]: a reg-name of
// unreserved characters and sub-delims (an IPv4 address is one), or an
// IPv6 address in brackets, with a port of 1-5 digits up to 65535.
// Stricter than RFC 3986 in three ways, each because fasthttp's client
// would send the origin another name than the key holds: no pct-encoded
// octets (it decodes them), no IPv6 zone (likewise) and no IPvFuture; also
// no empty host or port. Userinfo ("a@b") is refused: RFC 9110 section 4.2.4
// forbids it, and the client would send it as Authorization to host b.
func validHost(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	if b[0] == '[' {
		i := bytes.IndexByte(b, ']')
		if i < 0 || !validIPv6(b[1:i]) {
			return false
		}
		b = b[i+1:]
	} else {
		i := 0
		for i < len(b) && regNameChar[b[i]] {
			i++
		}
		if i == 0 {
			return false
		}
		b = b[i:]
	}
	if len(b) == 0 {
		return true
	}
	return b[0] == ':' && validPort(b[1:])
}

func validPort(p []byte) bool {
	if len(p) == 0 || len(p) > 5 {
		return false
	}
	n := 0
	for _, c := range p {
		if c < '0' || c > '9' {
			return false
		}
		n = n*10 + int(c-'0')
	}
	return n <= 65535
}

// validIPv6 checks RFC 4291 text form: eight groups of 1-4 hex digits, or
// fewer around one "::" (standing for at least one group), the last two
// groups optionally as a dotted IPv4 address.
func validIPv6(s []byte) bool {
	groups, ellipsis, i := 0, false, 0
	if len(s) >= 2 && s[0] == ':' && s[1] == ':' {
		ellipsis, i = true, 2
	}
	for i < len(s) {
		j := i
		for j < len(s) && j-i <= 4 && isHex(s[j]) {
			j++
		}
		if j < len(s) && s[j] == '.' {
			if !validIPv4(s[i:]) {
				return false
			}
			groups += 2
			break
		}
		if j == i || j-i > 4 {
			return false
		}
		groups++
		if i = j; i == len(s) {
			break
		}
		if s[i] != ':' {
			return false
		}
		i++
		switch {
		case i == len(s):
			return false // a trailing single colon
		case s[i] == ':':
			if ellipsis {
				return false
			}
			ellipsis = true
			i++
		}
	}
	if ellipsis {
		return groups < 8
	}
	return groups == 8
}

// validIPv4 checks four decimal octets without leading zeros.
func validIPv4(s []byte) bool {
	for part := range 4 {
		if part > 0 {
			if len(s) == 0 || s[0] != '.' {
				return false
			}
			s = s[1:]
		}
		n, d := 0, 0
		for d < len(s) && s[d] >= '0' && s[d] <= '9' && d < 3 {
			n = n*10 + int(s[d]-'0')
			d++
		}
		if d == 0 || n > 255 || (d > 1 && s[0] == '0') {
			return false
		}
		s = s[d:]
	}
	return len(s) == 0
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// regNameChar holds RFC 3986's unreserved characters and sub-delims.
var regNameChar = func() (t [256]bool) {
	for _, c := range []byte("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~!$&'()*+,;=") {
		t[c] = true
	}
	return t
}()
