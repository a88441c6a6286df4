package server

import (
	"math"
	"strconv"
)

// Writer builds one reply in RESP2 or RESP3 (Proto). Commands write through
// it; the dispatcher sends the bytes. The RESP3-only types degrade to their
// RESP2 shapes as Redis does (map -> flat array, double -> bulk, ...).
type Writer struct {
	b     []byte
	Proto int
}

func (w *Writer) Bytes() []byte { return w.b }
func (w *Writer) Len() int      { return len(w.b) }
func (w *Writer) Reset()        { w.b = w.b[:0] }
func (w *Writer) Truncate(n int) {
	w.b = w.b[:n]
}

func (w *Writer) line(prefix byte, s string) {
	w.b = append(w.b, prefix)
	w.b = append(w.b, s...)
	w.b = append(w.b, '\r', '\n')
}

func (w *Writer) header(prefix byte, n int64) {
	w.b = append(w.b, prefix)
	w.b = strconv.AppendInt(w.b, n, 10)
	w.b = append(w.b, '\r', '\n')
}

// Simple writes a status reply (+OK).
func (w *Writer) Simple(s string) { w.line('+', s) }

// OK writes +OK.
func (w *Writer) OK() { w.b = append(w.b, "+OK\r\n"...) }

// Error writes an error reply; msg must carry its code ("ERR ...").
func (w *Writer) Error(msg string) {
	w.b = append(w.b, '-')
	for i := 0; i < len(msg); i++ { // error lines cannot hold newlines
		if c := msg[i]; c == '\r' || c == '\n' {
			w.b = append(w.b, ' ')
		} else {
			w.b = append(w.b, c)
		}
	}
	w.b = append(w.b, '\r', '\n')
}

// Int writes an integer reply.
func (w *Writer) Int(n int64) { w.header(':', n) }

// Bulk writes a bulk string.
func (w *Writer) Bulk(b []byte) {
	w.header('$', int64(len(b)))
	w.b = append(w.b, b...)
	w.b = append(w.b, '\r', '\n')
}

// BulkString writes a bulk string.
func (w *Writer) BulkString(s string) {
	w.header('$', int64(len(s)))
	w.b = append(w.b, s...)
	w.b = append(w.b, '\r', '\n')
}

// Null writes a null bulk ($-1 / _).
func (w *Writer) Null() {
	if w.Proto >= 3 {
		w.b = append(w.b, "_\r\n"...)
	} else {
		w.b = append(w.b, "$-1\r\n"...)
	}
}

// NullArray writes a null array (*-1 / _).
func (w *Writer) NullArray() {
	if w.Proto >= 3 {
		w.b = append(w.b, "_\r\n"...)
	} else {
		w.b = append(w.b, "*-1\r\n"...)
	}
}

// Array writes an array header of n elements.
func (w *Writer) Array(n int) { w.header('*', int64(n)) }

// Map writes a map header of n pairs (a flat array of 2n in RESP2).
func (w *Writer) Map(n int) {
	if w.Proto >= 3 {
		w.header('%', int64(n))
	} else {
		w.header('*', int64(2*n))
	}
}

// Set writes a set header (an array in RESP2).
func (w *Writer) Set(n int) {
	if w.Proto >= 3 {
		w.header('~', int64(n))
	} else {
		w.header('*', int64(n))
	}
}

// Push writes a push header (an array in RESP2), for pub/sub messages.
func (w *Writer) Push(n int) {
	if w.Proto >= 3 {
		w.header('>', int64(n))
	} else {
		w.header('*', int64(n))
	}
}

// Double writes a double (a bulk string in RESP2, formatted like Redis).
func (w *Writer) Double(f float64) {
	if w.Proto >= 3 {
		w.b = append(w.b, ',')
		w.b = append(w.b, formatDouble(f, true)...)
		w.b = append(w.b, '\r', '\n')
		return
	}
	w.Bulk(formatDouble(f, false))
}

// Bool writes a boolean (:1/:0 in RESP2).
func (w *Writer) Bool(v bool) {
	if w.Proto >= 3 {
		if v {
			w.b = append(w.b, "#t\r\n"...)
		} else {
			w.b = append(w.b, "#f\r\n"...)
		}
		return
	}
	if v {
		w.Int(1)
	} else {
		w.Int(0)
	}
}

// Verbatim writes a verbatim string (txt), a bulk string in RESP2.
func (w *Writer) Verbatim(s string) {
	if w.Proto >= 3 {
		w.header('=', int64(len(s)+4))
		w.b = append(w.b, "txt:"...)
		w.b = append(w.b, s...)
		w.b = append(w.b, '\r', '\n')
		return
	}
	w.BulkString(s)
}

// Raw appends pre-encoded RESP.
func (w *Writer) Raw(b []byte) { w.b = append(w.b, b...) }

// Strings writes an array of bulk strings.
func (w *Writer) Strings(ss []string) {
	w.Array(len(ss))
	for _, s := range ss {
		w.BulkString(s)
	}
}

// Bulks writes an array of bulk strings.
func (w *Writer) Bulks(bs [][]byte) {
	w.Array(len(bs))
	for _, b := range bs {
		w.Bulk(b)
	}
}

// formatDouble formats a score as Redis 7.0 does in both protocols:
// C's "%.17g" (1.1 -> 1.1000000000000001, 1e100 -> 1e+100), inf/-inf.
// strconv's 'g' with precision 17 matches C's %.17g.
func formatDouble(f float64, resp3 bool) []byte {
	switch {
	case math.IsInf(f, 1):
		return []byte("inf")
	case math.IsInf(f, -1):
		return []byte("-inf")
	case math.IsNaN(f):
		return []byte("nan")
	}
	return strconv.AppendFloat(nil, f, 'g', 17, 64)
}
