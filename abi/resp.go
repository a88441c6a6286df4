package abi

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Kind is the type of a RESP3 value.
type Kind uint8

// RESP3 kinds. Attributes ("|") are skipped by Decode.
const (
	KindNull      Kind = iota // "_"  (also RESP2 "$-1" and "*-1")
	KindSimple                // "+"
	KindError                 // "-"  (also "!" blob errors)
	KindInt                   // ":"
	KindBulk                  // "$"
	KindDouble                // ","
	KindBool                  // "#"
	KindBigNumber             // "("
	KindVerbatim              // "="
	KindArray                 // "*"
	KindMap                   // "%"
	KindSet                   // "~"
	KindPush                  // ">"
)

var kindNames = [...]string{"null", "simple", "error", "int", "bulk", "double", "bool",
	"bignumber", "verbatim", "array", "map", "set", "push"}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "kind(" + strconv.Itoa(int(k)) + ")"
}

// Value is one RESP3 value.
type Value struct {
	Kind Kind
	// Str holds the payload of simple strings, errors (without the leading
	// '-'), bulk strings, verbatim strings (without the format prefix) and
	// big numbers (the decimal digits).
	Str []byte
	// Format is the 3-byte format of a verbatim string ("txt", "mkd").
	Format string
	Int    int64
	Float  float64
	Bool   bool
	// Elems are the elements of an array, set or push; for a map the keys
	// and values alternate (k0, v0, k1, v1, ...).
	Elems []Value
}

// Constructors.

func Null() Value                { return Value{Kind: KindNull} }
func Simple(s string) Value      { return Value{Kind: KindSimple, Str: []byte(s)} }
func Error(s string) Value       { return Value{Kind: KindError, Str: []byte(s)} }
func Int(n int64) Value          { return Value{Kind: KindInt, Int: n} }
func Bulk(b []byte) Value        { return Value{Kind: KindBulk, Str: b} }
func BulkString(s string) Value  { return Value{Kind: KindBulk, Str: []byte(s)} }
func Double(f float64) Value     { return Value{Kind: KindDouble, Float: f} }
func Bool(b bool) Value          { return Value{Kind: KindBool, Bool: b} }
func BigNumber(s string) Value   { return Value{Kind: KindBigNumber, Str: []byte(s)} }
func Array(elems ...Value) Value { return Value{Kind: KindArray, Elems: elems} }
func Set(elems ...Value) Value   { return Value{Kind: KindSet, Elems: elems} }
func Push(elems ...Value) Value  { return Value{Kind: KindPush, Elems: elems} }

// Map builds a map from alternating keys and values.
func Map(kv ...Value) Value {
	if len(kv)%2 != 0 {
		panic("abi.Map: odd number of elements")
	}
	return Value{Kind: KindMap, Elems: kv}
}

// Verbatim builds a verbatim string; format must be 3 bytes ("txt").
func Verbatim(format, s string) Value {
	return Value{Kind: KindVerbatim, Format: format, Str: []byte(s)}
}

// Command builds the array of bulk strings that a command (or a host call
// request) is sent as.
func Command(args ...string) Value {
	elems := make([]Value, len(args))
	for i, a := range args {
		elems[i] = BulkString(a)
	}
	return Array(elems...)
}

// Encode returns the RESP3 encoding of v.
func (v Value) Encode() []byte { return AppendValue(nil, v) }

// AppendValue appends the RESP3 encoding of v to dst. CR and LF in simple
// strings are replaced by spaces (as Redis does); errors containing them are
// sent as blob errors.
func AppendValue(dst []byte, v Value) []byte {
	switch v.Kind {
	case KindNull:
		return append(dst, "_\r\n"...)
	case KindSimple:
		dst = append(dst, '+')
		for _, c := range v.Str {
			if c == '\r' || c == '\n' {
				c = ' '
			}
			dst = append(dst, c)
		}
		return append(dst, "\r\n"...)
	case KindError:
		if strings.ContainsAny(string(v.Str), "\r\n") {
			return appendBlob(dst, '!', v.Str)
		}
		dst = append(append(dst, '-'), v.Str...)
		return append(dst, "\r\n"...)
	case KindInt:
		dst = strconv.AppendInt(append(dst, ':'), v.Int, 10)
		return append(dst, "\r\n"...)
	case KindBulk:
		return appendBlob(dst, '$', v.Str)
	case KindDouble:
		dst = append(dst, ',')
		switch {
		case math.IsInf(v.Float, 1):
			dst = append(dst, "inf"...)
		case math.IsInf(v.Float, -1):
			dst = append(dst, "-inf"...)
		case math.IsNaN(v.Float):
			dst = append(dst, "nan"...)
		default:
			dst = strconv.AppendFloat(dst, v.Float, 'g', -1, 64)
		}
		return append(dst, "\r\n"...)
	case KindBool:
		if v.Bool {
			return append(dst, "#t\r\n"...)
		}
		return append(dst, "#f\r\n"...)
	case KindBigNumber:
		dst = append(append(dst, '('), v.Str...)
		return append(dst, "\r\n"...)
	case KindVerbatim:
		f := v.Format
		if len(f) != 3 {
			f = "txt"
		}
		dst = strconv.AppendInt(append(dst, '='), int64(len(v.Str)+4), 10)
		dst = append(append(append(dst, "\r\n"...), f...), ':')
		dst = append(dst, v.Str...)
		return append(dst, "\r\n"...)
	case KindArray, KindSet, KindPush, KindMap:
		n := len(v.Elems)
		if v.Kind == KindMap {
			n /= 2
		}
		dst = strconv.AppendInt(append(dst, aggType[v.Kind]), int64(n), 10)
		dst = append(dst, "\r\n"...)
		for _, e := range v.Elems {
			dst = AppendValue(dst, e)
		}
		return dst
	}
	panic(fmt.Sprintf("abi.AppendValue: bad kind %d", v.Kind))
}

var aggType = map[Kind]byte{KindArray: '*', KindSet: '~', KindPush: '>', KindMap: '%'}

// AppendBulk appends b as a bulk string.
func AppendBulk(dst, b []byte) []byte { return appendBlob(dst, '$', b) }

// AppendBulkString appends s as a bulk string.
func AppendBulkString(dst []byte, s string) []byte {
	dst = strconv.AppendInt(append(dst, '$'), int64(len(s)), 10)
	dst = append(append(dst, "\r\n"...), s...)
	return append(dst, "\r\n"...)
}

// AppendArrayHeader appends the header of an array of n elements (the
// elements follow).
func AppendArrayHeader(dst []byte, n int) []byte {
	return append(strconv.AppendInt(append(dst, '*'), int64(n), 10), "\r\n"...)
}

// AppendInt appends an integer reply.
func AppendInt(dst []byte, n int64) []byte {
	return append(strconv.AppendInt(append(dst, ':'), n, 10), "\r\n"...)
}

func appendBlob(dst []byte, t byte, b []byte) []byte {
	dst = strconv.AppendInt(append(dst, t), int64(len(b)), 10)
	dst = append(append(dst, "\r\n"...), b...)
	return append(dst, "\r\n"...)
}

// Decoding errors.
var (
	// ErrIncomplete: the input ends before the frame does (read more).
	ErrIncomplete = errors.New("resp: incomplete frame")
	// ErrProtocol: the input is not valid RESP3.
	ErrProtocol = errors.New("resp: protocol error")
)

// MaxDepth bounds the nesting of aggregates accepted by Decode.
const MaxDepth = 512

// Decode decodes one frame from the start of b and returns it with the
// number of bytes it took. Byte slices in the result alias b.
func Decode(b []byte) (Value, int, error) {
	d := decoder{b: b}
	v, err := d.value(0)
	if err != nil {
		return Value{}, 0, err
	}
	return v, d.p, nil
}

// Skip checks one frame at the start of b, as Decode does, without
// building it, and returns the number of bytes it took.
func Skip(b []byte) (int, error) {
	d := decoder{b: b, skip: true}
	if _, err := d.value(0); err != nil {
		return 0, err
	}
	return d.p, nil
}

// ArrayHeader reads the header of an array at the start of b ("*<n>\r\n",
// the elements follow) and returns n and the header's length.
func ArrayHeader(b []byte) (n, size int, err error) {
	if len(b) == 0 {
		return 0, 0, ErrIncomplete
	}
	if b[0] != '*' {
		return 0, 0, perr("not an array: %q", b[0])
	}
	d := decoder{b: b, p: 1}
	l, err := d.line()
	if err != nil {
		return 0, 0, err
	}
	c, err := parseInt(l)
	if err != nil {
		return 0, 0, err
	}
	if c < 0 {
		return 0, 0, perr("bad array length %d", c)
	}
	return int(c), d.p, nil
}

// DecodeAll decodes b, which must hold exactly one frame.
func DecodeAll(b []byte) (Value, error) {
	v, n, err := Decode(b)
	if err != nil {
		return v, err
	}
	if n != len(b) {
		return Value{}, fmt.Errorf("%w: %d trailing bytes", ErrProtocol, len(b)-n)
	}
	return v, nil
}

type decoder struct {
	b    []byte
	p    int
	skip bool // Skip: aggregates are read, not built
}

func perr(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrProtocol}, args...)...)
}

// line returns the bytes up to the next CRLF and moves past it. Lone CR or
// LF inside a line are rejected.
func (d *decoder) line() ([]byte, error) {
	for i := d.p; i < len(d.b); i++ {
		switch d.b[i] {
		case '\r':
			if i+1 >= len(d.b) {
				return nil, ErrIncomplete
			}
			if d.b[i+1] != '\n' {
				return nil, perr("CR without LF")
			}
			l := d.b[d.p:i]
			d.p = i + 2
			return l, nil
		case '\n':
			return nil, perr("LF without CR")
		}
	}
	return nil, ErrIncomplete
}

func parseInt(l []byte) (int64, error) {
	if len(l) == 0 || len(l) > 20 {
		return 0, perr("bad integer %q", l)
	}
	for i, c := range l {
		if (c < '0' || c > '9') && !(i == 0 && c == '-' && len(l) > 1) {
			return 0, perr("bad integer %q", l)
		}
	}
	n, err := strconv.ParseInt(string(l), 10, 64)
	if err != nil {
		return 0, perr("bad integer %q", l)
	}
	return n, nil
}

func (d *decoder) blob(l []byte) ([]byte, bool, error) {
	n, err := parseInt(l)
	if err != nil {
		return nil, false, err
	}
	if n < 0 {
		if n != -1 {
			return nil, false, perr("bad length %d", n)
		}
		return nil, true, nil
	}
	if int64(len(d.b)-d.p) < n+2 {
		return nil, false, ErrIncomplete
	}
	end := d.p + int(n)
	if d.b[end] != '\r' || d.b[end+1] != '\n' {
		return nil, false, perr("blob not terminated by CRLF")
	}
	s := d.b[d.p:end:end]
	d.p = end + 2
	return s, false, nil
}

func (d *decoder) value(depth int) (Value, error) {
	if depth > MaxDepth {
		return Value{}, perr("nested deeper than %d", MaxDepth)
	}
	if d.p >= len(d.b) {
		return Value{}, ErrIncomplete
	}
	t := d.b[d.p]
	d.p++
	l, err := d.line()
	if err != nil {
		return Value{}, err
	}
	switch t {
	case '+':
		return Value{Kind: KindSimple, Str: l}, nil
	case '-':
		return Value{Kind: KindError, Str: l}, nil
	case ':':
		n, err := parseInt(l)
		return Value{Kind: KindInt, Int: n}, err
	case '_':
		if len(l) != 0 {
			return Value{}, perr("bad null")
		}
		return Null(), nil
	case '#':
		if len(l) != 1 || (l[0] != 't' && l[0] != 'f') {
			return Value{}, perr("bad boolean %q", l)
		}
		return Bool(l[0] == 't'), nil
	case ',':
		return parseDouble(l)
	case '(':
		if _, ok := bigDigits(l); !ok {
			return Value{}, perr("bad big number %q", l)
		}
		return Value{Kind: KindBigNumber, Str: l}, nil
	case '$', '!', '=':
		s, null, err := d.blob(l)
		if err != nil {
			return Value{}, err
		}
		if null {
			if t != '$' {
				return Value{}, perr("null %c", t)
			}
			return Null(), nil
		}
		switch t {
		case '!':
			return Value{Kind: KindError, Str: s}, nil
		case '=':
			if len(s) < 4 || s[3] != ':' {
				return Value{}, perr("bad verbatim string")
			}
			return Value{Kind: KindVerbatim, Format: string(s[:3]), Str: s[4:]}, nil
		}
		return Value{Kind: KindBulk, Str: s}, nil
	case '*', '~', '>', '%', '|':
		n, err := parseInt(l)
		if err != nil {
			return Value{}, err
		}
		if n < 0 {
			if t == '*' && n == -1 {
				return Null(), nil
			}
			return Value{}, perr("bad aggregate length %d", n)
		}
		// every element takes at least 3 bytes (checked before doubling a
		// map's length, which could overflow)
		room := int64(len(d.b)-d.p)/3 + 1
		if n > room {
			return Value{}, ErrIncomplete
		}
		count := n
		if t == '%' || t == '|' {
			count = 2 * n
		}
		if count > room {
			return Value{}, ErrIncomplete
		}
		if d.skip {
			for range count {
				if _, err := d.value(depth + 1); err != nil {
					return Value{}, err
				}
			}
			if t == '|' {
				return d.value(depth)
			}
			return Value{Kind: KindArray}, nil
		}
		elems := make([]Value, count)
		for i := range elems {
			if elems[i], err = d.value(depth + 1); err != nil {
				return Value{}, err
			}
		}
		switch t {
		case '|': // attribute: not exposed, the real value follows
			return d.value(depth)
		case '*':
			return Value{Kind: KindArray, Elems: elems}, nil
		case '~':
			return Value{Kind: KindSet, Elems: elems}, nil
		case '>':
			return Value{Kind: KindPush, Elems: elems}, nil
		}
		return Value{Kind: KindMap, Elems: elems}, nil
	}
	return Value{}, perr("unknown type byte %q", t)
}

func parseDouble(l []byte) (Value, error) {
	switch string(l) {
	case "inf", "+inf":
		return Double(math.Inf(1)), nil
	case "-inf":
		return Double(math.Inf(-1)), nil
	case "nan", "-nan":
		return Double(math.NaN()), nil
	}
	for _, c := range l {
		if !(c >= '0' && c <= '9' || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E') {
			return Value{}, perr("bad double %q", l)
		}
	}
	f, err := strconv.ParseFloat(string(l), 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return Value{}, perr("bad double %q", l)
	}
	return Double(f), nil
}

func bigDigits(l []byte) ([]byte, bool) {
	d := l
	if len(d) > 0 && d[0] == '-' {
		d = d[1:]
	}
	if len(d) == 0 {
		return nil, false
	}
	for _, c := range d {
		if c < '0' || c > '9' {
			return nil, false
		}
	}
	return d, true
}

// Equal reports whether a and b are the same value (NaN equals NaN).
func Equal(a, b Value) bool {
	if a.Kind != b.Kind {
		return false
	}
	switch a.Kind {
	case KindNull:
		return true
	case KindSimple, KindError, KindBulk, KindBigNumber:
		return string(a.Str) == string(b.Str)
	case KindVerbatim:
		return a.Format == b.Format && string(a.Str) == string(b.Str)
	case KindInt:
		return a.Int == b.Int
	case KindDouble:
		return a.Float == b.Float || (math.IsNaN(a.Float) && math.IsNaN(b.Float))
	case KindBool:
		return a.Bool == b.Bool
	}
	if len(a.Elems) != len(b.Elems) {
		return false
	}
	for i := range a.Elems {
		if !Equal(a.Elems[i], b.Elems[i]) {
			return false
		}
	}
	return true
}

// String renders v for tests and logs, e.g. [bulk "a", int 1].
func (v Value) String() string {
	var sb strings.Builder
	v.format(&sb)
	return sb.String()
}

func (v Value) format(sb *strings.Builder) {
	switch v.Kind {
	case KindNull:
		sb.WriteString("null")
	case KindInt:
		sb.WriteString(strconv.FormatInt(v.Int, 10))
	case KindDouble:
		sb.WriteString(strconv.FormatFloat(v.Float, 'g', -1, 64))
	case KindBool:
		sb.WriteString(strconv.FormatBool(v.Bool))
	case KindArray, KindSet, KindPush, KindMap:
		open, close := "[", "]"
		switch v.Kind {
		case KindSet:
			open, close = "~{", "}"
		case KindPush:
			open, close = ">[", "]"
		case KindMap:
			open, close = "{", "}"
		}
		sb.WriteString(open)
		for i, e := range v.Elems {
			if i > 0 {
				if v.Kind == KindMap && i%2 == 1 {
					sb.WriteString(": ")
				} else {
					sb.WriteString(", ")
				}
			}
			e.format(sb)
		}
		sb.WriteString(close)
	default:
		sb.WriteString(v.Kind.String())
		sb.WriteByte(' ')
		sb.WriteString(strconv.Quote(string(v.Str)))
	}
}
