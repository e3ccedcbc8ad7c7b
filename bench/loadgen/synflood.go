package loadgen

import (
	"context"
	"encoding/binary"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// SynFlood sends TCP SYNs to dst as fast as one raw socket per worker
// allows, cycling over flows source ports, for d. It measures how many
// packets a load balancer forwards per second when the offered load is as
// high as this host can make it; the caller counts what arrives. It needs
// CAP_NET_RAW and is meant to run inside a test bed's client namespace.
func SynFlood(ctx context.Context, dst netip.AddrPort, flows, workers int, d time.Duration) (uint64, error) {
	if !dst.Addr().Is4() || flows < 1 || flows > 60000 || workers < 1 || d <= 0 {
		return 0, fmt.Errorf("%w: syn flood to %v, %d flows, %d workers, %v", ErrBadLoad, dst, flows, workers, d)
	}
	src, err := sourceFor(dst)
	if err != nil {
		return 0, err
	}
	packets := make([][]byte, flows)
	for i := range packets {
		packets[i] = synPacket(src, dst, uint16(10000+i))
	}
	sa := &syscall.SockaddrInet4{Addr: dst.Addr().As4()}
	var sent atomic.Uint64
	var firstErr atomic.Value
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_RAW, syscall.IPPROTO_RAW)
		if err != nil {
			return 0, fmt.Errorf("raw socket (needs CAP_NET_RAW): %w", err)
		}
		wg.Add(1)
		go func(fd, w int) {
			defer wg.Done()
			defer func() { _ = syscall.Close(fd) }()
			var n uint64
			for i := w; ctx.Err() == nil; i++ {
				// Check the clock only now and then; sendto is the hot path.
				for j := 0; j < 64; j++ {
					if err := syscall.Sendto(fd, packets[(i*64+j)%flows], 0, sa); err != nil {
						if err == syscall.ENOBUFS || err == syscall.EAGAIN {
							continue
						}
						firstErr.CompareAndSwap(nil, err)
						cancel()
						break
					}
					n++
				}
			}
			sent.Add(n)
		}(fd, w)
	}
	wg.Wait()
	if err, _ := firstErr.Load().(error); err != nil {
		return sent.Load(), fmt.Errorf("syn flood: %w", err)
	}
	return sent.Load(), nil
}

// sourceFor asks the routing table which local address reaches dst.
func sourceFor(dst netip.AddrPort) (netip.Addr, error) {
	c, err := net.Dial("udp4", dst.String())
	if err != nil {
		return netip.Addr{}, fmt.Errorf("route to %v: %w", dst, err)
	}
	defer func() { _ = c.Close() }()
	return c.LocalAddr().(*net.UDPAddr).AddrPort().Addr().Unmap(), nil
}

// synPacket builds an IPv4 TCP SYN with valid checksums (conntrack drops
// packets with bad ones).
func synPacket(src netip.Addr, dst netip.AddrPort, sport uint16) []byte {
	p := make([]byte, 40)
	ip, tcp := p[:20], p[20:]
	ip[0] = 0x45
	binary.BigEndian.PutUint16(ip[2:], 40)
	binary.BigEndian.PutUint16(ip[6:], 0x4000) // don't fragment
	ip[8] = 64
	ip[9] = syscall.IPPROTO_TCP
	s4, d4 := src.As4(), dst.Addr().As4()
	copy(ip[12:16], s4[:])
	copy(ip[16:20], d4[:])
	binary.BigEndian.PutUint16(ip[10:], checksum(ip, 0))
	binary.BigEndian.PutUint16(tcp[0:], sport)
	binary.BigEndian.PutUint16(tcp[2:], dst.Port())
	binary.BigEndian.PutUint32(tcp[4:], uint32(sport)*7919)
	tcp[12] = 5 << 4
	tcp[13] = 0x02 // SYN
	binary.BigEndian.PutUint16(tcp[14:], 64240)
	// Pseudo-header: source, destination, protocol, TCP length.
	var pseudo uint32
	for i := 0; i < 4; i += 2 {
		pseudo += uint32(binary.BigEndian.Uint16(s4[i:])) + uint32(binary.BigEndian.Uint16(d4[i:]))
	}
	pseudo += syscall.IPPROTO_TCP + 20
	binary.BigEndian.PutUint16(tcp[16:], checksum(tcp, pseudo))
	return p
}

// checksum is the Internet checksum of b, starting from sum.
func checksum(b []byte, sum uint32) uint16 {
	for i := 0; i+1 < len(b); i += 2 {
		sum += uint32(binary.BigEndian.Uint16(b[i:]))
	}
	if len(b)%2 == 1 {
		sum += uint32(b[len(b)-1]) << 8
	}
	for sum > 0xffff {
		sum = sum&0xffff + sum>>16
	}
	return ^uint16(sum)
}
