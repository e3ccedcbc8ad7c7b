package server

import (
	"bufio"
	"io"
	"net"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestTenThousandIdleConnections(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns a server process and opens 10,000 connections")
	}
	const n = 10000
	if lim := raiseNoFile(); lim < n+200 {
		t.Skipf("RLIMIT_NOFILE is %d, need %d for %d client connections", lim, n+200, n)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), helperEnv+"=1")
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stdin.Close()
		cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	})
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "RESP=") {
		t.Fatalf("helper server did not start: %q %v", line, err)
	}
	addr := strings.TrimSpace(strings.TrimPrefix(line, "RESP="))

	conns := make([]net.Conn, n)
	t.Cleanup(func() {
		for _, c := range conns {
			if c != nil {
				c.Close()
			}
		}
	})
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	for w := range 32 {
		wg.Go(func() {
			for i := w; i < n; i += 32 {
				c, err := net.DialTimeout("tcp", addr, 5*time.Second)
				if err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
					return
				}
				conns[i] = c
			}
		})
	}
	wg.Wait()
	if firstErr != nil {
		t.Fatalf("dialling %d connections: %v", n, firstErr)
	}
	// A new client is served while 10,000 others sit idle, and the server
	// counts them all.
	c := dialRESP(t, addr)
	deadline := time.Now().Add(10 * time.Second)
	for {
		c.send(mb("INFO", "clients"))
		info := c.reply()
		if strings.Contains(info, "connected_clients:10001") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("server does not hold all connections: %q", info)
		}
		time.Sleep(100 * time.Millisecond)
	}
	// Idle connections are still usable: sample a few.
	for _, i := range []int{0, n / 2, n - 1} {
		conns[i].SetDeadline(time.Now().Add(5 * time.Second))
		io.WriteString(conns[i], mb("PING"))
		buf := make([]byte, 7)
		if _, err := io.ReadFull(conns[i], buf); err != nil || string(buf) != "+PONG\r\n" {
			t.Fatalf("connection %d: %q %v", i, buf, err)
		}
	}
}
