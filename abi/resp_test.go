package abi

import (
	"errors"
	"math"
	"testing"
)

func TestEncodeDecodeTable(t *testing.T) {
	cases := []struct {
		name string
		v    Value
		wire string
	}{
		{"null", Null(), "_\r\n"},
		{"simple", Simple("OK"), "+OK\r\n"},
		{"simple-crlf-sanitised", Simple("a\r\nb"), "+a  b\r\n"},
		{"error", Error("ERR bad"), "-ERR bad\r\n"},
		{"blob-error", Error("ERR\nmulti"), "!9\r\nERR\nmulti\r\n"},
		{"int", Int(-42), ":-42\r\n"},
		{"int-max", Int(math.MaxInt64), ":9223372036854775807\r\n"},
		{"bulk", BulkString("hello"), "$5\r\nhello\r\n"},
		{"bulk-empty", BulkString(""), "$0\r\n\r\n"},
		{"bulk-binary", Bulk([]byte{0, '\r', '\n', 0xff}), "$4\r\n\x00\r\n\xff\r\n"},
		{"double", Double(1.5), ",1.5\r\n"},
		{"double-inf", Double(math.Inf(1)), ",inf\r\n"},
		{"double-ninf", Double(math.Inf(-1)), ",-inf\r\n"},
		{"double-nan", Double(math.NaN()), ",nan\r\n"},
		{"bool-t", Bool(true), "#t\r\n"},
		{"bool-f", Bool(false), "#f\r\n"},
		{"bignum", BigNumber("-3492890328409238509324850943850943825024385"), "(-3492890328409238509324850943850943825024385\r\n"},
		{"verbatim", Verbatim("txt", "Some string"), "=15\r\ntxt:Some string\r\n"},
		{"array", Array(BulkString("a"), Int(1), Null()), "*3\r\n$1\r\na\r\n:1\r\n_\r\n"},
		{"array-empty", Array(), "*0\r\n"},
		{"set", Set(Simple("x")), "~1\r\n+x\r\n"},
		{"push", Push(BulkString("message")), ">1\r\n$7\r\nmessage\r\n"},
		{"map", Map(Simple("k"), Int(1), BulkString("k2"), Array(Bool(true))), "%2\r\n+k\r\n:1\r\n$2\r\nk2\r\n*1\r\n#t\r\n"},
		{"command", Command("execute", "SET", "k", "v"), "*4\r\n$7\r\nexecute\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n"},
		{"nested", Array(Array(Array(Int(1)))), "*1\r\n*1\r\n*1\r\n:1\r\n"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := string(c.v.Encode())
			if got != c.wire {
				t.Fatalf("encode: got %q want %q", got, c.wire)
			}
			v, n, err := Decode([]byte(c.wire + "+next\r\n"))
			if err != nil || n != len(c.wire) {
				t.Fatalf("decode: %v n=%d", err, n)
			}
			if n, err := Skip([]byte(c.wire + "+next\r\n")); err != nil || n != len(c.wire) {
				t.Fatalf("skip: %v n=%d", err, n)
			}
			want := c.v
			if c.name == "simple-crlf-sanitised" {
				want = Simple("a  b")
			}
			if !Equal(v, want) {
				t.Fatalf("decode: got %v want %v", v, want)
			}
		})
	}
}

func TestDecodeVariants(t *testing.T) {
	cases := []struct {
		wire string
		want Value
	}{
		{"$-1\r\n", Null()},
		{"*-1\r\n", Null()},
		{",+inf\r\n", Double(math.Inf(1))},
		{",1e3\r\n", Double(1000)},
		{",-0.25\r\n", Double(-0.25)},
		{":007\r\n", Int(7)},
		{"|1\r\n+ttl\r\n:3600\r\n$1\r\nv\r\n", BulkString("v")}, // attribute skipped
	}
	for _, c := range cases {
		v, err := DecodeAll([]byte(c.wire))
		if err != nil || !Equal(v, c.want) {
			t.Errorf("%q: got %v, %v; want %v", c.wire, v, err, c.want)
		}
	}
}

func TestDecodeErrors(t *testing.T) {
	incomplete := []string{"", "+OK", "+OK\r", "$5\r\nhel", "$5\r\nhello\r", "*2\r\n:1\r\n", "%1\r\n+k\r\n", ":1"}
	for _, w := range incomplete {
		if _, _, err := Decode([]byte(w)); !errors.Is(err, ErrIncomplete) {
			t.Errorf("%q: want ErrIncomplete, got %v", w, err)
		}
		if _, err := Skip([]byte(w)); !errors.Is(err, ErrIncomplete) {
			t.Errorf("skip %q: want ErrIncomplete, got %v", w, err)
		}
	}
	bad := []string{"?x\r\n", ":12a\r\n", ":\r\n", ":-\r\n", "$-2\r\n", "$3\r\nabcd\r\n", "#x\r\n", ",1.5x\r\n",
		"(12a\r\n", "=3\r\nabc\r\n", "_x\r\n", "+a\nb\r\n", "+a\rb\r\n", "*-2\r\n", "~-1\r\n",
		":99999999999999999999\r\n"}
	for _, w := range bad {
		if _, _, err := Decode([]byte(w)); !errors.Is(err, ErrProtocol) {
			t.Errorf("%q: want ErrProtocol, got %v", w, err)
		}
		if _, err := Skip([]byte("*2\r\n:1\r\n" + w)); !errors.Is(err, ErrProtocol) {
			t.Errorf("skip %q in an array: want ErrProtocol, got %v", w, err)
		}
	}
	if _, err := DecodeAll([]byte("+a\r\n+b\r\n")); !errors.Is(err, ErrProtocol) {
		t.Errorf("trailing bytes: %v", err)
	}
	deep := ""
	for i := 0; i <= MaxDepth+1; i++ {
		deep += "*1\r\n"
	}
	deep += ":1\r\n"
	if _, _, err := Decode([]byte(deep)); !errors.Is(err, ErrProtocol) {
		t.Errorf("too deep: %v", err)
	}
	if _, err := Skip([]byte(deep)); !errors.Is(err, ErrProtocol) {
		t.Errorf("skip too deep: %v", err)
	}
}

func TestAppendHelpers(t *testing.T) {
	got := string(AppendBulkString(AppendInt(AppendBulk(AppendArrayHeader([]byte("x"), 4), []byte("a\r\nb")), -7), "é"))
	if want := "x*4\r\n$4\r\na\r\nb\r\n:-7\r\n$2\r\né\r\n"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestString(t *testing.T) {
	v := Map(BulkString("a"), Array(Int(1), Double(2.5), Null(), Bool(true)))
	if got := v.String(); got != `{bulk "a": [1, 2.5, null, true]}` {
		t.Fatal(got)
	}
}

// FuzzDecode: Decode never panics, and whatever it accepts re-encodes to a
// frame that decodes to an equal value.
func FuzzDecode(f *testing.F) {
	for _, s := range []string{"+OK\r\n", "-ERR x\r\n", ":1\r\n", "$3\r\nabc\r\n", "_\r\n", ",1.5\r\n",
		"#t\r\n", "(123\r\n", "=7\r\ntxt:abc\r\n", "*2\r\n:1\r\n$-1\r\n", "%1\r\n+a\r\n~1\r\n>0\r\n",
		"|1\r\n+a\r\n+b\r\n:5\r\n", "!3\r\nerr\r\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		v, n, err := Decode(b)
		if err != nil {
			return
		}
		if n <= 0 || n > len(b) {
			t.Fatalf("bad length %d of %d", n, len(b))
		}
		enc := v.Encode()
		v2, err := DecodeAll(enc)
		if err != nil {
			t.Fatalf("re-decode of %q (from %q): %v", enc, b[:n], err)
		}
		if !Equal(v, v2) {
			t.Fatalf("round trip: %v != %v", v, v2)
		}
	})
}

func TestArrayHeader(t *testing.T) {
	if n, size, err := ArrayHeader([]byte("*12\r\n:1\r\n")); n != 12 || size != 5 || err != nil {
		t.Errorf("*12: got %d %d %v", n, size, err)
	}
	for _, w := range []string{"", "*", "*3\r"} {
		if _, _, err := ArrayHeader([]byte(w)); !errors.Is(err, ErrIncomplete) {
			t.Errorf("%q: want ErrIncomplete, got %v", w, err)
		}
	}
	for _, w := range []string{"$3\r\nabc\r\n", "*-1\r\n", "*x\r\n"} {
		if _, _, err := ArrayHeader([]byte(w)); !errors.Is(err, ErrProtocol) {
			t.Errorf("%q: want ErrProtocol, got %v", w, err)
		}
	}
}
