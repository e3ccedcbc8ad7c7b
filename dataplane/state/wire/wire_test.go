package wire

import (
	"bytes"
	"encoding/hex"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden frames in testdata/")

// goldenFrames are the protocol's reference encodings; their hex dumps in
// testdata/ are part of the specification (docs/PROTOCOL.md).
func goldenFrames() map[string][]byte {
	return map[string][]byte{
		"ping":             AppendPing(nil, 1, []byte("hi")),
		"auth":             AppendAuth(nil, 2, []byte("secret")),
		"get":              AppendGet(nil, 3, []byte("user:1")),
		"set-ttl":          AppendSet(nil, 4, 0, []byte("user:1"), []byte("alice"), 60000),
		"set-nx":           AppendSet(nil, 5, FlagNX, []byte("lock"), []byte("owner"), 0),
		"cas":              AppendCAS(nil, 6, []byte("k"), []byte("v2"), 0, 1, 41),
		"delete":           AppendDelete(nil, 7, []byte("k")),
		"incr":             AppendIncr(nil, 8, []byte("hits"), -3),
		"expire":           AppendExpire(nil, 9, []byte("k"), 1500),
		"mget":             AppendMGet(nil, 10, [][]byte{[]byte("a"), []byte("bb")}),
		"mset":             AppendMSet(nil, 11, []KV{{[]byte("a"), []byte("1")}, {[]byte("bb"), []byte("22")}}, 0),
		"resp-get-hit":     AppendValueResponse(nil, OpGet, 3, 1, 42, -1, []byte("alice")),
		"resp-get-miss":    AppendStatus(nil, OpGet, 3, StatusNotFound),
		"resp-set":         AppendVersionResponse(nil, OpSet, 4, StatusOK, 1, 43),
		"resp-cas-stale":   AppendVersionResponse(nil, OpCAS, 6, StatusVersionMismatch, 1, 44),
		"resp-incr":        AppendIntResponse(nil, OpIncr, 8, 39),
		"resp-mget":        AppendResponse(nil, OpMGet, 10, StatusOK, nil, AppendMGetItem(AppendMGetItem(nil, StatusOK, []byte("1")), StatusNotFound, nil)),
		"resp-bad-request": AppendStatus(nil, OpGet, 0, StatusBadRequest),
	}
}

func TestGoldenFrames(t *testing.T) {
	for name, frame := range goldenFrames() {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join("testdata", name+".hex")
			if *update {
				if err := os.WriteFile(path, []byte(hex.Dump(frame)), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update to create)", err)
			}
			if got := hex.Dump(frame); got != string(want) {
				t.Fatalf("encoding changed:\n%s\nwant:\n%s", got, want)
			}
			f, n, err := Decode(frame, DefaultMaxBody)
			if err != nil || n != len(frame) {
				t.Fatalf("decode: n=%d err=%v", n, err)
			}
			if again := AppendFrame(nil, f.Header, f.Extras, f.Key, f.Value); !bytes.Equal(again, frame) {
				t.Fatalf("re-encoding differs")
			}
		})
	}
}

func TestDecode(t *testing.T) {
	get := AppendGet(nil, 9, []byte("key"))
	tests := []struct {
		name    string
		in      []byte
		max     int
		wantN   int
		wantErr error
	}{
		{"empty", nil, 100, 0, nil},
		{"partial header", get[:10], 100, 0, nil},
		{"partial body", get[:len(get)-1], 100, 0, nil},
		{"whole", get, 100, len(get), nil},
		{"two frames", append(append([]byte{}, get...), get...), 100, len(get), nil},
		{"bad magic early", []byte("GE"), 100, 0, ErrBadMagic},
		{"bad version", append([]byte{0x53, 0x54, 9}, get[3:]...), 100, 0, ErrBadVersion},
		{"too large from header alone", AppendHeader(nil, Header{Opcode: OpSet, BodyLen: 1 << 31}), 1 << 20, 0, ErrFrameTooLarge},
		{"key beyond body", AppendHeader(nil, Header{Opcode: OpGet, KeyLen: 5, BodyLen: 4}), 100, 0, ErrBadLengths},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, n, err := Decode(tt.in, tt.max)
			if n != tt.wantN || !errors.Is(err, tt.wantErr) {
				t.Fatalf("Decode = n %d, err %v; want %d, %v", n, err, tt.wantN, tt.wantErr)
			}
			if n > 0 && (f.ID != 9 || string(f.Key) != "key") {
				t.Fatalf("frame %+v", f)
			}
		})
	}
}

func TestBatchIterators(t *testing.T) {
	body := AppendMSet(nil, 1, []KV{{[]byte("k1"), []byte("v1")}, {[]byte("k2"), nil}}, 0)[HeaderSize+8:]
	var got []string
	for rest := body; ; {
		k, v, r, ok, bad := NextMSetEntry(rest)
		if bad {
			t.Fatal("valid body reported bad")
		}
		if !ok {
			break
		}
		got = append(got, string(k)+"="+string(v))
		rest = r
	}
	if strings.Join(got, ",") != "k1=v1,k2=" {
		t.Fatalf("entries %v", got)
	}
	if _, _, _, _, bad := NextMSetEntry(body[:5]); !bad {
		t.Fatal("truncated entry not reported")
	}
	if _, _, ok, bad := NextMGetKey([]byte{0, 9, 'a'}); ok || !bad {
		t.Fatal("truncated key not reported")
	}
}

func TestEncodersDoNotAllocate(t *testing.T) {
	dst := make([]byte, 0, 1024)
	key, val := []byte("key"), bytes.Repeat([]byte("v"), 64)
	for name, fn := range map[string]func(){
		"get":       func() { AppendGet(dst[:0], 1, key) },
		"set":       func() { AppendSet(dst[:0], 1, FlagNX, key, val, 10) },
		"cas":       func() { AppendCAS(dst[:0], 1, key, val, 10, 1, 2) },
		"value":     func() { AppendValueResponse(dst[:0], OpGet, 1, 1, 2, -1, val) },
		"version":   func() { AppendVersionResponse(dst[:0], OpSet, 1, StatusOK, 1, 2) },
		"decode":    func() { Decode(AppendGet(dst[:0], 1, key), 100) },
		"mget-item": func() { AppendMGetItem(dst[:0], StatusOK, val) },
	} {
		if n := testing.AllocsPerRun(100, fn); n != 0 {
			t.Errorf("%s allocates %v times", name, n)
		}
	}
}

func FuzzDecode(f *testing.F) {
	for _, frame := range goldenFrames() {
		f.Add(frame)
	}
	f.Add([]byte{0x53, 0x54, 1, 0x10, 0, 0, 0, 0, 0, 0, 0, 1, 0xff, 0xff, 0xff, 0, 0xff, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, b []byte) {
		fr, n, err := Decode(b, 1<<16)
		if err != nil || n == 0 {
			return
		}
		if n > len(b) || n != HeaderSize+int(fr.BodyLen) {
			t.Fatalf("n=%d len=%d body=%d", n, len(b), fr.BodyLen)
		}
		again := AppendFrame(nil, fr.Header, fr.Extras, fr.Key, fr.Value)
		want := append([]byte{}, b[:n]...)
		want[15] = 0 // the reserved byte is not carried
		if !bytes.Equal(again, want) {
			t.Fatalf("re-encoding differs")
		}
		// The batch iterators must survive any value.
		for rest := fr.Value; ; {
			_, r, ok, _ := NextMGetKey(rest)
			if !ok {
				break
			}
			rest = r
		}
		for rest := fr.Value; ; {
			_, _, r, ok, _ := NextMSetEntry(rest)
			if !ok {
				break
			}
			rest = r
		}
		for rest := fr.Value; ; {
			_, _, r, ok, _ := NextMGetItem(rest)
			if !ok {
				break
			}
			rest = r
		}
	})
}
