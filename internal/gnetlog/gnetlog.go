// Package gnetlog routes gnet's own log lines into a process's slog logger,
// for every role that runs gnet event loops (the state server, the
// userspace load balancer). gnet logs only lifecycle events and internal
// errors, never per connection, so formatting here is off the hot path.
package gnetlog

import (
	"fmt"
	"log/slog"

	"github.com/panjf2000/gnet/v2/pkg/logging"
)

var _ logging.Logger = Logger{}

// Logger adapts a *slog.Logger to gnet's logging.Logger interface. gnet's
// info lines are start-up chatter, so they are logged at debug level.
type Logger struct{ L *slog.Logger }

// New returns an adapter for l.
func New(l *slog.Logger) Logger { return Logger{L: l} }

func (g Logger) Debugf(f string, a ...any) { g.L.Debug(fmt.Sprintf(f, a...), "component", "gnet") }
func (g Logger) Infof(f string, a ...any)  { g.L.Debug(fmt.Sprintf(f, a...), "component", "gnet") }
func (g Logger) Warnf(f string, a ...any)  { g.L.Warn(fmt.Sprintf(f, a...), "component", "gnet") }
func (g Logger) Errorf(f string, a ...any) { g.L.Error(fmt.Sprintf(f, a...), "component", "gnet") }

// Fatalf logs at error level: a library must not end the process.
func (g Logger) Fatalf(f string, a ...any) { g.L.Error(fmt.Sprintf(f, a...), "component", "gnet") }
