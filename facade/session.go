package facade

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	mrand "math/rand/v2"
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
	if err := s.store.Set(c.Context(), s.key(id), s.encode(data), s.cfg.TTL); err != nil {
		return err
	}
	s.setCookie(c, id)
	return nil
}

// maxUpdateAttempts bounds Update's compare-and-set retries; between
// attempts it backs off for a random time that doubles up to 16ms (and
// never past the request's deadline), so contenders spread out.
const maxUpdateAttempts = 32

// Update reads the session's data, calls fn with it (nil and false when the
// session has none yet) and stores what fn returns, with a fresh TTL. Over
// a VersionedStore the write is a compare-and-set, retried when another
// node updated the session in between, so concurrent updates are never
// lost; fn may run more than once and must not have side effects. It
// returns the stored data, or fn's error, or an error matching ErrConflict
// after maxUpdateAttempts lost races.
func (s *Sessions) Update(c *Ctx, id []byte, fn func(old []byte, exists bool) ([]byte, error)) ([]byte, error) {
	vs, ok := s.store.(VersionedStore)
	if !ok {
		old, err := s.Get(c, id)
		exists := err == nil
		if err != nil && !errors.Is(err, ErrNotFound) {
			return nil, err
		}
		data, err := fn(old, exists)
		if err != nil {
			return nil, err
		}
		return data, s.Put(c, id, data)
	}
	key := s.key(id)
	for attempt := 0; attempt < maxUpdateAttempts; attempt++ {
		raw, ver, err := vs.GetVersioned(c.Context(), key)
		exists := err == nil
		switch {
		case errors.Is(err, ErrNotFound):
			raw, ver = nil, Version{}
		case err != nil:
			return nil, err
		case len(raw) < 8:
			return nil, errors.New("facade: session value too short")
		}
		var old []byte
		if exists {
			old = raw[8:]
		}
		data, err := fn(old, exists)
		if err != nil {
			return nil, err
		}
		_, err = vs.CompareAndSet(c.Context(), key, s.encode(data), ver, s.cfg.TTL)
		if errors.Is(err, ErrConflict) {
			pause := time.Duration(mrand.Int64N(int64(time.Millisecond) << min(attempt, 4)))
			if time.Now().Add(pause).After(c.Deadline()) {
				break
			}
			time.Sleep(pause)
			continue
		}
		if err != nil {
			return nil, err
		}
		s.setCookie(c, id)
		return data, nil
	}
	return nil, fmt.Errorf("session update: %w after %d attempts", ErrConflict, maxUpdateAttempts)
}

func (s *Sessions) encode(data []byte) []byte {
	raw := make([]byte, 8, 8+len(data))
	binary.BigEndian.PutUint64(raw, uint64(time.Now().UnixNano()))
	return append(raw, data...)
}

// Delete ends the session.
func (s *Sessions) Delete(c *Ctx, id []byte) error {
	_, err := s.store.Delete(c.Context(), s.key(id))
	return err
}
