package facade

// Middleware wraps a handler with behaviour of its own (authentication,
// idempotency, headers...). Chains are composed once when the App starts,
// in the order of App.Use: the first middleware is the outermost. Wrap must
// not allocate per request; it runs once per route.
type Middleware interface {
	Wrap(next Handler) Handler
}

// MiddlewareFunc adapts a function to Middleware.
type MiddlewareFunc func(next Handler) Handler

// Wrap calls f.
func (f MiddlewareFunc) Wrap(next Handler) Handler { return f(next) }

// chain composes mws around h, first outermost.
func chain(mws []Middleware, h Handler) Handler {
	for i := len(mws) - 1; i >= 0; i-- {
		h = mws[i].Wrap(h)
	}
	return h
}
