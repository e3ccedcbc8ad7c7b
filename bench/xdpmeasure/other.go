//go:build !linux

package xdpmeasure

import (
	"context"

	"github.com/strata-dp/strata/dataplane/lb/xdp"
)

// Run returns xdp.ErrUnsupported: BPF_PROG_TEST_RUN needs Linux.
func Run(context.Context, Options) (Result, error) { return Result{}, xdp.ErrUnsupported }

// possibleCPUs sizes nothing here: Run needs Linux.
func possibleCPUs() int { return 1 }
