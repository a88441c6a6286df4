package server

import (
	"errors"
	"log/slog"
	"time"

	"github.com/wasmgears/wasmgears/storage"
)

// Ctx is what a running command sees.
type Ctx struct {
	S    *Server
	C    *Client
	Tx   *storage.Tx // nil for commands that do not touch the keyspace
	W    *Writer
	Cmd  *Command
	Args [][]byte

	// InMulti is set while the command runs inside EXEC: blocking
	// commands must not block there.
	InMulti bool

	block    *blockReq
	deadline time.Time
	retried  bool
}

// Err writes err as an error reply: storage.Error texts go out verbatim,
// anything else is an internal error, logged.
func (c *Ctx) Err(err error) {
	var se storage.Error
	if errors.As(err, &se) {
		c.W.Error(string(se))
		return
	}
	var ce cmdError
	if errors.As(err, &ce) {
		c.W.Error(string(ce))
		return
	}
	slog.Error("command failed", "cmd", c.Cmd.Name, "err", err)
	c.W.Error("ERR " + err.Error())
}

// BulkOrNull writes the reply of a read that may find nothing: the error,
// a null, or the value.
func (c *Ctx) BulkOrNull(v []byte, ok bool, err error) {
	switch {
	case err != nil:
		c.Err(err)
	case !ok:
		c.W.Null()
	default:
		c.W.Bulk(v)
	}
}

// IntOrErr writes the reply of a command answering a count: the error or
// the integer.
func (c *Ctx) IntOrErr(n int64, err error) {
	if err != nil {
		c.Err(err)
		return
	}
	c.W.Int(n)
}

// cmdError is a client-facing error text produced while parsing.
type cmdError string

func (e cmdError) Error() string { return string(e) }

// Errors shared by many parsers.
var (
	errSyntax     = cmdError("ERR syntax error")
	errNotInteger = cmdError("ERR value is not an integer or out of range")
	errNotFloat   = cmdError("ERR value is not a valid float")
	errTimeout    = cmdError("ERR timeout is not a float or out of range")
	errNegTimeout = cmdError("ERR timeout is negative")
)

// errorf formats a client-facing error.
func errorf(s string) error { return cmdError(s) }
