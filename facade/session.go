package facade

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"time"

	"github.com/valyala/fasthttp"
)

// SessionConfig shapes sessions. Zero values take the defaults.
type SessionConfig struct {
	// CookieName is the session cookie (default "strata_session").
	CookieName string
	// TTL is how long an untouched session lives (default 30m).
	TTL time.Duration
	// KeyPrefix prefixes session keys in the state tier (default "session:").
	KeyPrefix string
	// Secure marks the cookie Secure (set it when clients use HTTPS).
	Secure bool
}

// Sessions keep per-client state in the state tier under a random id carried
// in a cookie, so any facade node can serve any request of the session.
// Each stored value starts with the time it was last written; reads touch a
// session (rewrite it with a fresh TTL) once a quarter of its TTL has passed,
// so an active session stays alive without a write on every read.
type Sessions struct {
	store Store
	cfg   SessionConfig
}

// sessionIDLen is the length of a session id: 16 random bytes in hex.
const sessionIDLen = 32

// NewSessions returns sessions kept in store.
func NewSessions(store Store, cfg SessionConfig) (*Sessions, error) {
	if store == nil {
		return nil, ErrNoStore
	}
	if cfg.CookieName == "" {
		cfg.CookieName = "strata_session"
	}
	if cfg.TTL <= 0 {
		cfg.TTL = 30 * time.Minute
	}
	if cfg.KeyPrefix == "" {
		cfg.KeyPrefix = "session:"
	}
	return &Sessions{store: store, cfg: cfg}, nil
}

// ID returns the request's session id from its cookie. When the request has
// no valid session cookie and create is set, it makes a new id and sets the
// cookie on the response (isNew true); otherwise id is nil.
func (s *Sessions) ID(c *Ctx, create bool) (id []byte, isNew bool) {
	if v := c.rc.Request.Header.Cookie(s.cfg.CookieName); validSessionID(v) {
		return append([]byte(nil), v...), false
	}
	if !create {
		return nil, false
	}
	var raw [sessionIDLen / 2]byte
	_, _ = rand.Read(raw[:]) // crypto/rand.Read never fails on Linux
	id = hex.AppendEncode(nil, raw[:])
	s.setCookie(c, id)
	return id, true
}

func (s *Sessions) setCookie(c *Ctx, id []byte) {
	ck := fasthttp.AcquireCookie()
	defer fasthttp.ReleaseCookie(ck)
	ck.SetKey(s.cfg.CookieName)
	ck.SetValueBytes(id)
	ck.SetPath("/")
	ck.SetHTTPOnly(true)
	ck.SetSecure(s.cfg.Secure)
	ck.SetSameSite(fasthttp.CookieSameSiteLaxMode)
	ck.SetMaxAge(int(s.cfg.TTL / time.Second))
	c.rc.Response.Header.SetCookie(ck)
}

func validSessionID(v []byte) bool {
	if len(v) != sessionIDLen {
		return false
	}
	for _, ch := range v {
		if !('0' <= ch && ch <= '9' || 'a' <= ch && ch <= 'f') {
			return false
		}
	}
	return true
}

func (s *Sessions) key(id []byte) []byte {
	return append([]byte(s.cfg.KeyPrefix), id...)
}

// Get returns the session's data, or an error matching ErrNotFound when the
// session does not exist (expired, or never written). It touches the session
// when due.
func (s *Sessions) Get(c *Ctx, id []byte) ([]byte, error) {
	raw, err := s.store.Get(c.Context(), s.key(id))
	if err != nil {
		return nil, err
	}
	if len(raw) < 8 {
		return nil, errors.New("facade: session value too short")
	}
	written := time.Unix(0, int64(binary.BigEndian.Uint64(raw)))
	data := raw[8:]
	if time.Since(written) > s.cfg.TTL/4 {
		if err := s.Put(c, id, data); err != nil {
			return nil, err
		}
	}
	return data, nil
}

// Put stores the session's data with a fresh TTL and refreshes the cookie.
func (s *Sessions) Put(c *Ctx, id, data []byte) error {
	raw := make([]byte, 8, 8+len(data))
	binary.BigEndian.PutUint64(raw, uint64(time.Now().UnixNano()))
	raw = append(raw, data...)
	if err := s.store.Set(c.Context(), s.key(id), raw, s.cfg.TTL); err != nil {
		return err
	}
	s.setCookie(c, id)
	return nil
}

// Delete ends the session.
func (s *Sessions) Delete(c *Ctx, id []byte) error {
	_, err := s.store.Delete(c.Context(), s.key(id))
	return err
}
