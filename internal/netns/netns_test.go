package netns

import (
	"fmt"
	"net"
	"os"
	"testing"
	"time"
)

func TestNamespaceLifecycleDoAndDialer(t *testing.T) {
	if err := Available(); err != nil {
		t.Skipf("netns: %v", err)
	}
	ns := fmt.Sprintf("lbu-nt-%d", os.Getpid())
	if err := Add(ns); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { Delete(ns) })
	if !Exists(ns) {
		t.Fatal("namespace not found after Add")
	}
	if l, _ := List(ns); len(l) != 1 || l[0] != ns {
		t.Fatalf("List(%q) = %v", ns, l)
	}
	// A listener made inside the namespace is not reachable from here,
	// and a Dialer for the namespace reaches it.
	var ln net.Listener
	if err := Do(ns, func() (err error) {
		ln, err = net.Listen("tcp", "127.0.0.1:0")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Write([]byte("x"))
			c.Close()
		}
	}()
	if c, err := net.DialTimeout("tcp", ln.Addr().String(), 300*time.Millisecond); err == nil {
		// Another process may hold the same port on the host loopback;
		// then the byte tells the namespaces apart.
		c.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
		b := make([]byte, 1)
		if n, _ := c.Read(b); n == 1 && b[0] == 'x' {
			c.Close()
			t.Fatal("listener inside the namespace answered from the host namespace")
		}
		c.Close()
	}
	d, err := NewDialer(ns)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	c, err := d.DialContext(t.Context(), "tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	b := make([]byte, 1)
	c.SetReadDeadline(time.Now().Add(2 * time.Second))
	if _, err := c.Read(b); err != nil || b[0] != 'x' {
		t.Fatalf("read through the namespace dialer: %q %v", b, err)
	}
	if err := Delete(ns); err != nil {
		t.Fatal(err)
	}
	if Exists(ns) {
		t.Fatal("namespace still there after Delete")
	}
}
