package xdpmeasure

import (
	"fmt"

	"github.com/cilium/ebpf"
	"golang.org/x/sys/unix"
)

// pinToOneCPU restricts the calling (locked) thread to the first CPU it may
// run on and returns a function restoring its previous affinity.
func pinToOneCPU() (func(), error) {
	var old unix.CPUSet
	if err := unix.SchedGetaffinity(0, &old); err != nil {
		return nil, fmt.Errorf("xdpmeasure: cpu affinity: %w", err)
	}
	cpu := -1
	for i := 0; i < len(old)*64 && cpu < 0; i++ {
		if old.IsSet(i) {
			cpu = i
		}
	}
	if cpu < 0 {
		return nil, fmt.Errorf("xdpmeasure: cpu affinity: empty set")
	}
	var one unix.CPUSet
	one.Set(cpu)
	if err := unix.SchedSetaffinity(0, &one); err != nil {
		return nil, fmt.Errorf("xdpmeasure: pin to cpu %d: %w", cpu, err)
	}
	return func() { _ = unix.SchedSetaffinity(0, &old) }, nil
}

// possibleCPUs is the number of CPUs the kernel sizes per-CPU structures
// for (at least 1).
func possibleCPUs() int {
	n, err := ebpf.PossibleCPU()
	if err != nil || n < 1 {
		return 1
	}
	return n
}
