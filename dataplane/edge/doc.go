// Package edge is Strata's forward-cache proxy: a shared HTTP cache by
// RFC 9111 in front of the load balancer's VIP.
//
// Clients speak HTTP/1.1 to a small connection loop of this package that
// parses requests with fasthttp's request parser and writes responses
// itself, because a hit must leave as the stored, pre-serialised bytes (with
// only Age and Cache-Status patched in) and fasthttp's server re-serialises
// every header and replaces the origin's Date. Misses go to the origin
// through a pooled fasthttp.HostClient with timeouts.
//
// Concepts, one file each: target.go (Host and request-target, checked
// on every request), key.go (what identifies a stored response),
// object.go (a stored response and its freshness), storable.go (whether a
// response may be stored and for how long), conn.go (the client connection
// loop and its deadlines), admit.go (which connections are served, and
// which are closed to make room), reqscan.go (the one-pass check of a
// request's field lines),
// handle.go (the decision per request), serve.go and respond.go (writing
// responses, conditionals, Range), fetch.go (misses and pass-through),
// tee.go (streaming a body while storing it), coalesce.go (one origin
// request for many clients), revalidate.go (validation and stale serving),
// vary.go (several variants per URL), origin.go (the request to the
// origin), retry.go and originconn.go (when a failed origin request is
// retried), pass.go (other methods and invalidation), purge.go, admin.go
// and purgeauth.go (who may purge), metrics.go.
//
// What is dangerous here: the hit path must stay allocation-free
// (hit_test.go proves it), the cache key must include everything that
// selects a response and nothing a client can use to poison another
// client's entry (and must name exactly what the origin is asked for:
// target.go), every origin response is untrusted input, and every
// client may be hostile: a connection that sends slowly, never sends, or
// never reads must not hold back other clients (admit.go, conn.go;
// internal/boundtest/edge_test.go runs such clients against the binary).
package edge
