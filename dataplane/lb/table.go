package lb

// DefaultTableSize is the default number of slots of a scheduling table: a
// prime well above 100× any expected backend count, so that Maglev shares
// stay within 1% of the weights, and the longest weighted round-robin ring.
const DefaultTableSize uint32 = 65537

// Weighted is one entry of a scheduling table (Maglev or weighted round
// robin). ID must be stable and unique (Backend.ID: ADDR:PORT): it orders
// the entries, so independent LB nodes build identical tables, and it seeds
// Maglev's permutation.
type Weighted struct {
	ID     string
	Weight uint32
}

// Weighted is the backend's entry in a scheduling table.
func (b Backend) Weighted() Weighted { return Weighted{ID: b.ID(), Weight: b.Weight} }
