package maglev

// claimHeap orders backends by the virtual time of their next claim,
// (k+1)/w, compared exactly in integers; ties go to the lower backend index.
type claimHeap struct {
	idx []int
	w   []uint64 // weight
	k   []uint64 // claims made so far
}

func (h *claimHeap) len() int { return len(h.idx) }

func (h *claimHeap) less(a, b int) bool {
	// (k_a+1)/w_a < (k_b+1)/w_b  <=>  (k_a+1)·w_b < (k_b+1)·w_a
	l, r := (h.k[a]+1)*h.w[b], (h.k[b]+1)*h.w[a]
	if l != r {
		return l < r
	}
	return h.idx[a] < h.idx[b]
}

func (h *claimHeap) swap(a, b int) {
	h.idx[a], h.idx[b] = h.idx[b], h.idx[a]
	h.w[a], h.w[b] = h.w[b], h.w[a]
	h.k[a], h.k[b] = h.k[b], h.k[a]
}

func (h *claimHeap) push(i int, w uint64) {
	h.idx = append(h.idx, i)
	h.w = append(h.w, w)
	h.k = append(h.k, 0)
	for c := len(h.idx) - 1; c > 0; {
		p := (c - 1) / 2
		if !h.less(c, p) {
			break
		}
		h.swap(c, p)
		c = p
	}
}

func (h *claimHeap) pop() {
	last := len(h.idx) - 1
	h.swap(0, last)
	h.idx, h.w, h.k = h.idx[:last], h.w[:last], h.k[:last]
	if last > 0 {
		h.down(0)
	}
}

func (h *claimHeap) down(p int) {
	n := len(h.idx)
	for {
		c := 2*p + 1
		if c >= n {
			return
		}
		if c+1 < n && h.less(c+1, c) {
			c++
		}
		if !h.less(c, p) {
			return
		}
		h.swap(c, p)
		p = c
	}
}
