// Package slot maps keys to the 16384 hash slots of Redis Cluster (CRC16
// XMODEM of the key, or of its {hash tag}), and slots to nodes. The state
// client uses it to spread keys over nodes (Owner) and the control plane to
// show which node holds which slots (Range): both must come from here, or
// an operator looks for a key where no client put it. The RESP server will
// use it for CLUSTER SLOTS and MOVED when the state tier is clustered.
package slot

// Count is the number of hash slots.
const Count = 16384

var table [256]uint16

func init() {
	for i := range table {
		crc := uint16(i) << 8
		for range 8 {
			if crc&0x8000 != 0 {
				crc = crc<<1 ^ 0x1021
			} else {
				crc <<= 1
			}
		}
		table[i] = crc
	}
}

// CRC16 is CRC-16/XMODEM (polynomial 0x1021, initial value 0), as Redis uses.
func CRC16(b []byte) uint16 {
	var crc uint16
	for _, c := range b {
		crc = crc<<8 ^ table[byte(crc>>8)^c]
	}
	return crc
}

// HashTag returns the part of key that is hashed: the bytes between the
// first '{' and the next '}' when that is non-empty, else the whole key.
func HashTag(key []byte) []byte {
	for i, c := range key {
		if c != '{' {
			continue
		}
		for j := i + 1; j < len(key); j++ {
			if key[j] == '}' {
				if j == i+1 {
					return key
				}
				return key[i+1 : j]
			}
		}
		return key
	}
	return key
}

// Of returns the slot of key.
func Of(key []byte) uint16 { return CRC16(HashTag(key)) & (Count - 1) }

// Owner returns which of n nodes owns slot s when the slots are split into n
// equal contiguous ranges, in node order.
func Owner(s uint16, n int) int {
	if n <= 1 {
		return 0
	}
	return int(s) * n / Count
}

// Range returns the first and last slot node i of n owns: exactly the slots
// s with Owner(s, n) == i (node i's range starts at ceil(i*Count/n)). n must
// be at least 1 and at most Count.
func Range(i, n int) (first, last uint16) {
	lo := (i*Count + n - 1) / n
	hi := ((i+1)*Count+n-1)/n - 1
	return uint16(lo), uint16(hi)
}
