package facade

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/valyala/fasthttp"
)

// IdempotencyHeader is the request header naming an idempotency key.
const IdempotencyHeader = "Idempotency-Key"

// IdempotencyConfig shapes idempotency keys. Zero values take the defaults.
type IdempotencyConfig struct {
	// TTL is how long a finished request's answer is kept for replay
	// (default 10m).
	TTL time.Duration
	// KeyPrefix prefixes the records in the state tier (default "idem:").
	KeyPrefix string
}

// Idempotency makes POST requests that carry an Idempotency-Key safe to
// retry: the first request with a key runs and its answer is stored in the
// state tier; later requests with the same key (on any node) get the stored
// answer replayed (Idempotent-Replayed: true) instead of running again. A
// request whose key is still running gets 409; one that reuses a key with a
// different body gets 422. Answers of 500 and above are not kept, so a
// failed request may be retried for real. Requests without the header pass
// through untouched.
type Idempotency struct {
	store Store
	cfg   IdempotencyConfig
}

var _ Middleware = (*Idempotency)(nil)

// maxIdempotencyKey bounds the key's length.
const maxIdempotencyKey = 128

// replayed headers: what the client must see again for the answer to mean
// the same (a new session's cookie among them).
var replayHeaders = []string{fasthttp.HeaderContentType, fasthttp.HeaderCacheControl, fasthttp.HeaderSetCookie}

// NewIdempotency returns the middleware over store.
func NewIdempotency(store Store, cfg IdempotencyConfig) (*Idempotency, error) {
	if store == nil {
		return nil, ErrNoStore
	}
	if cfg.TTL <= 0 {
		cfg.TTL = 10 * time.Minute
	}
	if cfg.KeyPrefix == "" {
		cfg.KeyPrefix = "idem:"
	}
	return &Idempotency{store: store, cfg: cfg}, nil
}

// Record states.
const (
	idemPending byte = 'P'
	idemDone    byte = 'D'
)

// Wrap implements Middleware.
func (m *Idempotency) Wrap(next Handler) Handler {
	return func(c *Ctx) error {
		key := c.rc.Request.Header.Peek(IdempotencyHeader)
		if len(key) == 0 || !c.rc.IsPost() {
			return next(c)
		}
		if !validToken(key, maxIdempotencyKey) {
			return Errorf(fasthttp.StatusBadRequest, "%s must be 1-%d visible characters", IdempotencyHeader, maxIdempotencyKey)
		}
		skey := make([]byte, 0, len(m.cfg.KeyPrefix)+len(c.route.Pattern)+1+len(key))
		skey = append(append(append(append(skey, m.cfg.KeyPrefix...), c.route.Pattern...), ' '), key...)
		sum := sha256.Sum256(c.rc.Request.Body())

		pending := append([]byte{idemPending}, sum[:]...)
		won, err := m.store.SetNX(c.Context(), skey, pending, c.Remaining()+time.Second)
		if err != nil {
			return fmt.Errorf("idempotency: %w", err)
		}
		if !won {
			return m.replay(c, skey, sum)
		}
		if err := next(c); err != nil {
			_, _ = m.store.Delete(c.Context(), skey)
			return err
		}
		if c.rc.Response.StatusCode() >= fasthttp.StatusInternalServerError {
			_, _ = m.store.Delete(c.Context(), skey)
			return nil
		}
		if err := m.store.Set(c.Context(), skey, encodeAnswer(sum, &c.rc.Response), m.cfg.TTL); err != nil {
			// The answer stands; a retry with this key will be refused as
			// in progress until the pending record expires.
			return nil
		}
		return nil
	}
}

func (m *Idempotency) replay(c *Ctx, skey []byte, sum [32]byte) error {
	rec, err := m.store.Get(c.Context(), skey)
	if errors.Is(err, ErrNotFound) {
		return Errorf(fasthttp.StatusConflict, "request with this %s just finished; retry", IdempotencyHeader)
	}
	if err != nil {
		return fmt.Errorf("idempotency: %w", err)
	}
	if len(rec) < 1+32 {
		return errors.New("idempotency: stored record too short")
	}
	if !bytes.Equal(rec[1:33], sum[:]) {
		return Errorf(fasthttp.StatusUnprocessableEntity, "%s reused with a different body", IdempotencyHeader)
	}
	if rec[0] == idemPending {
		c.rc.Response.Header.SetCanonical(headerRetryAfter, c.app.retryAfter)
		return Errorf(fasthttp.StatusConflict, "request with this %s is in progress", IdempotencyHeader)
	}
	if err := decodeAnswer(rec[33:], &c.rc.Response); err != nil {
		return fmt.Errorf("idempotency: %w", err)
	}
	c.rc.Response.Header.Set("Idempotent-Replayed", "true")
	return nil
}

// encodeAnswer: 'D', body hash, status u16, header count u8, then per header
// name and value with u16 lengths, then the body.
func encodeAnswer(sum [32]byte, r *fasthttp.Response) []byte {
	b := append([]byte{idemDone}, sum[:]...)
	b = binary.BigEndian.AppendUint16(b, uint16(r.StatusCode()))
	var hdrs [][2][]byte
	for _, name := range replayHeaders {
		if name == fasthttp.HeaderSetCookie {
			for _, v := range r.Header.Cookies() {
				hdrs = append(hdrs, [2][]byte{[]byte(name), append([]byte(nil), v...)})
			}
			continue
		}
		if v := r.Header.Peek(name); len(v) > 0 {
			hdrs = append(hdrs, [2][]byte{[]byte(name), v})
		}
	}
	b = append(b, byte(len(hdrs)))
	for _, h := range hdrs {
		for _, part := range h {
			b = binary.BigEndian.AppendUint16(b, uint16(len(part)))
			b = append(b, part...)
		}
	}
	return append(b, r.Body()...)
}

var errBadRecord = errors.New("stored answer is malformed")

func decodeAnswer(b []byte, r *fasthttp.Response) error {
	if len(b) < 3 {
		return errBadRecord
	}
	status := int(binary.BigEndian.Uint16(b))
	n := int(b[2])
	b = b[3:]
	r.ResetBody()
	r.Header.DelAllCookies()
	ck := fasthttp.AcquireCookie()
	defer fasthttp.ReleaseCookie(ck)
	for i := 0; i < n; i++ {
		var kv [2][]byte
		for j := range kv {
			if len(b) < 2 {
				return errBadRecord
			}
			l := int(binary.BigEndian.Uint16(b))
			if len(b) < 2+l {
				return errBadRecord
			}
			kv[j], b = b[2:2+l], b[2+l:]
		}
		if string(kv[0]) == fasthttp.HeaderSetCookie {
			if err := ck.ParseBytes(kv[1]); err != nil {
				return errBadRecord
			}
			r.Header.SetCookie(ck)
		} else {
			r.Header.SetBytesV(string(kv[0]), kv[1])
		}
	}
	r.SetStatusCode(status)
	r.SetBody(b)
	return nil
}
