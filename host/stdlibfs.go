package host

import (
	"bytes"
	"io"
	"io/fs"
	"time"
)

// fileDirFS is a read-only fs.FS holding exactly one file in its root,
// served from memory: the guest's /usr/local/lib with python313.zip. No temp
// files, no host paths.
type fileDirFS struct {
	name string
	data []byte
}

var fixedModTime = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

func (f *fileDirFS) Open(name string) (fs.File, error) {
	switch {
	case !fs.ValidPath(name):
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrInvalid}
	case name == ".":
		return &memDir{fsys: f}, nil
	case name == f.name:
		return &memFile{info: fileInfo{name: f.name, size: int64(len(f.data))}, Reader: bytes.NewReader(f.data)}, nil
	}
	return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
}

type fileInfo struct {
	name string
	size int64
	dir  bool
}

func (i fileInfo) Name() string { return i.name }
func (i fileInfo) Size() int64  { return i.size }
func (i fileInfo) Mode() fs.FileMode {
	if i.dir {
		return fs.ModeDir | 0o555
	}
	return 0o444
}
func (i fileInfo) ModTime() time.Time         { return fixedModTime }
func (i fileInfo) IsDir() bool                { return i.dir }
func (i fileInfo) Sys() any                   { return nil }
func (i fileInfo) Info() (fs.FileInfo, error) { return i, nil }
func (i fileInfo) Type() fs.FileMode          { return i.Mode().Type() }

// memFile implements fs.File, io.Seeker and io.ReaderAt (wazero uses them
// for fd_seek / fd_pread).
type memFile struct {
	info fileInfo
	*bytes.Reader
}

func (f *memFile) Stat() (fs.FileInfo, error) { return f.info, nil }
func (f *memFile) Close() error               { return nil }

type memDir struct {
	fsys *fileDirFS
	done bool
}

func (d *memDir) Stat() (fs.FileInfo, error) { return fileInfo{name: ".", dir: true}, nil }
func (d *memDir) Read([]byte) (int, error) {
	return 0, &fs.PathError{Op: "read", Path: ".", Err: fs.ErrInvalid}
}
func (d *memDir) Close() error { return nil }
func (d *memDir) ReadDir(n int) ([]fs.DirEntry, error) {
	if d.done {
		if n > 0 {
			return nil, io.EOF
		}
		return nil, nil
	}
	d.done = true
	return []fs.DirEntry{fileInfo{name: d.fsys.name, size: int64(len(d.fsys.data))}}, nil
}

// emptyFS is an empty read-only directory.
type emptyFS struct{}

func (emptyFS) Open(name string) (fs.File, error) {
	if name == "." {
		return &memDir{fsys: nil, done: true}, nil
	}
	return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
}
