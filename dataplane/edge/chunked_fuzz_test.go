package edge

import (
	"bufio"
	"bytes"
	"testing"

	"github.com/strata-dp/strata/internal/bodybuf"
	"github.com/valyala/fasthttp"
)

// FuzzChunkedBody checks the edge's chunked decoder against fasthttp's,
// whose grammar it follows: whenever the edge accepts a body, fasthttp
// decodes the same bytes and stops at the same offset (else a pipelined
// request behind it would be read differently), unless the body has a
// trailer section, which the edge drops without parsing its fields; and
// whenever fasthttp accepts a body without trailers, so does the edge.
func FuzzChunkedBody(f *testing.F) {
	for _, s := range []string{
		"5\r\nhello\r\n0\r\n\r\n",
		"5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\n\r\nGET / HTTP/1.1\r\n",
		"A\r\n0123456789\r\n0\r\nX-T: 1\r\n\r\n",
		"5 ;x\r\nhello\r\n0\r\n\r\n",
		"5 \r\nhello\r\n0\r\n\r\n",
		"5\nhello\r\n0\r\n\r\n",
		"0005\r\nhello\r\n0\r\n\r\n",
		"1000000000000000\r\n",
		"5;a\rb\r\nhello\r\n0\r\n\r\n",
		"5\r\nhelloXX0\r\n\r\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		const limit = 1 << 16
		e := &Edge{cfg: Config{MaxBodyBytes: limit, MaxHeaderBytes: 16 << 10}, bodyBudget: bodybuf.NewBudget(1 << 30)}
		src := bytes.NewReader(data)
		c := &conn{e: e, br: bufio.NewReaderSize(src, 16<<10)}
		err := c.readChunks()
		trailers := false
		if err == nil {
			before := c.br.Buffered() + src.Len()
			err = c.skipTrailer()
			trailers = before-(c.br.Buffered()+src.Len()) != 2
		}
		consumed := len(data) - src.Len() - c.br.Buffered()
		body := append([]byte(nil), c.body.B...)
		c.body.Release()

		var req fasthttp.Request
		head := "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
		rsrc := bytes.NewReader(append([]byte(head), data...))
		rbr := bufio.NewReaderSize(rsrc, 16<<10)
		ferr := req.ReadLimitBody(rbr, limit)
		fconsumed := len(head) + len(data) - rsrc.Len() - rbr.Buffered() - len(head)

		switch {
		case err == nil && ferr == nil:
			if !bytes.Equal(body, req.Body()) {
				t.Fatalf("edge decoded %q, fasthttp %q", body, req.Body())
			}
			if consumed != fconsumed {
				t.Fatalf("edge consumed %d bytes, fasthttp %d", consumed, fconsumed)
			}
		case err == nil && !trailers:
			t.Fatalf("edge accepted %q (%q), fasthttp refused: %v", data, body, ferr)
		case ferr == nil && err != nil && !trailers:
			t.Fatalf("fasthttp accepted %q (%q), the edge refused: %v", data, req.Body(), err)
		}
	})
}
