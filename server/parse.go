package server

import (
	"strconv"
	"strings"

	"github.com/wasmgears/wasmgears/storage"
)

// argp walks a command's arguments for option parsing.
type argp struct {
	args [][]byte
	i    int
}

func newArgp(args [][]byte, from int) *argp { return &argp{args: args, i: from} }

func (p *argp) more() bool   { return p.i < len(p.args) }
func (p *argp) left() int    { return len(p.args) - p.i }
func (p *argp) peek() []byte { return p.args[p.i] }

func (p *argp) next() []byte {
	a := p.args[p.i]
	p.i++
	return a
}

// is consumes the current argument if it equals tok (case-insensitively).
func (p *argp) is(tok string) bool {
	if p.i < len(p.args) && strings.EqualFold(string(p.args[p.i]), tok) {
		p.i++
		return true
	}
	return false
}

// value consumes the next argument, or fails with a syntax error.
func (p *argp) value() ([]byte, error) {
	if p.i >= len(p.args) {
		return nil, errSyntax
	}
	return p.next(), nil
}

func (p *argp) int() (int64, error) {
	v, err := p.value()
	if err != nil {
		return 0, err
	}
	return parseInt(v)
}

func parseInt(b []byte) (int64, error) {
	n, err := storage.ParseInt(b)
	if err != nil {
		return 0, errNotInteger
	}
	return n, nil
}

func parseFloat(b []byte) (float64, error) {
	f, err := storage.ParseFloat(b)
	if err != nil {
		return 0, errNotFloat
	}
	return f, nil
}

// parseTimeout parses a blocking command's timeout in seconds (float).
func parseTimeout(b []byte) (float64, error) {
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil {
		return 0, errTimeout
	}
	if f < 0 {
		return 0, errNegTimeout
	}
	return f, nil
}

func lowerEq(b []byte, s string) bool { return strings.EqualFold(string(b), s) }

// Key is a helper to build a key argument for COMMAND DOCS.
func keyArg(name string) Arg { return Arg{Name: name, Type: ArgKey} }
func strArg(name string) Arg { return Arg{Name: name, Type: ArgString} }
func intArg(name string) Arg { return Arg{Name: name, Type: ArgInteger} }
func optTok(tok string) Arg {
	return Arg{Name: strings.ToLower(tok), Type: ArgPureTok, Token: tok, Optional: true}
}

// runFunc adapts a function to Runner for commands without options.
type runFunc func(c *Ctx)

func (f runFunc) Run(c *Ctx) { f(c) }

// simple builds a Parser that runs fn with the raw args.
func simple(fn func(c *Ctx, args [][]byte)) Parser {
	return func(args [][]byte) (Runner, error) {
		return runFunc(func(c *Ctx) { fn(c, args) }), nil
	}
}
