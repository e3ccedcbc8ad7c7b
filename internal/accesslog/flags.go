package accesslog

import (
	"flag"
	"fmt"
	"io"
	"os"
)

// Flags are the command-line switches of an access log.
type Flags struct {
	Path   string
	Sample float64
}

// Bind registers --access-log and --access-log-sample on fs.
func (f *Flags) Bind(fs *flag.FlagSet) {
	fs.StringVar(&f.Path, "access-log", "", "write a JSON line per request to FILE (appended), or - for standard output; empty: no access log")
	fs.Float64Var(&f.Sample, "access-log-sample", 1, "share of requests logged with --access-log, in (0, 1]")
}

// Open starts the Writer the flags ask for: nil when --access-log is
// empty. stdout receives "-". close stops the writer and closes the file.
func (f *Flags) Open(stdout io.Writer) (w *Writer, close func() error, err error) {
	if !(f.Sample > 0 && f.Sample <= 1) {
		return nil, nil, fmt.Errorf("--access-log-sample: %v is not in (0, 1]", f.Sample)
	}
	if f.Path == "" {
		return nil, func() error { return nil }, nil
	}
	out, file := stdout, (*os.File)(nil)
	if f.Path != "-" {
		file, err = os.OpenFile(f.Path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o640)
		if err != nil {
			return nil, nil, fmt.Errorf("--access-log: %w", err)
		}
		out = file
	}
	w, err = New(out, Config{Sample: f.Sample})
	if err != nil {
		if file != nil {
			_ = file.Close()
		}
		return nil, nil, fmt.Errorf("--access-log: %w", err)
	}
	return w, func() error {
		werr := w.Close()
		if file != nil {
			if err := file.Close(); err != nil {
				return err
			}
		}
		return werr
	}, nil
}
