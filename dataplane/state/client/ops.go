package client

import (
	"context"
	"encoding/binary"
	"errors"
	"time"

	"github.com/strata-dp/strata/dataplane/state/wire"
)

// Get returns the value of key, or ErrNotFound.
func (c *Client) Get(ctx context.Context, key []byte) ([]byte, error) {
	it, err := c.GetItem(ctx, key)
	return it.Value, err
}

// GetItem returns the value of key with its version and remaining TTL.
func (c *Client) GetItem(ctx context.Context, key []byte) (Item, error) {
	_, cl, err := c.do(ctx, key, request{op: wire.OpGet, key: key})
	if err != nil {
		return Item{}, err
	}
	defer release(cl)
	if err := statusErr(wire.OpGet, cl.status); err != nil {
		return Item{}, err
	}
	it := Item{Value: cl.value, Version: versionOf(cl), TTL: -1}
	if ms, ok := wire.TTLExtras(cl.extras[:cl.nExtras]); ok && ms >= 0 {
		it.TTL = time.Duration(ms) * time.Millisecond
	}
	if it.Value == nil {
		it.Value = []byte{}
	}
	return it, nil
}

func (c *Client) set(ctx context.Context, key, value []byte, ttl time.Duration, flags uint16) (Version, wire.Status, error) {
	var x [8]byte
	binary.BigEndian.PutUint64(x[:], ttlMs(ttl))
	_, cl, err := c.do(ctx, key, request{op: wire.OpSet, flags: flags, extras: x[:], key: key, value: value})
	if err != nil {
		return Version{}, 0, err
	}
	defer release(cl)
	return versionOf(cl), cl.status, nil
}

// Set stores value under key; ttl 0 means no expiry.
func (c *Client) Set(ctx context.Context, key, value []byte, ttl time.Duration) error {
	_, st, err := c.set(ctx, key, value, ttl, 0)
	if err != nil {
		return err
	}
	return statusErr(wire.OpSet, st)
}

// SetVersion stores value and returns its new version.
func (c *Client) SetVersion(ctx context.Context, key, value []byte, ttl time.Duration) (Version, error) {
	v, st, err := c.set(ctx, key, value, ttl, 0)
	if err != nil {
		return Version{}, err
	}
	return v, statusErr(wire.OpSet, st)
}

// SetNX stores value only if key holds no live value; it reports whether
// it wrote.
func (c *Client) SetNX(ctx context.Context, key, value []byte, ttl time.Duration) (bool, error) {
	_, st, err := c.set(ctx, key, value, ttl, wire.FlagNX)
	if err != nil {
		return false, err
	}
	if st == wire.StatusExists {
		return false, nil
	}
	return st == wire.StatusOK, statusErr(wire.OpSet, st)
}

// SetXX stores value only if key holds a live value; it reports whether it
// wrote.
func (c *Client) SetXX(ctx context.Context, key, value []byte, ttl time.Duration) (bool, error) {
	_, st, err := c.set(ctx, key, value, ttl, wire.FlagXX)
	if err != nil {
		return false, err
	}
	if st == wire.StatusNotFound {
		return false, nil
	}
	return st == wire.StatusOK, statusErr(wire.OpSet, st)
}

// CompareAndSet stores value only if key's current version is expect (the
// zero Version: only if absent). It returns the new version, or
// ErrVersionMismatch with the current version.
func (c *Client) CompareAndSet(ctx context.Context, key, value []byte, expect Version, ttl time.Duration) (Version, error) {
	var x [20]byte
	binary.BigEndian.PutUint64(x[0:], ttlMs(ttl))
	binary.BigEndian.PutUint32(x[8:], expect.Epoch)
	binary.BigEndian.PutUint64(x[12:], expect.Seq)
	_, cl, err := c.do(ctx, key, request{op: wire.OpCAS, extras: x[:], key: key, value: value})
	if err != nil {
		return Version{}, err
	}
	defer release(cl)
	return versionOf(cl), statusErr(wire.OpCAS, cl.status)
}

// Delete removes key; it reports whether a value was removed.
func (c *Client) Delete(ctx context.Context, key []byte) (bool, error) {
	_, cl, err := c.do(ctx, key, request{op: wire.OpDelete, key: key})
	if err != nil {
		return false, err
	}
	defer release(cl)
	err = statusErr(wire.OpDelete, cl.status)
	if errors.Is(err, ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

// GetDel returns the value of key and deletes it, or ErrNotFound.
func (c *Client) GetDel(ctx context.Context, key []byte) ([]byte, error) {
	_, cl, err := c.do(ctx, key, request{op: wire.OpGetDel, key: key})
	if err != nil {
		return nil, err
	}
	defer release(cl)
	if err := statusErr(wire.OpGetDel, cl.status); err != nil {
		return nil, err
	}
	if cl.value == nil {
		return []byte{}, nil
	}
	return cl.value, nil
}

// Incr adds delta to the integer under key (absent: 0) and returns the sum.
func (c *Client) Incr(ctx context.Context, key []byte, delta int64) (int64, error) {
	var x [8]byte
	binary.BigEndian.PutUint64(x[:], uint64(delta))
	_, cl, err := c.do(ctx, key, request{op: wire.OpIncr, extras: x[:], key: key})
	if err != nil {
		return 0, err
	}
	defer release(cl)
	if err := statusErr(wire.OpIncr, cl.status); err != nil {
		return 0, err
	}
	n, _ := wire.Uint64Extras(cl.extras[:cl.nExtras])
	return int64(n), nil
}

// Expire sets key's TTL (ttl < 0 removes the expiry); it reports whether
// the key exists.
func (c *Client) Expire(ctx context.Context, key []byte, ttl time.Duration) (bool, error) {
	ms := int64(-1)
	if ttl >= 0 {
		ms = max(ttl.Milliseconds(), 0)
	}
	var x [8]byte
	binary.BigEndian.PutUint64(x[:], uint64(ms))
	_, cl, err := c.do(ctx, key, request{op: wire.OpExpire, extras: x[:], key: key})
	if err != nil {
		return false, err
	}
	defer release(cl)
	err = statusErr(wire.OpExpire, cl.status)
	if errors.Is(err, ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}
