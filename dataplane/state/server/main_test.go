package server

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"testing"
	"time"

	"github.com/strata-dp/strata/dataplane/state"
)

// helperEnv makes the test binary run a state server instead of the tests:
// tests that need more file descriptors than one process may hold (10,000
// connections have two ends) run the server in a child process.
const helperEnv = "STRATA_STATE_TEST_SERVER"

func TestMain(m *testing.M) {
	if os.Getenv(helperEnv) != "" {
		os.Exit(runHelperServer())
	}
	os.Exit(m.Run())
}

func runHelperServer() int {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	raiseNoFile()
	eng, err := state.New(state.Config{MemoryBytes: 16 << 20})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer eng.Close()
	s, err := New(Config{Engine: eng, RESP: "127.0.0.1:0", Listen: "127.0.0.1:0", MaxConns: 20000})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if err := s.Start(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Printf("RESP=%s\n", s.RESPAddr())
	// Exit when the parent goes away (stdin closes) or signals.
	go func() {
		var b [1]byte
		os.Stdin.Read(b[:])
		stop()
	}()
	<-ctx.Done()
	sctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	s.Shutdown(sctx)
	return 0
}

// raiseNoFile lifts the soft open-file limit to the hard one and returns it.
func raiseNoFile() uint64 {
	var rl syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl) != nil {
		return 0
	}
	rl.Cur = rl.Max
	syscall.Setrlimit(syscall.RLIMIT_NOFILE, &rl)
	syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl)
	return rl.Cur
}
