package edge

import (
	"slices"
	"sync"

	"github.com/valyala/fasthttp"
)

// maxVariants bounds the variants kept per URL; the oldest goes first.
const maxVariants = 32

// varyMarker is stored under a URL's primary key when its responses carry
// Vary. Variants live under secondary keys that include the marker's
// generation, so replacing or purging the marker makes every old variant
// unreachable at once, even before the store evicts it.
type varyMarker struct {
	gen   uint64
	names []string

	mu       sync.Mutex
	variants []string // secondary keys, oldest first
}

// add records a variant key and returns the key that fell out, if any.
func (m *varyMarker) add(key string) string {
	m.mu.Lock()
	defer m.mu.Unlock()
	if slices.Contains(m.variants, key) {
		return ""
	}
	m.variants = append(m.variants, key)
	if len(m.variants) > maxVariants {
		old := m.variants[0]
		m.variants = slices.Delete(m.variants, 0, 1)
		return old
	}
	return ""
}

func (m *varyMarker) keys() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.variants)
}

// lookupResult says how a lookup ended, for Cache-Status.
type lookupResult uint8

const (
	lookupHit lookupResult = iota
	lookupURIMiss
	lookupVaryMiss
)

// lookup finds the stored response for the request whose primary key is in
// c.key. It does not allocate.
func (e *Edge) lookup(c *conn, req *fasthttp.Request) (*object, lookupResult) {
	o, ok := e.store.Get(c.key)
	if !ok {
		return nil, lookupURIMiss
	}
	if o.marker == nil {
		return o, lookupHit
	}
	c.vkey = appendVaryKey(c.vkey[:0], c.key, o.marker.gen, o.marker.names, req)
	v, ok := e.store.Get(c.vkey)
	if !ok {
		return nil, lookupVaryMiss
	}
	return v, lookupHit
}

// insert stores o for the request whose primary key is primary, through a
// Vary marker when o varies.
func (e *Edge) insert(primary []byte, req *fasthttp.Request, o *object) error {
	if len(o.varyNames) == 0 {
		o.key = string(primary)
		return e.store.Set(o.key, o, o.cost())
	}
	e.varyMu.Lock()
	var m *varyMarker
	if cur, ok := e.store.Get(primary); ok && cur.marker != nil && slices.Equal(cur.marker.names, o.varyNames) {
		m = cur.marker
	} else {
		m = &varyMarker{gen: e.varyGen.Add(1), names: o.varyNames}
		mo := &object{key: string(primary), marker: m}
		if err := e.store.Set(mo.key, mo, int64(len(mo.key))+128); err != nil {
			e.varyMu.Unlock()
			return err
		}
	}
	e.varyMu.Unlock()
	o.key = string(appendVaryKey(nil, primary, m.gen, m.names, req))
	if err := e.store.Set(o.key, o, o.cost()); err != nil {
		return err
	}
	if old := m.add(o.key); old != "" {
		e.store.Delete(old)
	}
	return nil
}

// variantsOf returns the keys stored for a URL: the primary key and, for a
// Vary marker, every variant.
func (e *Edge) variantsOf(primary string) []string {
	keys := []string{primary}
	if o, ok := e.store.Get([]byte(primary)); ok && o.marker != nil {
		keys = append(keys, o.marker.keys()...)
	}
	return keys
}
