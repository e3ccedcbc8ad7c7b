package main

// lbModeReport describes which load-balancer modes this host supports, one
// line each. The LB packages replace this with real detection.
func lbModeReport() []string {
	return []string{"lb modes: userspace"}
}
