// Package origin is the sample origin behind the sample facade application:
// a backend simulator that serves product JSON and the catalog services
// (/svc/products, /svc/pricing, /svc/inventory, /svc/reviews) with latency
// distributions, error rates and a worker pool that can be shaped per route,
// so tests and benchmarks can make the backend slow, flaky, saturated or
// hung. It counts hits per route (GET /stats, strata_origin_requests_total) so
// tests can assert how often the backend was reached.
//
// It is a test and benchmark fixture, not a product: /admin/shape lets any
// client reshape it, so it must only listen where the operator is.
package origin
