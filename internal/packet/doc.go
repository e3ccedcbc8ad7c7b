// Package packet builds and decodes Ethernet frames for tests of the XDP and
// tc programs: Ethernet with 802.1Q/802.1ad tags, IPv4 (with options and
// fragments) and IPv6 (with a fragment header), TCP, UDP, ICMP, and IPIP
// encapsulation. Builders always write correct checksums unless told not to;
// Decode verifies them, so a test can assert that a program's output is a
// valid packet and not just the bytes it expected.
//
// It is test and measurement tooling (bench/xdpmeasure builds its packets
// here), never imported by the data path, and not a data-path parser: it allocates freely and favours
// clear errors over speed. Decode is still fuzzed, because it reads whatever
// a program under test emits.
package packet
