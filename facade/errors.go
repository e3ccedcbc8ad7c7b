package facade

import (
	"errors"
	"fmt"
)

// Sentinel errors of the framework; compare with errors.Is.
var (
	// ErrNotFound is what a Store returns from Get when the key is absent.
	ErrNotFound = errors.New("facade: key not found")
	// ErrDeadline means the request's deadline passed before the work ended.
	ErrDeadline = errors.New("facade: request deadline exceeded")
	// ErrBadPattern is returned for a route pattern the router cannot hold.
	ErrBadPattern = errors.New("facade: bad route pattern")
	// ErrDuplicateRoute is returned when a method and pattern are registered twice.
	ErrDuplicateRoute = errors.New("facade: duplicate route")
	// ErrRequiredPartFailed is returned by FanOut when a required call failed.
	ErrRequiredPartFailed = errors.New("facade: required part failed")
	// ErrConflict is what a VersionedStore returns when a compare-and-set
	// finds that the key moved on, and what Sessions.Update returns when it
	// kept losing that race.
	ErrConflict = errors.New("facade: concurrent update conflict")
	// ErrStoreFull is what a Store returns when the state tier refused a
	// write because its live data is at the memory bound (policy
	// noeviction). Cache-aside treats it as a miss that is not stored; a
	// handler that returns it answers 503.
	ErrStoreFull = errors.New("facade: state tier is full")
	// ErrNoStore is returned by helpers that need a Store when none is set.
	ErrNoStore = errors.New("facade: no state store configured")
)

// StatusError is an error that carries the HTTP status to answer with. A
// handler returns one (see Errorf) when the client should see a specific
// status and message; any other error becomes a 500 with a generic message.
type StatusError struct {
	Status int
	Msg    string
}

func (e *StatusError) Error() string { return fmt.Sprintf("%d: %s", e.Status, e.Msg) }

// Errorf returns a *StatusError with the given status and message.
func Errorf(status int, format string, args ...any) error {
	return &StatusError{Status: status, Msg: fmt.Sprintf(format, args...)}
}
