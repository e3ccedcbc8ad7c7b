package client

import (
	"errors"
	"fmt"

	"github.com/strata-dp/strata/dataplane/state/wire"
)

// Errors returned by the client; compare with errors.Is.
var (
	ErrNotFound        = errors.New("state: key not found")
	ErrVersionMismatch = errors.New("state: version mismatch")
	ErrNotInteger      = errors.New("state: value is not an integer or out of range")
	ErrClosed          = errors.New("state: client closed")
	ErrAuth            = errors.New("state: authentication failed")
	ErrProtocol        = errors.New("state: protocol error")
	ErrTooLarge        = errors.New("state: request or value too large")
	// ErrOutOfMemory is a write the node refused because its live data
	// would pass its memory bound (policy noeviction); a refused single-key
	// write changed nothing.
	ErrOutOfMemory = errors.New("state: node out of memory, write refused")
)

// StatusError is a server status that has no sentinel of its own.
type StatusError struct {
	Op     wire.Opcode
	Status wire.Status
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("state: server answered %s to opcode %#x", e.Status, uint8(e.Op))
}

func statusErr(op wire.Opcode, st wire.Status) error {
	switch st {
	case wire.StatusOK:
		return nil
	case wire.StatusNotFound:
		return ErrNotFound
	case wire.StatusVersionMismatch:
		return ErrVersionMismatch
	case wire.StatusNotInteger:
		return ErrNotInteger
	case wire.StatusTooLarge, wire.StatusKeyTooLong:
		return fmt.Errorf("%w: %s", ErrTooLarge, st)
	case wire.StatusOutOfMemory:
		return ErrOutOfMemory
	case wire.StatusAuthFailed, wire.StatusAuthRequired:
		return fmt.Errorf("%w: %s", ErrAuth, st)
	}
	return &StatusError{Op: op, Status: st}
}
