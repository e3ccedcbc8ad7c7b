// Package facade is a small framework for the stateless REST facades of
// Strata: custom Go logic that sits behind the load balancer, keeps all of its
// state in the shared state tier and orchestrates calls to backends.
//
// An App owns a fasthttp server, a router with path parameters and an ordered
// chain of middleware. Every request gets a *Ctx carrying its deadline, its
// priority class, a request id, the state Store and the logger. Before a
// handler runs, admission control decides whether the request may run now,
// wait in its class's bounded queue, or be turned away with a cheap 429/503
// and Retry-After; an adaptive concurrency limit sizes how many run at once.
//
// Helpers cover what facades keep rewriting: cache-aside loads with one loader
// per key per node and a lease in the state tier (Cache), sessions in a cookie
// (Sessions), idempotency keys for POST (Idempotency) and fan-out to several
// backends with per-call timeouts, an overall deadline and merge rules
// (FanOut).
//
// What is dangerous here: fasthttp recycles its RequestCtx, so nothing taken
// from a Ctx (parameters, headers, the body) may be kept after the handler
// returns without copying; and fasthttp has no cancellation, so every
// outgoing call must carry the request's deadline explicitly (Ctx.Deadline,
// Ctx.Context). The request hot path (routing, admission, middleware, metrics)
// allocates nothing; an allocation test guards that.
package facade
