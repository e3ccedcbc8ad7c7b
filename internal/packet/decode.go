package packet

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
)

// Errors returned by Decode.
var (
	ErrTruncated = errors.New("packet: truncated")
	ErrMalformed = errors.New("packet: malformed")
)

// maxNesting bounds IP-in-IP nesting while decoding.
const maxNesting = 4

// IPHeader is one decoded IP header.
type IPHeader struct {
	Src, Dst netip.Addr
	Proto    uint8 // IPv4 protocol or IPv6 next header (after a fragment header)
	TTL      uint8 // or hop limit
	TOS      uint8 // or traffic class
	// Len is the IPv4 total length or IPv6 payload length, as written.
	Len        int
	HeaderLen  int
	ChecksumOK bool // IPv4 header checksum; always true for IPv6
	FlowLabel  uint32
	Fragment   bool
}

// Decoded is a decoded frame. IP holds every IP header, outermost first, so
// an IPIP packet has two.
type Decoded struct {
	DstMAC, SrcMAC   net.HardwareAddr
	VLANs            []uint16
	EtherType        uint16
	IP               []IPHeader
	SrcPort, DstPort uint16
	// L4ChecksumOK is the TCP/UDP checksum verdict of the innermost packet.
	L4ChecksumOK bool
	Payload      []byte
}

// Inner is the innermost IP header.
func (d *Decoded) Inner() IPHeader { return d.IP[len(d.IP)-1] }

// Decode parses a frame down to the innermost transport header.
func Decode(frame []byte) (*Decoded, error) {
	if len(frame) < ethHeaderLen {
		return nil, fmt.Errorf("%w: %d bytes of Ethernet", ErrTruncated, len(frame))
	}
	d := &Decoded{
		DstMAC: net.HardwareAddr(frame[0:6]),
		SrcMAC: net.HardwareAddr(frame[6:12]),
	}
	off := 12
	etype := binary.BigEndian.Uint16(frame[off:])
	for etype == EtherTypeVLAN || etype == EtherTypeQinQ {
		if len(d.VLANs) >= 2 || len(frame) < off+2+vlanHeaderLen {
			return nil, fmt.Errorf("%w: VLAN tags", ErrTruncated)
		}
		d.VLANs = append(d.VLANs, binary.BigEndian.Uint16(frame[off+2:]))
		off += vlanHeaderLen
		etype = binary.BigEndian.Uint16(frame[off:])
	}
	d.EtherType = etype
	rest := frame[off+2:]
	switch etype {
	case EtherTypeIPv4, EtherTypeIPv6:
	default:
		d.Payload = rest
		return d, nil
	}
	for range maxNesting {
		h, payload, err := decodeIP(rest)
		if err != nil {
			return nil, err
		}
		d.IP = append(d.IP, h)
		rest = payload
		if h.Fragment || (h.Proto != ProtoIPIP && h.Proto != ProtoIPv6) {
			err := d.decodeL4(h, rest)
			return d, err
		}
	}
	return nil, fmt.Errorf("%w: more than %d nested IP headers", ErrMalformed, maxNesting)
}

func decodeIP(b []byte) (IPHeader, []byte, error) {
	if len(b) < 1 {
		return IPHeader{}, nil, fmt.Errorf("%w: IP header", ErrTruncated)
	}
	switch b[0] >> 4 {
	case 4:
		if len(b) < ipv4HeaderLen {
			return IPHeader{}, nil, fmt.Errorf("%w: IPv4 header", ErrTruncated)
		}
		hl := int(b[0]&0xf) * 4
		total := int(binary.BigEndian.Uint16(b[2:]))
		if hl < ipv4HeaderLen || total < hl {
			return IPHeader{}, nil, fmt.Errorf("%w: IPv4 header length %d, total %d", ErrMalformed, hl, total)
		}
		if len(b) < total {
			return IPHeader{}, nil, fmt.Errorf("%w: IPv4 total length %d, have %d", ErrTruncated, total, len(b))
		}
		fo := binary.BigEndian.Uint16(b[6:])
		h := IPHeader{
			Src:        netip.AddrFrom4([4]byte(b[12:16])),
			Dst:        netip.AddrFrom4([4]byte(b[16:20])),
			Proto:      b[9],
			TTL:        b[8],
			TOS:        b[1],
			Len:        total,
			HeaderLen:  hl,
			ChecksumOK: Checksum(b[:hl], 0) == 0,
			Fragment:   fo&0x3fff != 0,
		}
		return h, b[hl:total], nil
	case 6:
		if len(b) < ipv6HeaderLen {
			return IPHeader{}, nil, fmt.Errorf("%w: IPv6 header", ErrTruncated)
		}
		plen := int(binary.BigEndian.Uint16(b[4:]))
		if len(b) < ipv6HeaderLen+plen {
			return IPHeader{}, nil, fmt.Errorf("%w: IPv6 payload length %d, have %d", ErrTruncated, plen, len(b)-ipv6HeaderLen)
		}
		w := binary.BigEndian.Uint32(b)
		h := IPHeader{
			Src:        netip.AddrFrom16([16]byte(b[8:24])),
			Dst:        netip.AddrFrom16([16]byte(b[24:40])),
			Proto:      b[6],
			TTL:        b[7],
			TOS:        uint8(w >> 20),
			Len:        plen,
			HeaderLen:  ipv6HeaderLen,
			ChecksumOK: true,
			FlowLabel:  w & 0xfffff,
		}
		payload := b[ipv6HeaderLen : ipv6HeaderLen+plen]
		if h.Proto == ProtoFragment {
			if len(payload) < fragHeaderLen {
				return IPHeader{}, nil, fmt.Errorf("%w: IPv6 fragment header", ErrTruncated)
			}
			h.Proto = payload[0]
			h.Fragment = true
			payload = payload[fragHeaderLen:]
		}
		return h, payload, nil
	}
	return IPHeader{}, nil, fmt.Errorf("%w: IP version %d", ErrMalformed, b[0]>>4)
}

func (d *Decoded) decodeL4(h IPHeader, b []byte) error {
	switch {
	case h.Fragment:
	case h.Proto == ProtoTCP && len(b) >= tcpHeaderLen, h.Proto == ProtoUDP && len(b) >= udpHeaderLen:
		d.SrcPort = binary.BigEndian.Uint16(b[0:])
		d.DstPort = binary.BigEndian.Uint16(b[2:])
		d.L4ChecksumOK = L4Checksum(h.Src, h.Dst, h.Proto, b) == 0
		hl := udpHeaderLen
		if h.Proto == ProtoTCP {
			hl = int(b[12]>>4) * 4
			if hl < tcpHeaderLen || hl > len(b) {
				return fmt.Errorf("%w: TCP data offset %d", ErrMalformed, hl)
			}
		}
		b = b[hl:]
	case h.Proto == ProtoTCP, h.Proto == ProtoUDP:
		return fmt.Errorf("%w: transport header", ErrTruncated)
	}
	d.Payload = b
	return nil
}
