package store

// queue is an intrusive FIFO of entries: push at the back, pop at the front,
// unlink from anywhere in O(1) (for deletes and replacements).
type queue[V any] struct {
	head, tail *entry[V]
	bytes      int64
	n          int
}

func (q *queue[V]) pushBack(e *entry[V]) {
	e.prev, e.next = q.tail, nil
	if q.tail != nil {
		q.tail.next = e
	} else {
		q.head = e
	}
	q.tail = e
	q.bytes += e.cost
	q.n++
}

func (q *queue[V]) popFront() *entry[V] {
	e := q.head
	if e != nil {
		q.unlink(e)
	}
	return e
}

func (q *queue[V]) unlink(e *entry[V]) {
	if e.prev != nil {
		e.prev.next = e.next
	} else {
		q.head = e.next
	}
	if e.next != nil {
		e.next.prev = e.prev
	} else {
		q.tail = e.prev
	}
	e.prev, e.next = nil, nil
	q.bytes -= e.cost
	q.n--
}

// ghost remembers the hashes of keys recently evicted from the small queue,
// up to a byte budget, so that a key coming back soon enters the main queue
// directly.
type ghost struct {
	ring   []ghostItem
	start  int
	n      int
	bytes  int64
	budget int64
	member map[uint64]int32
}

type ghostItem struct {
	hash uint64
	cost int64
}

func newGhost(budget int64) *ghost {
	return &ghost{ring: make([]ghostItem, 1024), budget: budget, member: make(map[uint64]int32)}
}

func (g *ghost) add(hash uint64, cost int64) {
	if g.budget <= 0 {
		return
	}
	for g.n > 0 && g.bytes+cost > g.budget {
		g.dropOldest()
	}
	if g.n == len(g.ring) {
		g.grow()
	}
	g.ring[(g.start+g.n)%len(g.ring)] = ghostItem{hash, cost}
	g.n++
	g.bytes += cost
	g.member[hash]++
}

// take reports whether hash was in the ghost queue and forgets it.
func (g *ghost) take(hash uint64) bool {
	c, ok := g.member[hash]
	if !ok {
		return false
	}
	// The ring keeps the old slot; dropOldest tolerates hashes already gone.
	if c <= 1 {
		delete(g.member, hash)
	} else {
		g.member[hash] = c - 1
	}
	return true
}

func (g *ghost) dropOldest() {
	it := g.ring[g.start]
	g.start = (g.start + 1) % len(g.ring)
	g.n--
	g.bytes -= it.cost
	if c, ok := g.member[it.hash]; ok {
		if c <= 1 {
			delete(g.member, it.hash)
		} else {
			g.member[it.hash] = c - 1
		}
	}
}

func (g *ghost) grow() {
	ring := make([]ghostItem, 2*len(g.ring))
	for i := range g.n {
		ring[i] = g.ring[(g.start+i)%len(g.ring)]
	}
	g.ring, g.start = ring, 0
}
