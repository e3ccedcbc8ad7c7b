//go:build race

package overload

// raceEnabled: the race detector changes what escapes to the heap, so
// allocation budgets are only checked without it.
const raceEnabled = true
