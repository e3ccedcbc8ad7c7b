package server

import (
	"testing"
	"time"
)

// TestBusyPollSpinsAfterTrafficThenSleeps checks both ends of the trade:
// after a request the loop keeps turning for about the budget, and then it
// stops, so an idle server spends no processor time polling.
func TestBusyPollSpinsAfterTrafficThenSleeps(t *testing.T) {
	const budget = 20 * time.Millisecond
	s := startServer(t, Config{BusyPoll: budget, EventLoops: 1})
	c := dialRESP(t, s.RESPAddr())
	c.do(mb("PING"), "+PONG") // opens the loop's spinner (asynchronously)
	deadline := time.Now().Add(5 * time.Second)
	for {
		c.do(mb("SET", "k", "v"), "+OK")
		if s.busyTurns.Load() > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no busy-poll turn within 5s of traffic")
		}
		time.Sleep(time.Millisecond)
	}
	// Well past the budget the turns stop.
	time.Sleep(4 * budget)
	settled := s.busyTurns.Load()
	time.Sleep(4 * budget)
	if n := s.busyTurns.Load(); n != settled {
		t.Fatalf("the loop kept polling %v after its last traffic: %d more turns", 4*budget, n-settled)
	}
	// A new request starts it again.
	c.do(mb("GET", "k"), "$v")
	time.Sleep(budget / 2)
	if n := s.busyTurns.Load(); n <= settled {
		t.Fatal("traffic after idling did not resume busy polling")
	}
}

func TestBusyPollOff(t *testing.T) {
	s := startServer(t, Config{EventLoops: 1})
	c := dialRESP(t, s.RESPAddr())
	for range 50 {
		c.do(mb("PING"), "+PONG")
	}
	time.Sleep(10 * time.Millisecond)
	if n := s.busyTurns.Load(); n != 0 {
		t.Fatalf("%d busy-poll turns with BusyPoll 0", n)
	}
	if _, err := New(Config{Engine: s.eng, Listen: "127.0.0.1:0", BusyPoll: -time.Microsecond}); err == nil {
		t.Fatal("a negative busy-poll budget was accepted")
	}
}
