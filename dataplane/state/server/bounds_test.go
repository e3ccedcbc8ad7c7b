package server

import (
	"bufio"
	"encoding/binary"
	"io"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/strata-dp/strata/dataplane/state/wire"
)

// readFrame reads one binary response frame.
func readFrame(t *testing.T, br *bufio.Reader) wire.Frame {
	t.Helper()
	var hdr [wire.HeaderSize]byte
	if _, err := io.ReadFull(br, hdr[:]); err != nil {
		t.Fatal(err)
	}
	n := binary.BigEndian.Uint32(hdr[16:])
	if n > 64<<20 {
		t.Fatalf("response body of %d bytes", n)
	}
	body := make([]byte, n)
	if _, err := io.ReadFull(br, body); err != nil {
		t.Fatal(err)
	}
	f, _, err := wire.Decode(append(hdr[:], body...), 1<<30)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// One large key named many times in one MGET multiplies a small request
// into a huge reply; past MaxReply (16 MiB by default) it is refused with an
// error naming the limit, in both protocols, and the connection stays usable.
func TestMGetReplyBounded(t *testing.T) {
	s := startServer(t, Config{})
	big := strings.Repeat("x", 256<<10)
	c := dialRESP(t, s.RESPAddr())
	c.do(mb("SET", "big", big), "+OK")
	const times = 200 // 50 MiB of reply from a 2 KB request

	t.Run("resp", func(t *testing.T) {
		args := []string{"MGET"}
		for range times {
			args = append(args, "big")
		}
		c.send(mb(args...))
		line, err := c.br.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		if want := "-ERR reply larger than the limit of 16777216 bytes"; !strings.HasPrefix(line, want) {
			t.Fatalf("MGET of %d x 256 KiB: reply starts %.60q, want %q", times, line, want)
		}
		c.do(mb("MGET", "big", "absent"), "[$"+big+" (nil)]")
	})
	t.Run("binary", func(t *testing.T) {
		nc := dialRaw(t, s.Addr())
		nc.SetDeadline(time.Now().Add(10 * time.Second))
		br := bufio.NewReader(nc)
		keys := make([][]byte, times)
		for i := range keys {
			keys[i] = []byte("big")
		}
		nc.Write(wire.AppendMGet(nil, 9, keys))
		if f := readFrame(t, br); f.Status != wire.StatusTooLarge || f.ID != 9 || !strings.Contains(string(f.Value), "max-reply") {
			t.Fatalf("MGET of %d x 256 KiB: status %v id %d body %d bytes %.60q", times, f.Status, f.ID, len(f.Value), f.Value)
		}
		nc.Write(wire.AppendMGet(nil, 10, [][]byte{[]byte("big")}))
		if f := readFrame(t, br); f.Status != wire.StatusOK || f.ID != 10 || len(f.Value) != 5+len(big) {
			t.Fatalf("small MGET after the refusal: %+v", f.Header)
		}
	})
}

// A SCAN with a huge COUNT used to walk the whole keyspace in one call, on
// the event loop; COUNT is clamped to 1000, so the call stops after the
// shard in which it saw 1000 keys, and a full iteration still returns
// every key.
func TestScanCountClamped(t *testing.T) {
	s := startServer(t, Config{})
	c := dialRESP(t, s.RESPAddr())
	const keys = 20000 // 16 shards of 1250 keys
	for i := 0; i < keys; i += 500 {
		args := []string{"MSET"}
		for j := i; j < i+500; j++ {
			args = append(args, "key:"+strconv.Itoa(j), "v")
		}
		c.do(mb(args...), "+OK")
	}
	seen := map[string]bool{}
	cursor, calls := "0", 0
	for {
		c.send(mb("SCAN", cursor, "MATCH", "key:*", "COUNT", "100000000"))
		next, got := scanReply(t, c)
		calls++
		if calls == 1 && (next == "0" || len(got) >= keys) {
			t.Fatalf("one SCAN with COUNT 100000000 returned %d of %d keys (cursor %s): COUNT is not clamped", len(got), keys, next)
		}
		if len(got) > 4*maxScanCount {
			t.Fatalf("one SCAN call returned %d keys", len(got))
		}
		for _, k := range got {
			seen[k] = true
		}
		if cursor = next; cursor == "0" || calls > 1000 {
			break
		}
	}
	if len(seen) != keys {
		t.Fatalf("a full SCAN returned %d distinct keys of %d", len(seen), keys)
	}
	c.do(mb("SCAN", "0", "MATCH", strings.Repeat("*a", 300)), "-ERR MATCH pattern longer than 512 bytes")
}

// scanReply reads a SCAN reply: the next cursor and the keys.
func scanReply(t *testing.T, c *respConn) (string, []string) {
	t.Helper()
	var lines []string
	read := func() string {
		l, err := c.br.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		return strings.TrimSuffix(l, "\r\n")
	}
	if l := read(); l != "*2" {
		t.Fatalf("SCAN reply starts %q", l)
	}
	read()
	cursor := read()
	n, _ := strconv.Atoi(strings.TrimPrefix(read(), "*"))
	for range n {
		read()
		lines = append(lines, read())
	}
	return cursor, lines
}
