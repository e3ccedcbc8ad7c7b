package resp

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden from the parser's output")

func TestParse(t *testing.T) {
	lim := Limits{MaxBulk: 16, MaxArgs: 4, MaxInline: 32}
	tests := []struct {
		name    string
		in      string
		want    []string
		wantN   int
		wantErr error
	}{
		{"multibulk", "*2\r\n$3\r\nGET\r\n$1\r\nk\r\n", []string{"GET", "k"}, 20, nil},
		{"binary-safe value", "*2\r\n$4\r\nECHO\r\n$4\r\na\r\nb\r\n", []string{"ECHO", "a\r\nb"}, 24, nil},
		{"empty bulk", "*1\r\n$0\r\n\r\n", []string{""}, 10, nil},
		{"empty array", "*0\r\n", nil, 4, nil},
		{"null array", "*-1\r\n", nil, 5, nil},
		{"pipelined: first only", "*1\r\n$4\r\nPING\r\n*1\r\n$4\r\nPING\r\n", []string{"PING"}, 14, nil},
		{"incomplete count", "*2", nil, 0, nil},
		{"incomplete bulk", "*1\r\n$4\r\nPI", nil, 0, nil},
		{"incomplete terminator", "*1\r\n$4\r\nPING\r", nil, 0, nil},
		{"inline", "SET k v\r\n", []string{"SET", "k", "v"}, 9, nil},
		{"inline LF only", "PING\n", []string{"PING"}, 5, nil},
		{"inline quotes", "SET k \"a b\"\r\n", []string{"SET", "k", "a b"}, 13, nil},
		{"inline blank line", "\r\n", nil, 2, nil},
		{"inline incomplete", "PING", nil, 0, nil},
		{"bad count", "*x\r\n", nil, 0, ErrMultibulkLen},
		{"too many args", "*5\r\n", nil, 0, ErrMultibulkLen},
		{"bulk over limit", "*1\r\n$17\r\n", nil, 0, ErrBulkLen},
		{"huge bulk announced", "*1\r\n$99999999999999999999\r\n", nil, 0, ErrBulkLen},
		{"negative bulk", "*1\r\n$-1\r\n", nil, 0, ErrBulkLen},
		{"missing dollar", "*1\r\n:3\r\n", nil, 0, ErrExpectDollar},
		{"bad terminator", "*1\r\n$1\r\nab\r\n", nil, 0, ErrBadTerminal},
		{"unbalanced quote", "GET \"k\r\n", nil, 0, ErrUnbalanced},
		{"inline too long", strings.Repeat("a", 40), nil, 0, ErrInlineTooBig},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args, n, err := Parse([]byte(tt.in), nil, lim)
			if n != tt.wantN || !errors.Is(err, tt.wantErr) {
				t.Fatalf("Parse = n %d, err %v; want %d, %v", n, err, tt.wantN, tt.wantErr)
			}
			var got []string
			for _, a := range args {
				got = append(got, string(a))
			}
			if tt.wantErr == nil && n > 0 && fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Fatalf("args %q, want %q", got, tt.want)
			}
		})
	}
}

// Golden inputs: each testdata/*.resp file is parsed command by command and
// the result is compared with its .golden file.
func TestGoldenInputs(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.resp")
	if len(files) == 0 {
		t.Fatal("no golden inputs in testdata/")
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			in, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			got := render(in)
			golden := strings.TrimSuffix(f, ".resp") + ".golden"
			if *update {
				os.WriteFile(golden, []byte(got), 0o644)
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update)", err)
			}
			if got != string(want) {
				t.Fatalf("parse of %s changed:\n%s\nwant:\n%s", f, got, want)
			}
		})
	}
}

func render(in []byte) string {
	var b strings.Builder
	for len(in) > 0 {
		args, n, err := Parse(in, nil, Limits{})
		switch {
		case err != nil:
			fmt.Fprintf(&b, "error: %v\n", err)
			return b.String()
		case n == 0:
			fmt.Fprintf(&b, "incomplete: %q\n", in)
			return b.String()
		}
		for i, a := range args {
			if i > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(strconv.Quote(string(a)))
		}
		b.WriteByte('\n')
		in = in[n:]
	}
	return b.String()
}

func TestParseDoesNotAllocate(t *testing.T) {
	in := []byte("*3\r\n$3\r\nSET\r\n$16\r\nkey:000000000042\r\n$5\r\nvalue\r\n")
	args := make([][]byte, 0, 8)
	if n := testing.AllocsPerRun(1000, func() { args, _, _ = Parse(in, args, Limits{}) }); n != 0 {
		t.Fatalf("Parse allocates %v times", n)
	}
	out := make([]byte, 0, 256)
	if n := testing.AllocsPerRun(1000, func() {
		o := AppendBulk(out[:0], in)
		o = AppendInt(o, -42)
		o = AppendNull(o)
		AppendArrayLen(o, 3)
	}); n != 0 {
		t.Fatalf("writers allocate %v times", n)
	}
}

func TestWriters(t *testing.T) {
	got := AppendCommand(nil, []byte("SET"), []byte("k"), []byte(""))
	got = AppendSimple(got, "OK")
	got = AppendError(got, "ERR x")
	got = AppendInt(got, -7)
	got = AppendNull(got)
	got = AppendBulkString(got, "é")
	want := "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$0\r\n\r\n+OK\r\n-ERR x\r\n:-7\r\n$-1\r\n$2\r\né\r\n"
	if string(got) != want {
		t.Fatalf("got %q", got)
	}
}

func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.resp")
	for _, file := range files {
		if b, err := os.ReadFile(file); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte("*2\r\n$3\r\nGET\r\n$1\r\nk\r\n"))
	f.Add([]byte("PING\r\n"))
	lim := Limits{MaxBulk: 1 << 16, MaxArgs: 1 << 10, MaxInline: 1 << 12}
	f.Fuzz(func(t *testing.T, b []byte) {
		args, n, err := Parse(b, nil, lim)
		if err != nil || n == 0 {
			return
		}
		if n > len(b) {
			t.Fatalf("consumed %d of %d", n, len(b))
		}
		// Every strict prefix of a whole command is incomplete, never an
		// error and never a different command.
		for i := range n {
			if _, m, err := Parse(b[:i], nil, lim); m != 0 || err != nil {
				t.Fatalf("prefix %d of %d: n=%d err=%v", i, n, m, err)
			}
		}
		// A multi-bulk command survives re-encoding.
		if b[0] == '*' {
			again, m, err := Parse(AppendCommand(nil, args...), nil, lim)
			if err != nil || m == 0 || len(again) != len(args) {
				t.Fatalf("re-encoded: %v %d", err, m)
			}
			for i := range args {
				if !bytes.Equal(args[i], again[i]) {
					t.Fatalf("arg %d differs", i)
				}
			}
		}
	})
}
