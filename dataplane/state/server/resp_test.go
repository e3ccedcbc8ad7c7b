package server

import (
	"strings"
	"testing"
)

func TestRESPCommands(t *testing.T) {
	s := startServer(t, Config{})
	c := dialRESP(t, s.RESPAddr())
	steps := []struct{ req, want string }{
		{mb("PING"), "+PONG"},
		{mb("ping", "hi"), "$hi"},
		{mb("ECHO", "x y"), "$x y"},
		{mb("SELECT", "0"), "+OK"},
		{mb("SELECT", "1"), "-ERR DB index is out of range"},
		{mb("GET", "k"), "(nil)"},
		{mb("SET", "k", "v"), "+OK"},
		{mb("GET", "k"), "$v"},
		{mb("SET", "k", "w", "NX"), "(nil)"},
		{mb("SET", "k", "w", "XX", "GET"), "$v"},
		{mb("SET", "nx", "1", "XX"), "(nil)"},
		{mb("SET", "k", "v", "EX", "0"), "-ERR invalid expire time in 'set' command"},
		{mb("SET", "k", "v", "EX", "x"), "-ERR value is not an integer or out of range"},
		{mb("SET", "k", "v", "EX", "10", "PX", "5"), "-ERR syntax error"},
		{mb("SET", "k", "v", "NX", "XX"), "-ERR syntax error"},
		{mb("SET", "t", "v", "EX", "100"), "+OK"},
		{mb("TTL", "t"), ":100"},
		{mb("SET", "t", "v2", "KEEPTTL"), "+OK"},
		{mb("TTL", "t"), ":100"},
		{mb("PERSIST", "t"), ":1"},
		{mb("PERSIST", "t"), ":0"},
		{mb("TTL", "t"), ":-1"},
		{mb("TTL", "absent"), ":-2"},
		{mb("PEXPIRE", "t", "5000"), ":1"},
		{mb("EXPIRE", "absent", "5"), ":0"},
		{mb("EXPIRE", "t", "100", "NX"), ":0"},
		{mb("EXPIRE", "t", "100", "XX", "GT"), ":1"},
		{mb("TTL", "t"), ":100"},
		{mb("EXPIRE", "t", "50", "gt"), ":0"},
		{mb("EXPIRE", "t", "50", "LT"), ":1"},
		{mb("TTL", "t"), ":50"},
		{mb("EXPIRE", "t", "50", "NX", "XX"), "-ERR NX and XX, GT or LT options at the same time are not compatible"},
		{mb("EXPIRE", "t", "50", "GT", "LT"), "-ERR GT and LT options at the same time are not compatible"},
		{mb("PEXPIRE", "t", "50", "SOON"), "-ERR Unsupported option SOON"},
		{mb("TTL", "t"), ":50"},
		{mb("SETNX", "k", "x"), ":0"},
		{mb("SETNX", "k2", "x"), ":1"},
		{mb("SETEX", "se", "10", "v"), "+OK"},
		{mb("GETDEL", "k2"), "$x"},
		{mb("GETDEL", "k2"), "(nil)"},
		{mb("INCR", "n"), ":1"},
		{mb("INCRBY", "n", "10"), ":11"},
		{mb("DECR", "n"), ":10"},
		{mb("DECRBY", "n", "20"), ":-10"},
		{mb("INCR", "k"), "-ERR value is not an integer or out of range"},
		{mb("SET", "big", "9223372036854775807"), "+OK"},
		{mb("INCR", "big"), "-ERR increment or decrement would overflow"},
		{mb("MSET", "a", "1", "b", "2"), "+OK"},
		{mb("MSET", "a", "1", "b"), "-ERR wrong number of arguments for 'mset' command"},
		{mb("MSET", "a", "x", "", "y"), "-ERR empty keys are not supported"},
		{mb("GET", "a"), "$1"},
		{mb("MGET", "a", "zz", "b"), "[$1 (nil) $2]"},
		{mb("EXISTS", "a", "b", "zz", "a"), ":3"},
		{mb("APPEND", "a", "23"), ":3"},
		{mb("STRLEN", "a"), ":3"},
		{mb("STRLEN", "zz"), ":0"},
		{mb("DEL", "a", "b", "zz"), ":2"},
		{mb("UNLINK", "zz"), ":0"},
		{mb("GET"), "-ERR wrong number of arguments for 'get' command"},
		{mb("NOPE", "x"), "-ERR unknown command 'NOPE', with args beginning with: 'x' "},
		{mb("AUTH", "x"), "-ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?"},
		{mb("HELLO", "3"), "-NOPROTO sorry, this protocol version is not supported."},
		{mb("CLIENT", "SETNAME", "me"), "+OK"},
		{mb("CLIENT", "GETNAME"), "$me"},
		{mb("CLIENT", "SETINFO", "LIB-NAME", "x"), "+OK"},
		{mb("CLIENT", "BOGUS"), "-ERR unknown subcommand 'BOGUS'. Try CLIENT HELP."},
		{mb("COMMAND", "DOCS"), "[]"},
		{mb("CONFIG", "GET", "save"), "[$save $]"},
		{mb("CONFIG", "GET", "appendonly"), "[$appendonly $no]"},
		{"PING\r\n", "+PONG"},
		{"set inl \"two words\"\r\n", "+OK"},
		{"GET inl\n", "$two words"},
		{mb("FLUSHALL"), "+OK"},
		{mb("DBSIZE"), ":0"},
	}
	for _, st := range steps {
		c.do(st.req, st.want)
	}
}

func TestRESPScanAndInfo(t *testing.T) {
	s := startServer(t, Config{})
	c := dialRESP(t, s.RESPAddr())
	for _, k := range []string{"user:1", "user:2", "item:1"} {
		c.do(mb("SET", k, "v"), "+OK")
	}
	// The order of keys is not defined: accept either.
	c.send(mb("SCAN", "0", "MATCH", "user:*", "COUNT", "1000"))
	if got := c.reply(); got != "[$0 [$user:1 $user:2]]" && got != "[$0 [$user:2 $user:1]]" {
		t.Fatalf("scan user:* = %q", got)
	}
	c.send(mb("SCAN", "0", "MATCH", "item:?"))
	if got := c.reply(); got != "[$0 [$item:1]]" {
		t.Fatalf("scan item:? = %q", got)
	}
	c.send(mb("INFO"))
	info := c.reply()
	for _, want := range []string{"# Server", "# Clients", "# Memory", "# Stats", "# Keyspace", "db0:keys=3", "connected_clients:1"} {
		if !strings.Contains(info, want) {
			t.Errorf("INFO lacks %q", want)
		}
	}
	c.send(mb("INFO", "keyspace"))
	if got := c.reply(); strings.Contains(got, "# Server") || !strings.Contains(got, "db0:keys=3") {
		t.Errorf("INFO keyspace = %q", got)
	}
}
