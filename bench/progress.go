package bench

import (
	"fmt"
	"io"
	"os"
	"strings"
)

// Progress draws one self-overwriting line per measurement on a terminal.
// A nil Progress draws nothing, so non-interactive runs (make test, CI logs)
// stay clean.
type Progress struct {
	w     io.Writer
	drawn bool
}

// NewProgress returns a progress bar on f if f is a terminal, else nil.
func NewProgress(f *os.File) *Progress {
	st, err := f.Stat()
	if err != nil || st.Mode()&os.ModeCharDevice == 0 {
		return nil
	}
	return &Progress{w: f}
}

const barWidth = 24

func (p *Progress) show(scenario, name string, st Step, done, total int) {
	if p == nil || total == 0 {
		return
	}
	filled := barWidth * done / total
	run := fmt.Sprintf("run %d", st.Run)
	if st.Warmup {
		run = "warm-up"
	}
	fmt.Fprintf(p.w, "\r\033[K%-12s %-16s [%s%s] %3d%%  %s %s",
		scenario, name, strings.Repeat("#", filled), strings.Repeat(".", barWidth-filled),
		100*done/total, st.System, run)
	p.drawn = true
}

func (p *Progress) clear() {
	if p == nil || !p.drawn {
		return
	}
	fmt.Fprint(p.w, "\r\033[K")
	p.drawn = false
}
