package facade

import "time"

// Route is one registered method and pattern with its handler and rules.
type Route struct {
	Method  string
	Pattern string
	// Priority is the class of requests that arrive without a valid
	// PriorityHeader (the route rule); PriorityNormal unless set.
	Priority Priority
	// Timeout is the time budget of one request on this route (the App's
	// RequestTimeout unless set).
	Timeout time.Duration

	handler Handler
	chained Handler
	stats   routeStats
}

// RouteOption sets a rule of one route.
type RouteOption func(*Route)

// WithPriority sets the class of requests that do not carry a priority header.
func WithPriority(p Priority) RouteOption { return func(r *Route) { r.Priority = p } }

// WithTimeout sets the route's request budget; the deadline is arrival plus d.
func WithTimeout(d time.Duration) RouteOption { return func(r *Route) { r.Timeout = d } }
