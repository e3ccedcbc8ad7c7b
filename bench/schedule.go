package bench

// Step is one run of one system in an alternating schedule.
type Step struct {
	System string
	Run    int // 0 for the warm-up, then 1..runs
	Warmup bool
}

// Schedule interleaves systems so that slow drift of the machine (other
// load, thermal state) falls on all of them alike: one warm-up each, then
// A, B, A, B, ... runs times.
func Schedule(systems []string, runs int, warmup bool) []Step {
	var steps []Step
	if warmup {
		for _, s := range systems {
			steps = append(steps, Step{System: s, Warmup: true})
		}
	}
	for r := 1; r <= runs; r++ {
		for _, s := range systems {
			steps = append(steps, Step{System: s, Run: r})
		}
	}
	return steps
}
