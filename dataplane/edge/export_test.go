package edge

// SetClock replaces the edge's clock (unix seconds) for tests.
func (e *Edge) SetClock(now func() int64) { e.now = now }
