package edge

import (
	"bufio"
	"bytes"
	"errors"
)

// Request bodies are read into memory that grows only as bytes arrive
// (internal/bodybuf): a client's Content-Length or chunk size is a claim,
// not a reason to allocate. fasthttp's ContinueReadBody made a buffer of
// the declared size at once and pooled it afterwards, so 250 connections
// each declaring 8 MB and sending nothing took the edge to 2 GB (red team,
// 1 Dec 2026). Every buffer held is charged to a node-wide budget
// (MaxBodyBuffer) until the answer is flushed.

// Errors of reading a request body; each is answered and closes.
var (
	errBodyTooLarge = errors.New("edge: request body over the limit")
	errBodyBudget   = errors.New("edge: request body buffer budget spent")
	errBadChunk     = errors.New("edge: malformed chunked request body")
)

// releaseBody returns the request's body buffer and its budget once the
// request is answered, and unhooks it from c.req so that an idle
// connection holds nothing.
func (c *conn) releaseBody() {
	if c.body.B == nil {
		return
	}
	c.req.ResetBody()
	c.body.Release()
}

// readBodyBytes appends n bytes from br to c.body, growing it only after
// bytes have arrived: at most what the reader holds at a time.
func (c *conn) readBodyBytes(br *bufio.Reader, n, limit int) error {
	for n > 0 {
		if br.Buffered() == 0 {
			if _, err := br.Peek(1); err != nil {
				return err
			}
		}
		k := min(n, br.Buffered())
		if !c.body.Grow(len(c.body.B)+k, limit, c.e.bodyBudget) {
			return errBodyBudget
		}
		l := len(c.body.B)
		c.body.B = c.body.B[:l+k]
		if _, err := br.Read(c.body.B[l:]); err != nil {
			return err // cannot happen: k bytes are buffered
		}
		n -= k
	}
	return nil
}

// readFixedBody reads a body of Content-Length n (at most MaxBodyBytes,
// checked by the caller).
func (c *conn) readFixedBody(n int) error {
	return c.readBodyBytes(c.br, n, n)
}

// readChunkedBody decodes a chunked body (RFC 9112 section 7.1) with the
// grammar fasthttp's parser accepts: hex size, optional whitespace, an
// extension after ';' (ignored), CRLF; CRLF after each chunk; the trailer
// section is read and dropped (its fields are not forwarded).
func (c *conn) readChunkedBody() error {
	if err := c.readChunks(); err != nil {
		return err
	}
	return c.skipTrailer()
}

// readChunks reads chunks up to and including the last-chunk line.
func (c *conn) readChunks() error {
	limit := c.e.cfg.MaxBodyBytes
	for {
		line, err := c.br.ReadSlice('\n')
		if err != nil {
			if errors.Is(err, bufio.ErrBufferFull) {
				return errBadChunk
			}
			return err
		}
		size, ok := parseChunkLine(line)
		if !ok {
			return errBadChunk
		}
		if size == 0 {
			return nil
		}
		if size > limit-len(c.body.B) {
			return errBodyTooLarge
		}
		if err := c.readBodyBytes(c.br, size, limit); err != nil {
			return err
		}
		if b, err := c.br.ReadByte(); err != nil || b != '\r' {
			return errOr(err, errBadChunk)
		}
		if b, err := c.br.ReadByte(); err != nil || b != '\n' {
			return errOr(err, errBadChunk)
		}
	}
}

func errOr(err, otherwise error) error {
	if err != nil {
		return err
	}
	return otherwise
}

// maxChunkDigits keeps a chunk size from overflowing an int.
const maxChunkDigits = 15

// parseChunkLine parses "SIZE[OWS][;ext]\r\n"; whitespace before ';' is
// refused, as fasthttp does, and the line's only CR must end it.
func parseChunkLine(line []byte) (int, bool) {
	if len(line) < 3 || line[len(line)-2] != '\r' || bytes.IndexByte(line, '\r') != len(line)-2 {
		return 0, false
	}
	line = line[:len(line)-2]
	size, i := 0, 0
	for ; i < len(line); i++ {
		d, ok := hexDigit(line[i])
		if !ok {
			break
		}
		if i == maxChunkDigits {
			return 0, false
		}
		size = size<<4 | d
	}
	if i == 0 {
		return 0, false
	}
	ows := false
	for ; i < len(line); i++ {
		switch line[i] {
		case ' ', '\t':
			ows = true
		case ';':
			return size, !ows
		default:
			return 0, false
		}
	}
	return size, true
}

func hexDigit(d byte) (int, bool) {
	switch {
	case '0' <= d && d <= '9':
		return int(d - '0'), true
	case 'a' <= d && d <= 'f':
		return int(d-'a') + 10, true
	case 'A' <= d && d <= 'F':
		return int(d-'A') + 10, true
	}
	return 0, false
}

// skipTrailer reads the trailer section up to its empty line, at most
// MaxHeaderBytes of it.
func (c *conn) skipTrailer() error {
	budget := c.e.cfg.MaxHeaderBytes
	for {
		line, err := c.br.ReadSlice('\n')
		if err != nil {
			if errors.Is(err, bufio.ErrBufferFull) {
				return errBadChunk
			}
			return err
		}
		if budget -= len(line); budget < 0 {
			return errBadChunk
		}
		if len(line) < 2 || line[len(line)-2] != '\r' {
			return errBadChunk
		}
		if len(line) == 2 {
			return nil
		}
	}
}
