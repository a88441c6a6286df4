package main

import (
	"archive/zip"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/wasmgears/wasmgears/guest"
	"github.com/wasmgears/wasmgears/toolchain/pack"
)

// requirements measures sessions with requirements (issue 6): a new
// session with three requirements mounted, and the import of a mounted
// module vs the same module from the stdlib zip.
func requirements(ctx context.Context, c *redis.Client) {
	fmt.Println("-- requirements")
	upload := func(s pack.Spec) {
		_, b, err := pack.Build(s)
		check(err)
		check(c.Do(ctx, "RG.PYIMPORTREQ", b).Err())
	}
	for i := 1; i <= 3; i++ {
		files := map[string][]byte{}
		for j := 0; j < 20; j++ {
			files[fmt.Sprintf("benchreq%d/m%d.py", i, j)] = []byte(fmt.Sprintf("X = %d\n", j))
		}
		files[fmt.Sprintf("benchreq%d/__init__.py", i)] = []byte("V = 1\n")
		upload(pack.Spec{Name: fmt.Sprintf("benchreq%d", i), Version: "1.0", Files: files})
	}
	// fractions: the stdlib zip's .pyc, mounted as a .pyc and (when the
	// machine has Python sources) as a .py the guest compiles
	pyc := stdlibFile("fractions.pyc")
	files := map[string][]byte{"fracpyc.pyc": pyc}
	if src, err := filepath.Glob("/usr/lib/python3*/fractions.py"); err == nil && len(src) > 0 {
		b, err := os.ReadFile(src[0])
		check(err)
		files["fracsrc.py"] = b
	}
	upload(pack.Spec{Name: "fracbench", Version: "1.0", Files: files})

	time.Sleep(500 * time.Millisecond)
	for _, reqs := range [][]any{nil, {"REQUIREMENTS", "benchreq1", "benchreq2", "benchreq3"}} {
		ds := timeN(*n/2, 40*time.Millisecond, func() {
			_, err := pyexec(ctx, c, "x = 1", reqs...)
			check(err)
		})
		what := "no requirements"
		if reqs != nil {
			what = "three requirements mounted"
		}
		fmt.Printf("   new session, %s: p50 %s  p99 %s\n", what, ms(pct(ds, .5)), ms(pct(ds, .99)))
	}
	for _, mod := range []string{"fractions", "fracpyc", "fracsrc"} {
		if mod == "fracsrc" && files["fracsrc.py"] == nil {
			continue
		}
		var us []time.Duration
		for i := 0; i < 20; i++ {
			code := fmt.Sprintf("import time\nt = time.perf_counter()\nimport %s\nexecute('set', 'importus', str(int((time.perf_counter() - t) * 1e6)))", mod)
			_, err := pyexec(ctx, c, code, "REQUIREMENTS", "fracbench")
			check(err)
			v, err := c.Get(ctx, "importus").Result()
			check(err)
			n, _ := strconv.Atoi(v)
			us = append(us, time.Duration(n)*time.Microsecond)
		}
		where := map[string]string{"fractions": "stdlib zip (.pyc)", "fracpyc": "mounted requirement (.pyc)", "fracsrc": "mounted requirement (.py, compiled)"}[mod]
		fmt.Printf("   import fractions from the %s: p50 %s\n", where, ms(pct(us, .5)))
	}
}

func stdlibFile(name string) []byte {
	z := guest.StdlibZip()
	zr, err := zip.NewReader(bytes.NewReader(z), int64(len(z)))
	check(err)
	f, err := zr.Open(name)
	check(err)
	b, err := io.ReadAll(f)
	check(err)
	return b
}
