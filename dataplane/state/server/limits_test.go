package server

import (
	"bytes"
	"encoding/binary"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/strata-dp/strata/dataplane/state/wire"
)

// expectClosed waits for the server to close nc, reading whatever it sent.
func expectClosed(t *testing.T, nc net.Conn) []byte {
	t.Helper()
	nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	b, err := io.ReadAll(nc)
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Fatalf("connection still open after 5s (read %q)", b)
	}
	return b
}

func dialRaw(t *testing.T, addr string) net.Conn {
	t.Helper()
	nc, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	return nc
}

func TestOversizedFramesRefusedFromHeader(t *testing.T) {
	s := startServer(t, Config{MaxFrame: 1 << 20})
	t.Run("binary", func(t *testing.T) {
		nc := dialRaw(t, s.Addr())
		// Only the header: a 1 GiB body is announced and never sent.
		nc.Write(wire.AppendHeader(nil, wire.Header{Opcode: wire.OpSet, ID: 7, BodyLen: 1 << 30}))
		got := expectClosed(t, nc)
		f, _, err := wire.Decode(got, 1<<20)
		if err != nil || f.Status != wire.StatusTooLarge {
			t.Fatalf("reply %+v, %v", f.Header, err)
		}
	})
	t.Run("resp-bulk", func(t *testing.T) {
		nc := dialRaw(t, s.RESPAddr())
		io.WriteString(nc, "*2\r\n$3\r\nGET\r\n$1073741824\r\n")
		if got := string(expectClosed(t, nc)); got != "-ERR Protocol error: invalid bulk length\r\n" {
			t.Fatalf("reply %q", got)
		}
	})
	t.Run("resp-total", func(t *testing.T) {
		nc := dialRaw(t, s.RESPAddr())
		// Many bulks each under the limit but together over it.
		io.WriteString(nc, "*100\r\n")
		chunk := "$900000\r\n" + strings.Repeat("x", 900000) + "\r\n"
		for range 3 {
			if _, err := io.WriteString(nc, chunk); err != nil {
				break
			}
		}
		if got := string(expectClosed(t, nc)); !strings.HasPrefix(got, "-ERR Protocol error") {
			t.Fatalf("reply %q", got)
		}
	})
}

func TestMalformedInputClosesOnlyThatConnection(t *testing.T) {
	s := startServer(t, Config{})
	good := dialRESP(t, s.RESPAddr())
	good.do(mb("SET", "k", "v"), "+OK")
	bad := []struct {
		name, addr string
		in         []byte
		wantPrefix string
	}{
		{"resp-multibulk", s.RESPAddr(), []byte("*x\r\n"), "-ERR Protocol error: invalid multibulk length"},
		{"resp-dollar", s.RESPAddr(), []byte("*1\r\n+GET\r\n"), "-ERR Protocol error: expected '$'"},
		{"resp-terminator", s.RESPAddr(), []byte("*1\r\n$3\r\nGETxx"), "-ERR Protocol error: bulk string not terminated by CRLF"},
		{"resp-quotes", s.RESPAddr(), []byte("GET \"k\r\n"), "-ERR Protocol error: unbalanced quotes"},
		{"binary-magic", s.Addr(), []byte("GET k\r\n\r\n\r\n\r\n\r\n\r\n"), ""},
		{"binary-lengths", s.Addr(), wire.AppendHeader(nil, wire.Header{Opcode: wire.OpGet, KeyLen: 10, BodyLen: 2}), ""},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			nc := dialRaw(t, tc.addr)
			nc.Write(tc.in)
			got := expectClosed(t, nc)
			if tc.wantPrefix != "" && !bytes.HasPrefix(got, []byte(tc.wantPrefix)) {
				t.Fatalf("reply %q", got)
			}
			if tc.wantPrefix == "" {
				f, _, err := wire.Decode(got, 1<<20)
				if err != nil || f.Status != wire.StatusBadRequest {
					t.Fatalf("reply %q: %+v %v", got, f.Header, err)
				}
			}
			good.do(mb("GET", "k"), "$v")
		})
	}
}

func TestConnectionLimit(t *testing.T) {
	s := startServer(t, Config{MaxConns: 3})
	for range 3 {
		c := dialRESP(t, s.RESPAddr())
		c.do(mb("PING"), "+PONG")
	}
	nc := dialRaw(t, s.RESPAddr())
	if got := string(expectClosed(t, nc)); got != "-ERR max number of clients reached\r\n" {
		t.Fatalf("over the limit: %q", got)
	}
	nb := dialRaw(t, s.Addr())
	f, _, _ := wire.Decode(expectClosed(t, nb), 1<<20)
	if f.Status != wire.StatusBusy {
		t.Fatalf("binary over the limit: %+v", f.Header)
	}
}

func TestIdleTimeout(t *testing.T) {
	// The active connection speaks ten times per timeout, so a loaded
	// machine delaying one ping does not make it look idle.
	s := startServer(t, Config{IdleTimeout: time.Second})
	active := dialRESP(t, s.RESPAddr())
	idle := dialRaw(t, s.RESPAddr())
	start := time.Now()
	done := make(chan struct{})
	go func() {
		defer close(done)
		expectClosed(t, idle)
	}()
	for time.Since(start) < 2500*time.Millisecond {
		active.do(mb("PING"), "+PONG")
		time.Sleep(100 * time.Millisecond)
	}
	<-done
	active.do(mb("PING"), "+PONG")
}

func TestAuthBothProtocols(t *testing.T) {
	s := startServer(t, Config{Secret: []byte("pw")})
	c := dialRESP(t, s.RESPAddr())
	c.do(mb("GET", "k"), "-NOAUTH Authentication required.")
	c.do(mb("AUTH", "nope"), "-WRONGPASS invalid username-password pair or user is disabled.")
	c.do(mb("AUTH", "default", "pw"), "+OK")
	c.do(mb("GET", "k"), "(nil)")
	h := dialRESP(t, s.RESPAddr())
	h.send(mb("HELLO", "2", "AUTH", "default", "pw"))
	if got := h.reply(); !strings.HasPrefix(got, "[$server $redis") {
		t.Fatalf("HELLO AUTH = %q", got)
	}

	nc := dialRaw(t, s.Addr())
	nc.SetDeadline(time.Now().Add(5 * time.Second))
	roundTrip := func(req []byte) wire.Frame {
		t.Helper()
		nc.Write(req)
		var hdr [wire.HeaderSize]byte
		if _, err := io.ReadFull(nc, hdr[:]); err != nil {
			t.Fatal(err)
		}
		body := make([]byte, binary.BigEndian.Uint32(hdr[16:]))
		io.ReadFull(nc, body)
		f, _, err := wire.Decode(append(hdr[:], body...), 1<<20)
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	if f := roundTrip(wire.AppendGet(nil, 1, []byte("k"))); f.Status != wire.StatusAuthRequired {
		t.Fatalf("unauthenticated get: %v", f.Status)
	}
	if f := roundTrip(wire.AppendAuth(nil, 2, []byte("bad"))); f.Status != wire.StatusAuthFailed {
		t.Fatalf("bad auth: %v", f.Status)
	}
	if f := roundTrip(wire.AppendAuth(nil, 3, []byte("pw"))); f.Status != wire.StatusOK {
		t.Fatalf("auth: %v", f.Status)
	}
	if f := roundTrip(wire.AppendGet(nil, 4, []byte("k"))); f.Status != wire.StatusNotFound || f.ID != 4 {
		t.Fatalf("get after auth: %+v", f.Header)
	}
}

func TestSlowReaderDoesNotStallOthers(t *testing.T) {
	tests := []struct {
		name   string
		cfg    Config
		rounds int // of 64 GETs of 256 KiB
	}{
		// Replies pile up past MaxOutbound: closed at once. A client
		// with a batch (1 MiB) of unsent replies gets no more commands
		// served until it reads, so only a limit under one batch is
		// passed before the slow timeout.
		{"outbound limit", Config{MaxOutbound: 1 << 20, EventLoops: 1}, 16},
		// Replies stay unsent past SlowTimeout: closed by the ticker.
		{"slow timeout", Config{MaxOutbound: 1 << 30, SlowTimeout: 300 * time.Millisecond, EventLoops: 1}, 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := startServer(t, tc.cfg)
			fast := dialRESP(t, s.RESPAddr())
			fast.do(mb("SET", "big", strings.Repeat("x", 256<<10)), "+OK")
			// The slow client asks for megabytes of replies and reads none
			// of them. One event loop serves both clients, so a
			// blocking write would stall the fast one.
			slow := dialRaw(t, s.RESPAddr())
			go func() {
				req := []byte(strings.Repeat(mb("GET", "big"), 64))
				for range tc.rounds {
					if _, err := slow.Write(req); err != nil {
						return
					}
				}
			}()
			deadline := time.Now().Add(5 * time.Second)
			for s.slowKills.Load() == 0 && time.Now().Before(deadline) {
				fast.do(mb("PING"), "+PONG")
			}
			if s.slowKills.Load() == 0 {
				t.Fatal("the slow reader was never disconnected")
			}
			fast.do(mb("GET", "absent"), "(nil)")
		})
	}
}
