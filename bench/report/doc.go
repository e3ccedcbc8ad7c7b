// Package report renders benchmark results files into what people read: a
// plain table on the terminal, a Markdown report, one SVG chart per
// scenario, and the benchmark section of the README. Everything it prints is
// read from results files, so every published figure traces to one.
package report
