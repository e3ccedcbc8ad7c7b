// Package accesslog writes sampled, structured access logs (one JSON object
// per line) off the request path.
//
// A request hands its fields to Writer.Log, which copies them into a
// preallocated ring of fixed-size records and returns: no allocation, no
// lock, no system call. One goroutine formats and writes the records. When
// the ring is full the record is dropped and counted, so a slow disk or a
// blocked stdout costs log lines, never request latency.
//
// What is dangerous: the ring is fixed memory (QueueLen records of about
// 1.2 KiB each, allocated when the Writer is made), text fields longer
// than a record's share are truncated (and the line says so), and records
// still queued when the process dies without Close are lost.
package accesslog
