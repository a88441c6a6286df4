package host

import (
	"slices"
	"testing"
)

func TestReadReply(t *testing.T) {
	one := "*2\r\n*1\r\n$1\r\na\r\n*0\r\n"
	two := "*2\r\n*2\r\n*2\r\n:1\r\n$9\r\nPY RECORD\r\n+ok\r\n*2\r\n$3\r\nbad\r\n$5\r\nworse\r\n"
	cases := []struct {
		name, reply string
		results     int
		errs        []string
		n           int
		ok          bool
	}{
		{"one result", one, 1, nil, len(one), true},
		{"stats frame after it", one + "*2\r\n:5\r\n*0\r\n", 1, nil, len(one), true},
		{"nested results and errors", two, 2, []string{"bad", "worse"}, len(two), true},
		{"nothing", "*2\r\n*0\r\n*0\r\n", 0, nil, 12, true},
		{"not a pair", "*3\r\n*0\r\n*0\r\n*0\r\n", 0, nil, 0, false},
		{"bad header", "*2\r\n*x\r\n*0\r\n", 0, nil, 0, false},
		{"truncated result", "*2\r\n*1\r\n$5\r\nab", 0, nil, 0, false},
		{"truncated errors", "*2\r\n*0\r\n*2\r\n$1\r\na\r\n", 0, nil, 0, false},
		{"empty", "", 0, nil, 0, false},
	}
	for _, c := range cases {
		res, errs, n, ok := readReply([]byte(c.reply))
		if res != c.results || !slices.Equal(errs, c.errs) || n != c.n || ok != c.ok {
			t.Errorf("%s: got %d %q %d %v, want %d %q %d %v", c.name, res, errs, n, ok, c.results, c.errs, c.n, c.ok)
		}
	}
}
