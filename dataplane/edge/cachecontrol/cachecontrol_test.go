package cachecontrol

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

func TestParse(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want func(d *Directives) bool
	}{
		{"max-age", "max-age=60", func(d *Directives) bool { return d.MaxAge == 60 && !d.Invalid }},
		{"quoted max-age", `max-age="60"`, func(d *Directives) bool { return d.MaxAge == 60 }},
		{"case", "MAX-AGE=5, S-MaxAge=7", func(d *Directives) bool { return d.MaxAge == 5 && d.SMaxAge == 7 }},
		{"first wins", "max-age=1, max-age=9", func(d *Directives) bool { return d.MaxAge == 1 }},
		{"invalid value", "max-age=abc", func(d *Directives) bool { return d.Invalid && d.MaxAge == Unset }},
		{"negative", "max-age=-1", func(d *Directives) bool { return d.Invalid }},
		{"missing value", "s-maxage", func(d *Directives) bool { return d.Invalid }},
		{"overflow saturates", "max-age=99999999999999999999", func(d *Directives) bool { return d.MaxAge == MaxDelta }},
		{"flags", "no-store, no-cache, private, public, must-revalidate, proxy-revalidate, immutable",
			func(d *Directives) bool {
				return d.NoStore && d.NoCache && d.Private && d.Public && d.MustRevalidate && d.ProxyRevalidate && d.Immutable
			}},
		{"qualified no-cache", `no-cache="Set-Cookie, X-Foo", max-age=3`, func(d *Directives) bool { return d.NoCache && d.MaxAge == 3 }},
		{"qualified private", `private="X-User"`, func(d *Directives) bool { return d.Private }},
		{"stale", "stale-while-revalidate=30, stale-if-error=600", func(d *Directives) bool {
			return d.StaleWhileRevalidate == 30 && d.StaleIfError == 600
		}},
		{"request", "max-stale, min-fresh=10, only-if-cached", func(d *Directives) bool {
			return d.MaxStale == MaxDelta && d.MinFresh == 10 && d.OnlyIfCached
		}},
		{"junk tolerated", ",,, max-age=4 junk, ;;x, no-store", func(d *Directives) bool { return d.MaxAge == 4 && d.NoStore }},
		{"unknown ignored", "foo=bar, max-age=2", func(d *Directives) bool { return d.MaxAge == 2 }},
		{"empty", "", func(d *Directives) bool { return !d.Present && d.MaxAge == Unset }},
		{"space before equals has no argument", "max-age =8", func(d *Directives) bool { return d.MaxAge == Unset && d.Invalid }},
		{"space after equals has no argument", "max-age= 8", func(d *Directives) bool { return d.MaxAge == Unset && d.Invalid }},
		{"single quotes are not quotes", "max-age='8'", func(d *Directives) bool { return d.Invalid }},
		{"quoted max-age inside an extension is ignored", `ext="max-age=3600", max-age=1`, func(d *Directives) bool { return d.MaxAge == 1 }},
		{"qualified no-cache keeps its fields", `no-cache="a, b"`, func(d *Directives) bool { return d.NoCache && string(d.NoCacheFields) == "a, b" }},
		{"unqualified no-cache wins", `no-cache="a", no-cache`, func(d *Directives) bool { return d.NoCache && d.NoCacheFields == nil }},
		{"qualified private keeps its fields", `private="x"`, func(d *Directives) bool { return d.Private && string(d.PrivateFields) == "x" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := Parse([]byte(tt.in))
			if !tt.want(&d) {
				t.Fatalf("Parse(%q) = %+v", tt.in, d)
			}
		})
	}
}

func TestAddMergesLines(t *testing.T) {
	var d Directives
	d.Reset()
	d.Add([]byte("max-age=10"))
	d.Add([]byte("no-cache, max-age=20"))
	if d.MaxAge != 10 || !d.NoCache {
		t.Fatalf("merged = %+v", d)
	}
}

func TestParseAllocs(t *testing.T) {
	in := []byte(`public, max-age=60, s-maxage=120, stale-while-revalidate=30, no-cache="x"`)
	var d Directives
	if n := testing.AllocsPerRun(100, func() { d.Reset(); d.Add(in) }); n != 0 {
		t.Fatalf("Add allocates %v times", n)
	}
}

// format renders d in a stable text form for golden files.
func format(d Directives) string {
	return fmt.Sprintf("max-age=%d s-maxage=%d swr=%d sie=%d max-stale=%d min-fresh=%d no-store=%t no-cache=%t private=%t public=%t must-revalidate=%t proxy-revalidate=%t invalid=%t present=%t",
		d.MaxAge, d.SMaxAge, d.StaleWhileRevalidate, d.StaleIfError, d.MaxStale, d.MinFresh,
		d.NoStore, d.NoCache, d.Private, d.Public, d.MustRevalidate, d.ProxyRevalidate, d.Invalid, d.Present)
}

// TestGolden parses every line of testdata/inputs.txt and compares with
// testdata/parse.golden (rewrite with -update after a deliberate change).
func TestGolden(t *testing.T) {
	f, err := os.Open(filepath.Join("testdata", "inputs.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out strings.Builder
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fmt.Fprintf(&out, "%q\n\t%s\n", sc.Text(), format(Parse(sc.Bytes())))
	}
	golden := filepath.Join("testdata", "parse.golden")
	if *update {
		if err := os.WriteFile(golden, []byte(out.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if string(want) != out.String() {
		t.Fatalf("golden mismatch; got:\n%s", out.String())
	}
}

func FuzzParse(f *testing.F) {
	seeds, _ := os.ReadFile(filepath.Join("testdata", "inputs.txt"))
	for _, line := range strings.Split(string(seeds), "\n") {
		f.Add([]byte(line))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		d := Parse(in)
		for _, v := range []int64{d.MaxAge, d.SMaxAge, d.StaleWhileRevalidate, d.StaleIfError, d.MaxStale, d.MinFresh} {
			if v != Unset && (v < 0 || v > MaxDelta) {
				t.Fatalf("Parse(%q): delta out of range: %+v", in, d)
			}
		}
		// Splitting a list into two lines at a comma must not change the result.
		if i := strings.IndexByte(string(in), ','); i >= 0 && !strings.Contains(string(in), `"`) {
			var two Directives
			two.Reset()
			two.Add(in[:i])
			two.Add(in[i+1:])
			if format(two) != format(d) {
				t.Fatalf("Parse(%q) = %+v, split = %+v", in, d, two)
			}
		}
		if d2 := Parse(in); format(d2) != format(d) {
			t.Fatalf("Parse is not deterministic for %q", in)
		}
	})
}
