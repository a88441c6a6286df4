package guest

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// inputsHash mirrors toolchain/inputs-hash.sh: sha256 over the lines
// "<path> <sha256 of content>\n" of every regular file under toolchain/ and
// guest/c/ except *.md and toolchain/pack/, sorted bytewise by repo-relative path.
func inputsHash(t *testing.T, repo string) string {
	t.Helper()
	var paths []string
	for _, dir := range []string{"toolchain", "guest/c"} {
		err := filepath.WalkDir(filepath.Join(repo, dir), func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() && filepath.ToSlash(p) == filepath.ToSlash(filepath.Join(repo, "toolchain", "pack")) {
				return filepath.SkipDir // the requirement packer: not an interpreter input
			}
			if !d.Type().IsRegular() || strings.HasSuffix(d.Name(), ".md") {
				return nil
			}
			rel, err := filepath.Rel(repo, p)
			if err != nil {
				return err
			}
			paths = append(paths, filepath.ToSlash(rel))
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	sort.Strings(paths)
	var list bytes.Buffer
	for _, p := range paths {
		b, err := os.ReadFile(filepath.Join(repo, p))
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(b)
		list.WriteString(p + " " + hex.EncodeToString(sum[:]) + "\n")
	}
	sum := sha256.Sum256(list.Bytes())
	return hex.EncodeToString(sum[:])
}

func TestRuntimeNotStale(t *testing.T) {
	want := strings.TrimSpace(string(mustRead("INPUTS.sha256")))
	if got := inputsHash(t, ".."); got != want {
		t.Fatalf("guest runtime is stale: run make toolchain\n(toolchain/ and guest/c/ hash to %s, the runtime was built from %s)", got, want)
	}
}

func TestSHA256SUMS(t *testing.T) {
	sums := mustRead("SHA256SUMS")
	seen := map[string]bool{}
	sc := bufio.NewScanner(bytes.NewReader(sums))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) != 2 {
			t.Fatalf("bad SHA256SUMS line %q", sc.Text())
		}
		name := strings.TrimPrefix(f[1], "*")
		b, err := fs.ReadFile(Runtime(), name)
		if err != nil {
			t.Fatalf("%s listed in SHA256SUMS but not embedded: %v", name, err)
		}
		sum := sha256.Sum256(b)
		if got := hex.EncodeToString(sum[:]); got != f[0] {
			t.Fatalf("%s: sha256 %s, SHA256SUMS says %s", name, got, f[0])
		}
		seen[name] = true
	}
	for _, name := range []string{"python.wasm", "python313.zip"} {
		if !seen[name] {
			t.Fatalf("%s missing from SHA256SUMS", name)
		}
	}
	if !bytes.Equal(PythonWasm()[:4], []byte("\x00asm")) {
		t.Fatal("python.wasm is not a wasm module")
	}
	if !bytes.HasPrefix(StdlibZip(), []byte("PK")) {
		t.Fatal("python313.zip is not a zip")
	}
	if !strings.HasPrefix(Version(), "cpython 3.13.") {
		t.Fatalf("VERSION: %q", Version())
	}
}
