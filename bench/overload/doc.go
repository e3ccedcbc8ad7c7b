// Package overload holds the facade framework's proofs in a form the bench
// suite can run: the overload scenario (Run: a real facade App in front of a
// real sample origin with a fixed capacity, driven open-loop at a multiple
// of that capacity with a mix of priority classes) and the overhead pair
// (RawHandler and FrameworkHandler: the same small piece of work as a bare
// fasthttp handler and as a facade route). It lives under bench/ because
// only the suite and its own tests use it: it imports facade, and facade
// never imports it.
//
// Everything listens on ephemeral loopback ports and is torn down when Run
// returns. Runs are CPU-bound on the client side too: on a shared machine,
// keep them short and read the numbers side by side with the calibration.
package overload
