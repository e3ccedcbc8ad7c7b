package state

// ChangeOp says what a change did to its key.
type ChangeOp uint8

// Change operations.
const (
	OpPut    ChangeOp = iota + 1 // key now holds Value with Meta
	OpDelete                     // key was deleted
	OpFlush                      // every key was removed
)

// Change is one write, as the per-node change feed carries it. Key and
// Value alias engine buffers and are valid only during Publish.
type Change struct {
	Seq   uint64
	Op    ChangeOp
	Key   []byte
	Value []byte
	Meta  Meta
}

// ChangeSink receives every write of an engine, one at a time, in strictly
// increasing Seq order, while the key's stripe is still locked. It is the
// seam replication and write-behind persistence attach to; Publish must be
// quick and must not call back into the engine.
//
// Expiry is not a change: a Put carries its ExpireAt, every node checks it
// on each read, and reclaiming expired records is local memory management
// that is not published. Evictions under the memory bound are local too.
type ChangeSink interface {
	Publish(c Change)
}

// nextSeq allocates the sequence of a write and, when a sink is configured,
// returns with feedMu held so that the write and its publication happen in
// sequence order; publish releases it.
func (e *Engine) nextSeq() uint64 {
	if e.cfg.Sink != nil {
		e.feedMu.Lock()
	}
	return e.seq.Add(1)
}

// publish hands the committed change to the sink and releases feedMu.
func (e *Engine) publish(c Change) {
	if e.cfg.Sink == nil {
		return
	}
	e.cfg.Sink.Publish(c)
	e.feedMu.Unlock()
}

// Seq is the sequence number of the latest write.
func (e *Engine) Seq() uint64 { return e.seq.Load() }
