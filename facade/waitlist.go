package facade

import "time"

// waiter is one queued request. Waiters are pooled with their channel and
// timer, so queueing allocates nothing once the pool is warm.
type waiter struct {
	ch         chan struct{}
	timer      *time.Timer
	prev, next *waiter
	enqueued   time.Time
	wait       time.Duration
	class      Priority
	outcome    waiterOutcome
}

type waiterOutcome uint8

const (
	waiting waiterOutcome = iota
	granted
	timedOut
)

func (w *waiter) verdict() verdict {
	if w.outcome == granted {
		return admitted
	}
	return rejectQueueTime
}

// waitList is an intrusive FIFO of waiters with O(1) removal from the middle
// (a waiter whose time ran out leaves wherever it is).
type waitList struct {
	head, tail *waiter
	n          int
}

func (l *waitList) push(w *waiter) {
	w.prev, w.next = l.tail, nil
	if l.tail != nil {
		l.tail.next = w
	} else {
		l.head = w
	}
	l.tail = w
	l.n++
}

func (l *waitList) remove(w *waiter) {
	if w.prev != nil {
		w.prev.next = w.next
	} else {
		l.head = w.next
	}
	if w.next != nil {
		w.next.prev = w.prev
	} else {
		l.tail = w.prev
	}
	w.prev, w.next = nil, nil
	l.n--
}
