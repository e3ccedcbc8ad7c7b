package accesslog

import (
	"strconv"
	"time"
	"unicode/utf8"
)

// appendJSON appends r as one JSON object and a newline.
func (r *record) appendJSON(dst []byte) []byte {
	dst = append(dst, `{"time":"`...)
	dst = time.Unix(0, r.unixNano).UTC().AppendFormat(dst, time.RFC3339Nano)
	dst = append(dst, `","client":"`...)
	if r.client.IsValid() {
		dst = r.client.AppendTo(dst)
	}
	dst = append(dst, `","method":`...)
	dst = appendString(dst, r.field(0))
	dst = append(dst, `,"path":`...)
	dst = appendString(dst, r.field(1))
	dst = append(dst, `,"host":`...)
	dst = appendString(dst, r.field(2))
	dst = append(dst, `,"status":`...)
	dst = strconv.AppendInt(dst, int64(r.status), 10)
	dst = append(dst, `,"bytes":`...)
	dst = strconv.AppendInt(dst, r.bytes, 10)
	dst = append(dst, `,"duration_ms":`...)
	dst = strconv.AppendFloat(dst, float64(r.duration)/float64(time.Millisecond), 'f', 3, 64)
	if r.cache != "" {
		dst = append(dst, `,"cache":`...)
		dst = appendString(dst, []byte(r.cache))
	}
	if r.route != "" {
		dst = append(dst, `,"route":`...)
		dst = appendString(dst, []byte(r.route))
	}
	dst = append(dst, `,"request_id":`...)
	dst = appendString(dst, r.field(3))
	if r.truncated {
		dst = append(dst, `,"truncated":true`...)
	}
	return append(dst, "}\n"...)
}

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string. Request bytes are untrusted:
// quotes, backslashes and control characters are escaped and invalid
// UTF-8 becomes U+FFFD, so a line is always one valid JSON object.
func appendString(dst, s []byte) []byte {
	dst = append(dst, '"')
	start := 0 // s[start:i] is safe and not yet appended
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c < utf8.RuneSelf && c != '"' && c != '\\' && c != 0x7f {
			i++
			continue
		}
		dst = append(dst, s[start:i]...)
		if c < utf8.RuneSelf {
			if c == '"' || c == '\\' {
				dst = append(dst, '\\', c)
			} else {
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRune(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, `\ufffd`...)
		} else {
			dst = append(dst, s[i:i+size]...)
		}
		i += size
		start = i
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
