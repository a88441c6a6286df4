package host

import (
	"errors"
	"strings"
)

// ErrStopped is matched (errors.Is) by the *PyError of an invoke that was
// stopped: gears.forcestopped reached the top of the guest stack. The
// instance stays usable.
var ErrStopped = errors.New("host: execution was stopped")

// ErrBroken is matched by errors of an instance that trapped (a wasm trap,
// out of memory in C code, stack exhaustion) or was killed. The instance is
// unusable: close it and use a new one.
var ErrBroken = errors.New("host: instance is broken")

// ErrClosed is returned by Invoke after Close.
var ErrClosed = errors.New("host: instance is closed")

// PyError is a Python exception that escaped an invoke. The instance is
// still usable.
type PyError struct {
	Type      string // exception type name, e.g. "ZeroDivisionError", "gears.error"
	Message   string // str(exception); may span lines
	Traceback string // the complete formatted traceback, as Python prints it
	Stopped   bool   // gears.forcestopped (also errors.Is(err, ErrStopped))
}

func (e *PyError) Error() string {
	if e.Message == "" {
		return e.Type
	}
	return e.Type + ": " + e.Message
}

// Unwrap makes errors.Is(err, ErrStopped) true for stopped invokes.
func (e *PyError) Unwrap() error {
	if e.Stopped {
		return ErrStopped
	}
	return nil
}

// newPyError splits the traceback text into the exception type and message.
// The last exception is what follows the last "Traceback (most recent call
// last):" block: its frame lines are indented, the exception line is not (a
// SyntaxError's location lines are indented too).
func newPyError(text string, stopped bool) *PyError {
	e := &PyError{Traceback: text, Stopped: stopped}
	rest := text
	if i := strings.LastIndex(rest, "Traceback (most recent call last):\n"); i >= 0 {
		rest = rest[i+len("Traceback (most recent call last):\n"):]
	}
	for rest != "" && (rest[0] == ' ' || rest[0] == '\t') {
		j := strings.IndexByte(rest, '\n')
		if j < 0 {
			rest = ""
			break
		}
		rest = rest[j+1:]
	}
	rest = strings.TrimRight(rest, "\n")
	typ, msg, ok := strings.Cut(rest, ": ")
	if !ok {
		typ, msg = strings.TrimSuffix(rest, ":"), ""
	}
	e.Type, e.Message = typ, msg
	if e.Type == "" {
		e.Type = "Exception"
	}
	return e
}

// BrokenError wraps the cause of a broken instance; errors.Is(err,
// ErrBroken) is true.
type BrokenError struct{ Cause error }

func (e *BrokenError) Error() string { return "host: instance is broken: " + e.Cause.Error() }
func (e *BrokenError) Unwrap() []error {
	return []error{ErrBroken, e.Cause}
}
