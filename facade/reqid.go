package facade

import "github.com/strata-dp/strata/internal/requestid"

// RequestIDHeader carries the request id in and out.
const RequestIDHeader = requestid.Header

// maxRequestID bounds an incoming id; longer ones are replaced.
const maxRequestID = requestid.MaxLen

// validRequestID accepts ids of visible ASCII without separators, so that an
// id echoed into headers and logs cannot inject anything.
func validRequestID(b []byte) bool { return requestid.Valid(b) }

// validToken accepts 1..max visible ASCII characters without separators.
func validToken(b []byte, max int) bool { return requestid.ValidToken(b, max) }
