package host

import (
	"bytes"
	"context"
	"io"
	"io/fs"
	"log/slog"
	"path"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/wasmgears/wasmgears/guest"
)

// siteTree is an immutable in-memory directory tree served as an fs.FS:
// what a session sees at /usr/local/site (the gears API plus the files of
// its resolved requirements). Trees are shared between sessions with the
// same resolved set.
type siteTree struct {
	files map[string][]byte
	dirs  map[string][]fs.DirEntry // sorted by name; "." is the root
}

func newSiteTree(layers ...map[string][]byte) (*siteTree, error) {
	t := &siteTree{files: map[string][]byte{}, dirs: map[string][]fs.DirEntry{".": nil}}
	seenDir := map[string]bool{".": true}
	for _, l := range layers {
		for p, b := range l {
			if _, dup := t.files[p]; dup {
				return nil, &fs.PathError{Op: "mount", Path: p, Err: fs.ErrExist}
			}
			t.files[p] = b
			child := fileInfo{name: path.Base(p), size: int64(len(b))}
			for dir := path.Dir(p); ; dir = path.Dir(dir) {
				t.dirs[dir] = append(t.dirs[dir], child)
				if seenDir[dir] {
					break
				}
				seenDir[dir] = true
				child = fileInfo{name: path.Base(dir), dir: true}
				if dir == "." {
					break
				}
			}
		}
	}
	for d, ents := range t.dirs {
		sort.Slice(ents, func(i, j int) bool { return ents[i].Name() < ents[j].Name() })
		t.dirs[d] = ents
	}
	return t, nil
}

func (t *siteTree) Open(name string) (fs.File, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrInvalid}
	}
	if b, ok := t.files[name]; ok {
		return &memFile{info: fileInfo{name: path.Base(name), size: int64(len(b))}, Reader: bytes.NewReader(b)}, nil
	}
	if ents, ok := t.dirs[name]; ok {
		return &treeDir{name: path.Base(name), ents: ents}, nil
	}
	return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
}

type treeDir struct {
	name string
	ents []fs.DirEntry
	off  int
}

func (d *treeDir) Stat() (fs.FileInfo, error) { return fileInfo{name: d.name, dir: true}, nil }
func (d *treeDir) Read([]byte) (int, error) {
	return 0, &fs.PathError{Op: "read", Path: d.name, Err: fs.ErrInvalid}
}
func (d *treeDir) Close() error { return nil }
func (d *treeDir) ReadDir(n int) ([]fs.DirEntry, error) {
	rest := d.ents[d.off:]
	if n <= 0 {
		d.off = len(d.ents)
		return append([]fs.DirEntry(nil), rest...), nil
	}
	if len(rest) == 0 {
		return nil, io.EOF
	}
	n = min(n, len(rest))
	d.off += n
	return append([]fs.DirEntry(nil), rest[:n]...), nil
}

// siteSwitch is the fs.FS a pooled interpreter mounts at /usr/local/site
// (mounts are fixed at instantiation, and the wizer snapshot knows its
// preopens): the gears API until a session with requirements takes the
// interpreter and points it at its own tree.
type siteSwitch struct{ cur atomic.Pointer[siteTree] }

func newSiteSwitch() *siteSwitch {
	s := &siteSwitch{}
	s.cur.Store(apiTree())
	return s
}

func (s *siteSwitch) Open(name string) (fs.File, error) { return s.cur.Load().Open(name) }

var (
	srcOnce  sync.Once
	srcFiles map[string][]byte
	pycOnce  sync.Once
	apiPycs  map[string][]byte // __pycache__ files of the API, see apipyc.go
	apiOnce  sync.Once
	apiFiles map[string][]byte
	apiT     *siteTree
)

// apiSources is the gears API (guest/python) plus the `gears` package
// (gears.wasm, host/wasmreq.go), as sources.
func apiSources() map[string][]byte {
	srcOnce.Do(func() {
		srcFiles = map[string][]byte{}
		src := guest.PythonAPI()
		_ = fs.WalkDir(src, ".", func(p string, de fs.DirEntry, err error) error {
			if err != nil || de.IsDir() {
				return err
			}
			b, err := fs.ReadFile(src, p)
			if err == nil {
				srcFiles[p] = b
			}
			return err
		})
		for p, b := range gearsPackage {
			srcFiles[p] = []byte(strings.TrimLeft(b, "\n"))
		}
	})
	return srcFiles
}

// precompileAPI compiles the API once per process (before any session
// tree is built), so interpreters import it from bytecode.
func precompileAPI(ctx context.Context, e *Engine, log *slog.Logger) {
	pycOnce.Do(func() {
		pycs, err := e.compileAPI(ctx, apiSources())
		if err != nil {
			log.Warn("gears API stays uncompiled: every session compiles it", "err", err)
			return
		}
		apiPycs = pycs
	})
}

// apiLayer is the API's sources and, when precompiled, their bytecode.
func apiLayer() map[string][]byte {
	apiOnce.Do(func() {
		apiFiles = map[string][]byte{}
		for p, b := range apiSources() {
			apiFiles[p] = b
		}
		for p, b := range apiPycs {
			apiFiles[p] = b
		}
		var err error
		if apiT, err = newSiteTree(apiFiles); err != nil {
			panic(err)
		}
	})
	return apiFiles
}

func apiTree() *siteTree { apiLayer(); return apiT }
