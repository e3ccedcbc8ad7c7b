// Package httpserve serves the operators' HTTP listeners (the control
// plane's admin API and every role's /metrics, /healthz and /readyz) within
// limits on time, header size and connections, so that a slow or hostile
// client holds at most one bounded slot and never the process's memory.
// The user-traffic listeners (edge, facades) have their own, in their roles.
//
// What is dangerous here is the connection limit: a limit that only waits
// for a slot to free is a lock-out for anyone who can open that many
// connections and never finish a request head (slowloris). At its limits
// the listener therefore closes the connection that matters least (one
// lingering after its last answer, then one still sending its head, then
// one idle, the oldest first) to admit the new one, and refuses new
// connections only when every one it holds is busy with a request
// (admit.go). A connection is counted from its first bytes, and as busy
// when they hold a whole request head: everything an operator or a scraper
// sends arrives in one write, so it is served before anything can shed it.
package httpserve
