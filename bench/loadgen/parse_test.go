package loadgen

import (
	"errors"
	"testing"
)

const wrkSample = `Running 3s test @ http://127.0.0.1:8080/obj/1k
  2 threads and 64 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     1.10ms    1.72ms  40.12ms   93.47%
    Req/Sec    33.12k     3.01k   38.92k    70.00%
  Latency Distribution
     50%  750.00us
     75%    1.10ms
     90%    1.86ms
     99%    8.74ms
  197685 requests in 3.00s, 236.31MB read
  Socket errors: connect 0, read 2, write 0, timeout 1
  Non-2xx or 3xx responses: 12
Requests/sec:  65850.53
Transfer/sec:     78.72MB
`

func TestParseWrk(t *testing.T) {
	tests := []struct {
		name    string
		out     string
		want    WrkResult
		wantErr error
	}{
		{"full report", wrkSample, WrkResult{RequestsPerSec: 65850.53, Requests: 197685, P50ms: 0.75, P90ms: 1.86, P99ms: 8.74, Non2xx: 12, SocketErrors: 3}, nil},
		{"seconds unit", "  Latency Distribution\n     50%    1.50s\n     99%    2.00s\n  10 requests in 3.00s, 1KB read\nRequests/sec:      3.33\n",
			WrkResult{RequestsPerSec: 3.33, Requests: 10, P50ms: 1500, P99ms: 2000}, nil},
		{"connection refused", "unable to connect to 127.0.0.1:1 Connection refused\n", WrkResult{}, ErrWrkOutput},
		{"garbage percentile", "  Latency Distribution\n     50%  fast\nRequests/sec: 1\n", WrkResult{}, ErrWrkOutput},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseWrk(tt.out)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if *got != tt.want {
				t.Errorf("got %+v\nwant %+v", *got, tt.want)
			}
		})
	}
}

func TestWrkArgs(t *testing.T) {
	w := Wrk{URL: "http://x/", Conns: 64, Duration: 1500000000, Headers: []string{"Connection: close"}, Script: "m.lua", ScriptArgs: []string{"n1"}}
	got := w.Args()
	want := []string{"-t", "2", "-c", "64", "-d", "2s", "--latency", "--timeout", "5s", "-H", "Connection: close", "-s", "m.lua", "http://x/", "--", "n1"}
	if len(got) != len(want) {
		t.Fatalf("Args = %q, want %q", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("Args = %q, want %q", got, want)
		}
	}
}

func TestParseRedisBenchCSV(t *testing.T) {
	header := `"test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms","p95_latency_ms","p99_latency_ms","max_latency_ms"` + "\n"
	tests := []struct {
		name    string
		out     string
		want    []RedisBenchResult
		wantErr bool
	}{
		{"get and set", header + `"SET","69686.41","0.385","0.112","0.375","0.495","0.991","2.279"` + "\n" + `"GET","76628.35","0.349","0.128","0.351","0.463","0.551","1.615"` + "\n",
			[]RedisBenchResult{{"set", 69686.41, 0.375, 0.991, 2.279, 0}, {"get", 76628.35, 0.351, 0.551, 1.615, 0}}, false},
		{"header only", header, nil, true},
		{"missing column", `"test","rps"` + "\n" + `"GET","1"` + "\n", nil, true},
		{"bad number", header + `"GET","fast","0","0","0","0","0","0"` + "\n", nil, true},
		{"error text", "Could not connect to Redis at 127.0.0.1:1: Connection refused\n", nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseRedisBenchCSV(tt.out)
			if tt.wantErr {
				if !errors.Is(err, ErrRedisBenchOutput) {
					t.Fatalf("err = %v, want ErrRedisBenchOutput", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %+v, want %+v", got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Errorf("row %d = %+v, want %+v", i, got[i], tt.want[i])
				}
			}
		})
	}
}
