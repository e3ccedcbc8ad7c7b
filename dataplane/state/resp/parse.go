// Package resp reads and writes RESP2, the Redis serialization protocol:
// commands as multi-bulk arrays or inline lines in, simple strings, errors,
// integers, bulk strings and arrays out.
//
// Parse reads one command from the bytes already received without copying:
// the arguments alias the input buffer. Lengths are checked against Limits
// as soon as their header is read, so an announced huge bulk or array is
// refused before anything of that size is allocated or awaited. The parser
// is fuzzed (FuzzParse) against golden inputs in testdata/.
package resp

import "errors"

// Limits bound what one command may announce.
type Limits struct {
	MaxArgs   int // arguments per command (default 1<<20)
	MaxBulk   int // bytes per argument (default 4 MiB)
	MaxInline int // bytes of an inline command line (default 64 KiB)
}

func (l Limits) fill() Limits {
	if l.MaxArgs <= 0 {
		l.MaxArgs = 1 << 20
	}
	if l.MaxBulk <= 0 {
		l.MaxBulk = 4 << 20
	}
	if l.MaxInline <= 0 {
		l.MaxInline = 64 << 10
	}
	return l
}

// ProtocolError is a malformed command. Its text is what Redis replies
// (without the "ERR " prefix); the connection must be closed after the
// reply because framing is lost.
type ProtocolError struct{ Msg string }

func (e *ProtocolError) Error() string { return e.Msg }

// The protocol errors, as Redis words them.
var (
	ErrMultibulkLen = &ProtocolError{"Protocol error: invalid multibulk length"}
	ErrBulkLen      = &ProtocolError{"Protocol error: invalid bulk length"}
	ErrExpectDollar = &ProtocolError{"Protocol error: expected '$'"}
	ErrBadTerminal  = &ProtocolError{"Protocol error: bulk string not terminated by CRLF"}
	ErrInlineTooBig = &ProtocolError{"Protocol error: too big inline request"}
	ErrUnbalanced   = &ProtocolError{"Protocol error: unbalanced quotes in request"}
)

// IsProtocolError reports whether err is a ProtocolError.
func IsProtocolError(err error) bool {
	var pe *ProtocolError
	return errors.As(err, &pe)
}

// Parse reads one command from the start of b into args (reset to length
// 0). It returns n == 0 with no error when b does not hold a whole command
// yet. An empty inline line yields n > 0 and no arguments.
func Parse(b []byte, args [][]byte, lim Limits) ([][]byte, int, error) {
	args = args[:0]
	lim = lim.fill()
	if len(b) == 0 {
		return args, 0, nil
	}
	if b[0] != '*' {
		return parseInline(b, args, lim)
	}
	count, pos, ok, err := readLen(b, 1, lim.MaxArgs, ErrMultibulkLen)
	if err != nil || !ok {
		return args, 0, err
	}
	for range count {
		if pos >= len(b) {
			return args, 0, nil
		}
		if b[pos] != '$' {
			return args, 0, ErrExpectDollar
		}
		var n int
		n, pos, ok, err = readLen(b, pos+1, lim.MaxBulk, ErrBulkLen)
		if err != nil || !ok {
			return args, 0, err
		}
		if n < 0 {
			return args, 0, ErrBulkLen
		}
		end := pos + n
		if end+2 > len(b) {
			return args, 0, nil
		}
		if b[end] != '\r' || b[end+1] != '\n' {
			return args, 0, ErrBadTerminal
		}
		args = append(args, b[pos:end:end])
		pos = end + 2
	}
	return args, pos, nil
}

// readLen reads a decimal length terminated by CRLF at b[i:]. A length over
// max, or a malformed one, is the error bad. ok is false when incomplete.
func readLen(b []byte, i, max int, bad error) (n, next int, ok bool, err error) {
	neg := false
	if i < len(b) && b[i] == '-' {
		neg = true
		i++
	}
	digits := 0
	for ; i < len(b); i++ {
		c := b[i]
		if c == '\r' {
			if i+1 >= len(b) {
				return 0, 0, false, nil
			}
			if b[i+1] != '\n' || digits == 0 {
				return 0, 0, false, bad
			}
			if neg {
				n = -n
			}
			return n, i + 2, true, nil
		}
		if c < '0' || c > '9' {
			return 0, 0, false, bad
		}
		n = n*10 + int(c-'0')
		digits++
		if n > max {
			if neg {
				return 0, 0, false, bad
			}
			return 0, 0, false, bad
		}
	}
	if digits > 19 {
		return 0, 0, false, bad
	}
	return 0, 0, false, nil
}

// parseInline splits one line on spaces; double quotes group words.
func parseInline(b []byte, args [][]byte, lim Limits) ([][]byte, int, error) {
	end := -1
	for i, c := range b {
		if c == '\n' {
			end = i
			break
		}
		if i >= lim.MaxInline {
			return args, 0, ErrInlineTooBig
		}
	}
	if end < 0 {
		return args, 0, nil
	}
	line := b[:end]
	if len(line) > 0 && line[len(line)-1] == '\r' {
		line = line[:len(line)-1]
	}
	for i := 0; i < len(line); {
		c := line[i]
		if c == ' ' || c == '\t' {
			i++
			continue
		}
		if c == '"' || c == '\'' {
			j := i + 1
			for j < len(line) && line[j] != c {
				j++
			}
			if j >= len(line) {
				return args, 0, ErrUnbalanced
			}
			args = append(args, line[i+1:j:j])
			i = j + 1
			continue
		}
		j := i
		for j < len(line) && line[j] != ' ' && line[j] != '\t' {
			j++
		}
		if len(args) >= lim.MaxArgs {
			return args, 0, ErrMultibulkLen
		}
		args = append(args, line[i:j:j])
		i = j
	}
	return args, end + 1, nil
}
