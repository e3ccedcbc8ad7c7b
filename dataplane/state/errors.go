package state

import "errors"

// Errors returned by the engine. Callers compare with errors.Is.
var (
	ErrKeyTooLong    = errors.New("state: key too long")
	ErrEmptyKey      = errors.New("state: empty key")
	ErrValueTooLarge = errors.New("state: value too large")
	ErrNotInteger    = errors.New("state: value is not an integer or out of range")
	ErrOverflow      = errors.New("state: increment or decrement would overflow")
	ErrNoSpace       = errors.New("state: entry does not fit in a shard")
	// ErrOutOfMemory refuses a write that would grow live data past the
	// memory bound under PolicyNoEviction.
	ErrOutOfMemory = errors.New("state: used memory would exceed the memory bound")
	ErrPolicy      = errors.New("state: unknown memory policy")
	// ErrConfig wraps every error of Config.Validate, naming the field.
	ErrConfig = errors.New("state: invalid configuration")
)
