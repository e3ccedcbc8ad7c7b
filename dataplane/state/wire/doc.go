// Package wire is Strata's binary state protocol, version 1 (specified in
// docs/PROTOCOL.md): fixed 20-byte headers, opcode-specific extras, key and
// value, request ids echoed in responses, in-order pipelining, batches.
//
// Encoders are Append functions that allocate nothing when dst has room.
// Decode only looks at bytes already received and refuses a frame whose
// announced length exceeds the limit from its header alone, before anything
// of that size exists; it is fuzzed (FuzzDecode) and checked against golden
// frames in testdata/.
package wire
