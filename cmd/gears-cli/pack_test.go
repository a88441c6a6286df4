package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"
)

// TestPackAndUpload builds requirements three ways (a source dir, C with
// clang-19, Debian's installed python3-six), uploads them to the real
// binary and uses them from a session through go-redis.
func TestPackAndUpload(t *testing.T) {
	s := startServer(t)
	out := t.TempDir()
	src := t.TempDir()
	os.MkdirAll(filepath.Join(src, "hello"), 0o755)
	os.WriteFile(filepath.Join(src, "hello", "__init__.py"), []byte("import six\ndef hi():\n    return 'hi ' + six.__name__\n"), 0o644)
	os.MkdirAll(filepath.Join(src, "__pycache__"), 0o755)
	os.WriteFile(filepath.Join(src, "__pycache__", "x.pyc"), []byte("junk"), 0o644)

	var wheels []string
	pk := func(args ...string) {
		t.Helper()
		code, o, e := cli(append([]string{"pack"}, args...)...)
		if code != 0 {
			t.Fatalf("pack %v: %d %s %s", args, code, o, e)
		}
		wheels = append(wheels, strings.Fields(o)[0])
	}
	pk("dir", "-name", "hello", "-version", "0.1", "-requires", "six>=1.10", "-o", out, src)
	if _, err := os.Stat("/usr/lib/python3/dist-packages/six.py"); err != nil {
		t.Skip("python3-six is not installed")
	}
	pk("installed", "six", "-o", out)
	haveClang := false
	if _, err := exec.LookPath("clang-19"); err == nil {
		haveClang = true
		pk("c", "-name", "checksum", "-version", "1.0", "-module", "checksum", "-py", "../../examples/wasmreq/py", "-o", out, "../../examples/wasmreq/checksum.c")
	}
	if !strings.HasSuffix(wheels[0], "hello-0.1-py3-none-any.whl") || !strings.HasSuffix(wheels[1], "six-1.16.0-py3-none-any.whl") {
		t.Fatal(wheels)
	}
	code, o, e := cli(append(append([]string{"upload"}, s.conn(t)...), wheels...)...)
	if code != 0 || !strings.Contains(o, "Uploaded hello==0.1 (wheel") || !strings.Contains(o, "Uploaded six==1.16.0") {
		t.Fatalf("upload: %d %s %s", code, o, e)
	}
	// a bad file is refused locally, before anything is sent
	bad := filepath.Join(out, "bad-1.0-py3-none-any.whl")
	os.WriteFile(bad, []byte("not a zip"), 0o644)
	if code, _, e := cli(append(append([]string{"upload"}, s.conn(t)...), bad)...); code != 1 || !strings.Contains(e, "corrupt wheel") {
		t.Fatalf("bad upload: %d %s", code, e)
	}

	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:" + strconv.Itoa(s.Port), Protocol: 2})
	defer rdb.Close()
	ctx := context.Background()
	code2 := "import hello\nexecute('set', 'hi', hello.hi())"
	if err := rdb.Do(ctx, "RG.PYEXECUTE", code2, "REQUIREMENTS", "hello").Err(); err != nil {
		t.Fatal(err)
	}
	if v, _ := rdb.Get(ctx, "hi").Result(); v != "hi six" {
		t.Fatalf("hi = %q", v)
	}
	if haveClang {
		code3 := "import checksum, zlib\nexecute('set', 'crc', str(checksum.crc32(b'abc') == zlib.crc32(b'abc')))"
		if err := rdb.Do(ctx, "RG.PYEXECUTE", code3, "REQUIREMENTS", "checksum==1.0").Err(); err != nil {
			t.Fatal(err)
		}
		if v, _ := rdb.Get(ctx, "crc").Result(); v != "True" {
			t.Fatalf("crc = %q", v)
		}
	}
	err := rdb.Do(ctx, "RG.PYEXECUTE", "x=1", "REQUIREMENTS", "hello>=1").Err()
	if err == nil || !strings.Contains(err.Error(), "Could not satisfy requirements") || !strings.Contains(err.Error(), "hello>=1") {
		t.Fatal(err)
	}
	reqs, err := rdb.Do(ctx, "RG.PYDUMPREQS").Slice()
	if err != nil || len(reqs) < 2 {
		t.Fatal(reqs, err)
	}
}
