//go:build race

package facade

// raceEnabled: the race detector changes what escapes to the heap, so
// allocation budgets are only checked without it.
const raceEnabled = true
