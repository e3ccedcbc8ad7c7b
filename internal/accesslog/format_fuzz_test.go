package accesslog

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzLineIsJSON: whatever bytes a client puts in its method, target, host
// and request id, a log line is one valid JSON object, and valid UTF-8
// that fits comes back unchanged.
func FuzzLineIsJSON(f *testing.F) {
	for _, s := range []string{"/", "/a?b=c", "/\"quoted\"\\", "/\x00\x1f\x7f", "/\xff\xfe", "/\u2028\u2029", "/é/日本"} {
		f.Add(s, "example.test")
	}
	f.Fuzz(func(t *testing.T, target, host string) {
		e := testEntry()
		e.Target, e.Host = []byte(target), []byte(host)
		var r record
		r.fill(e)
		line := r.appendJSON(nil)
		if !strings.HasSuffix(string(line), "}\n") || strings.Count(string(line), "\n") != 1 {
			t.Fatalf("not one line: %q", line)
		}
		var got struct {
			Path, Host string
			Truncated  bool
		}
		if err := json.Unmarshal(line, &got); err != nil {
			t.Fatalf("%q: %v", line, err)
		}
		if !got.Truncated && utf8.ValidString(target) && utf8.ValidString(host) && (got.Path != target || got.Host != host) {
			t.Fatalf("path %q host %q came back as %q %q", target, host, got.Path, got.Host)
		}
	})
}
