package state

import (
	"bytes"
	"testing"
)

// The record layout is what a bucket holds in memory; the golden bytes pin
// every offset of the header, so renaming or moving one shows here.
func TestRecordLayout(t *testing.T) {
	m := Meta{Version: Version{Epoch: 0x01020304, Seq: 0x05060708090a0b0c}, ExpireAt: 0x0d0e0f1011121314, Flags: 0x15}
	got := appendRecord(nil, []byte("k"), []byte("vv"), m)
	want := []byte{
		0x01, 0x00, // key length
		0x02, 0x00, 0x00, 0x00, // value length
		0x04, 0x03, 0x02, 0x01, // epoch
		0x0c, 0x0b, 0x0a, 0x09, 0x08, 0x07, 0x06, 0x05, // sequence
		0x14, 0x13, 0x12, 0x11, 0x10, 0x0f, 0x0e, 0x0d, // expiry
		0x15,     // flags
		'k',      // key
		'v', 'v', // value
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("record\n got % x\nwant % x", got, want)
	}
	if len(got) != recordSize(1, 2) {
		t.Fatalf("recordSize(1, 2) = %d, record is %d bytes", recordSize(1, 2), len(got))
	}
	r, ok := parseRecord(got)
	if !ok || string(r.key) != "k" || string(r.val) != "vv" || r.meta != m || r.size != len(got) {
		t.Fatalf("parseRecord = %+v, %v", r, ok)
	}

	// Rewriting the header in place (Set's fast path) and the value length
	// (Append) touch only their fields.
	m2 := Meta{Version: Version{Epoch: 7, Seq: 8}, ExpireAt: 9, Flags: 1}
	putMeta(got, m2)
	patchValueLen(got, 1)
	r, ok = parseRecord(got)
	if !ok || string(r.key) != "k" || string(r.val) != "v" || r.meta != m2 {
		t.Fatalf("after putMeta and patchValueLen: %+v, %v", r, ok)
	}
}
