package facade

import "time"

// Defaults of a facade node: the flags of `strata facade` and the stack
// configuration's facades section both take them from here.
const (
	DefaultMaxInflight    = 512
	DefaultQueueLen       = 128
	DefaultMaxQueueTime   = 100 * time.Millisecond
	DefaultRequestTimeout = 2 * time.Second
	DefaultDrainDelay     = 500 * time.Millisecond
	DefaultDrainTimeout   = 5 * time.Second
)
