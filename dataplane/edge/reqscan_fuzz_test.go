package edge

import (
	"regexp"
	"strings"
	"testing"
)

// refFieldLine is RFC 9110's field-line as a regular expression: a token,
// a colon, then anything but control characters other than HTAB.
var refFieldLine = regexp.MustCompile("^[!#$%&'*+\\-.^_`|~0-9A-Za-z]+:[^\\x00-\\x08\\x0a-\\x1f\\x7f]*$")

// FuzzScanRequest checks scanRequest's verdict on a raw header block
// against the regular expression, line by line.
func FuzzScanRequest(f *testing.F) {
	for _, s := range []string{"Host: a\r\n\r\n", "Content Length: 5\r\n\r\n", "X: 1\r\n continued\r\n\r\n",
		"X: a\x01b\r\n\r\n", "Cache-Control: no-cache\r\nRange: bytes=0-1\r\n\r\n", ": x\r\n\r\n", "X\r\n\r\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		if len(raw) == 0 {
			return
		}
		want := true
		for _, line := range strings.Split(string(raw), "\n") {
			line = strings.TrimSuffix(line, "\r")
			if line != "" && !refFieldLine.MatchString(line) {
				want = false
				break
			}
		}
		_, bad := scanRequest(raw)
		if got := bad == ""; got != want {
			t.Fatalf("scanRequest(%q) bad=%q, reference says valid=%v", raw, bad, want)
		}
	})
}
