package storage

// Golden tests pinning the on-disk byte layout (key prefixes, meta value
// encoding, subkeys, score index, expiry index, system records). A change
// here is a data-format change: existing data dirs would no longer read.
// Regenerate deliberately with
//
//	go test ./storage/ -run TestLayout -update
//
// The file format follows cockroachdb/datadriven: a directive line, optional
// input lines, "----", the expected output, a blank line. Lines starting with
// # between blocks are comments.

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"flag"
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata golden files with the current output")

// layoutClock is the fixed keyspace clock of "run" blocks.
const layoutClock = 1700000000000

func TestLayout(t *testing.T) {
	runGolden(t, "testdata/layout", func(t *testing.T, d *directive) string {
		switch d.cmd {
		case "meta-key":
			return fmtKey(metaKey(d.int(t, "db"), []byte(d.str(t, "key"))))
		case "data-prefix":
			return fmtKey(dataPrefix(d.int(t, "db"), []byte(d.str(t, "key")), uint64(d.int(t, "version"))))
		case "zscore-key":
			k := zscorePrefix(d.int(t, "db"), []byte(d.str(t, "key")), uint64(d.int(t, "version")))
			f, err := strconv.ParseFloat(d.str(t, "score"), 64)
			if err != nil {
				t.Fatal(err)
			}
			k = append(append(k, sortableFloat(f)...), d.str(t, "member")...)
			return fmtKey(k)
		case "expiry-key":
			return fmtKey(expiryKey(int64(d.int(t, "at")), d.int(t, "db"), []byte(d.str(t, "key"))))
		case "system-key":
			return fmtKey(systemKey(strings.Split(d.str(t, "parts"), ",")...))
		case "meta":
			m := &Meta{Type: Type(d.int(t, "type")), ExpireAt: int64(d.int(t, "expire")),
				Version: uint64(d.int(t, "version")), Size: uint64(d.int(t, "size")), Payload: []byte(d.args["payload"])}
			b := m.encode()
			back, err := decodeMeta(b)
			if err != nil {
				t.Fatal(err)
			}
			if back.Type != m.Type || back.ExpireAt != m.ExpireAt || back.Version != m.Version || back.Size != m.Size || !bytes.Equal(back.Payload, m.Payload) {
				t.Fatalf("meta round trip: %+v != %+v", back, m)
			}
			return fmtMeta(b)
		case "sortable-float":
			var out strings.Builder
			var prev []byte
			for _, line := range d.input {
				f, err := strconv.ParseFloat(line, 64)
				if err != nil {
					t.Fatal(err)
				}
				b := sortableFloat(f)
				if back := unsortableFloat(b); back != f && !(f == 0 && back == 0) {
					t.Fatalf("sortableFloat(%v) round trip = %v", f, back)
				}
				if prev != nil && bytes.Compare(prev, b) > 0 {
					t.Fatalf("sortableFloat order broken before %v", f)
				}
				prev = b
				fmt.Fprintf(&out, "%-10s %x\n", line, b)
			}
			return out.String()
		case "run":
			return runLayoutScript(t, d.input)
		}
		t.Fatalf("unknown directive %q", d.cmd)
		return ""
	})
}

// runLayoutScript applies the ops to a fresh keyspace (fixed clock) and
// dumps every Pebble key and value.
func runLayoutScript(t *testing.T, ops []string) string {
	db, err := Open(t.TempDir(), Options{Now: func() int64 { return layoutClock }})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	dbn := 0
	for _, line := range ops {
		f := strings.Fields(line)
		if len(f) < 2 {
			t.Fatalf("bad op %q", line)
		}
		if f[0] == "select" {
			dbn, _ = strconv.Atoi(f[1])
			continue
		}
		key := []byte(f[1])
		args := make([][]byte, 0, len(f))
		for _, a := range f[2:] {
			args = append(args, []byte(a))
		}
		db.Lock()
		tx := db.Begin(dbn)
		tx.Cmd = f[0]
		var err error
		switch f[0] {
		case "set":
			_, _, _, err = tx.Set(key, args[0], SetOptions{})
		case "set-expire": // set-expire key value atMs
			at, _ := strconv.ParseInt(f[3], 10, 64)
			_, _, _, err = tx.Set(key, args[0], SetOptions{ExpireAt: at})
		case "expire":
			at, _ := strconv.ParseInt(f[2], 10, 64)
			_, err = tx.Expire(key, at, ExpireFlags{})
		case "del":
			_, err = tx.Delete(key)
		case "hset":
			_, err = tx.HSet(key, args)
		case "sadd":
			_, err = tx.SAdd(key, args)
		case "zadd":
			var elems []ScoreMember
			for i := 0; i+1 < len(args); i += 2 {
				sc, _ := strconv.ParseFloat(string(args[i]), 64)
				elems = append(elems, ScoreMember{Member: args[i+1], Score: sc})
			}
			_, err = tx.ZAdd(key, elems, ZAddOptions{})
		case "rpush", "lpush":
			_, err = tx.Push(key, args, f[0] == "lpush", false)
		default:
			err = fmt.Errorf("unknown op %q", f[0])
		}
		if err == nil {
			err = tx.Commit()
		}
		db.Unlock()
		if err != nil {
			t.Fatalf("%s: %v", line, err)
		}
	}
	it, err := db.pdb.NewIter(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer it.Close()
	var out strings.Builder
	for ok := it.First(); ok; ok = it.Next() {
		k, v := it.Key(), it.Value()
		val := fmtValue(v)
		if k[0] == prefixMeta {
			val = fmtMeta(v)
		}
		fmt.Fprintf(&out, "%s\n    -> %s\n", fmtKey(k), val)
	}
	return out.String()
}

// fmtKey renders a key field by field so that every byte is visible.
func fmtKey(k []byte) string {
	if len(k) == 0 {
		return "(empty)"
	}
	rest := k[1:]
	switch k[0] {
	case prefixMeta:
		if len(rest) >= 1 {
			return fmt.Sprintf("M db=%02x key=%s", rest[0], quote(rest[1:]))
		}
	case prefixData, prefixZScore:
		if len(rest) >= 5 {
			n := int(uint32(rest[1])<<24 | uint32(rest[2])<<16 | uint32(rest[3])<<8 | uint32(rest[4]))
			if len(rest) >= 5+n+8 {
				s := fmt.Sprintf("%c db=%02x keylen=%x key=%s version=%x", k[0], rest[0], rest[1:5], quote(rest[5:5+n]), rest[5+n:5+n+8])
				sub := rest[5+n+8:]
				if k[0] == prefixZScore && len(sub) >= 8 {
					return s + fmt.Sprintf(" score=%x(%v) member=%s", sub[:8], unsortableFloat(sub[:8]), quote(sub[8:]))
				}
				if len(sub) > 0 {
					s += " sub=" + fmtValue(sub)
				}
				return s
			}
		}
	case prefixExpiry:
		if at, db, key, ok := decodeExpiryKey(k); ok {
			return fmt.Sprintf("X at=%x(%d) db=%02x key=%s", k[1:9], at, db, quote(key))
		}
	case prefixSystem:
		return "S " + quote(rest)
	}
	return "raw " + fmtValue(k)
}

// fmtMeta renders a meta value as its fields in hex, then the payload.
func fmtMeta(b []byte) string {
	if len(b) < metaHeaderLen {
		return "short meta " + fmtValue(b)
	}
	s := fmt.Sprintf("type=%02x(%s) enc=%02x expire=%x version=%x size=%x",
		b[0], Type(b[0]), b[1], b[2:10], b[10:18], b[18:26])
	if p := b[metaHeaderLen:]; len(p) > 0 {
		s += " payload=" + fmtValue(p)
	}
	return s
}

// fmtValue renders bytes as hex plus a quoted form when mostly printable.
func fmtValue(b []byte) string {
	if len(b) == 0 {
		return "(empty)"
	}
	printable := 0
	for _, c := range b {
		if c >= 0x20 && c < 0x7f {
			printable++
		}
	}
	if printable == len(b) {
		return quote(b)
	}
	return hex.EncodeToString(b)
}

func quote(b []byte) string { return strconv.Quote(string(b)) }

// directive is one block of a golden file.
type directive struct {
	pos    string // file:line
	cmd    string
	args   map[string]string
	input  []string
	output string
}

func (d *directive) str(t *testing.T, k string) string {
	v, ok := d.args[k]
	if !ok {
		t.Fatalf("%s: %s needs %s=", d.pos, d.cmd, k)
	}
	return v
}

func (d *directive) int(t *testing.T, k string) int {
	v := d.str(t, k)
	if v == "max" {
		return math.MaxInt64
	}
	n, err := strconv.ParseInt(v, 0, 64)
	if err != nil {
		t.Fatalf("%s: %s=%q: %v", d.pos, k, v, err)
	}
	return int(n)
}

// runGolden runs every block of path through f and compares (or with
// -update rewrites) the expected outputs.
func runGolden(t *testing.T, path string, f func(*testing.T, *directive) string) {
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	sc := bufio.NewScanner(bytes.NewReader(raw))
	sc.Buffer(nil, 1<<20)
	line := 0
	next := func() (string, bool) {
		if !sc.Scan() {
			return "", false
		}
		line++
		return sc.Text(), true
	}
	for {
		l, ok := next()
		if !ok {
			break
		}
		if strings.TrimSpace(l) == "" || strings.HasPrefix(l, "#") {
			out.WriteString(l + "\n")
			continue
		}
		d := &directive{pos: fmt.Sprintf("%s:%d", path, line), args: map[string]string{}}
		fields := strings.Fields(l)
		d.cmd = fields[0]
		for _, a := range fields[1:] {
			k, v, _ := strings.Cut(a, "=")
			if uq, err := strconv.Unquote(v); err == nil {
				v = uq
			}
			d.args[k] = v
		}
		out.WriteString(l + "\n")
		for {
			l, ok = next()
			if !ok {
				t.Fatalf("%s: missing ----", d.pos)
			}
			out.WriteString(l + "\n")
			if l == "----" {
				break
			}
			d.input = append(d.input, l)
		}
		var want strings.Builder
		for {
			l, ok = next()
			if !ok || l == "" {
				break
			}
			want.WriteString(l + "\n")
		}
		d.output = want.String()
		var got string
		t.Run(fmt.Sprintf("%s/%s", d.pos, d.cmd), func(t *testing.T) {
			got = f(t, d)
			if got != "" && !strings.HasSuffix(got, "\n") {
				got += "\n"
			}
			if !*update && got != d.output {
				t.Errorf("%s: layout changed\n--- want\n%s--- got\n%s", d.pos, d.output, got)
			}
		})
		out.WriteString(got)
		if ok {
			out.WriteString("\n")
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if *update {
		if err := os.WriteFile(path, out.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
