package guest

import (
	"embed"
	"io/fs"
)

// The Python API every session sees (RedisGears 1.2's globals and
// GearsBuilder), mounted read-only in the guest's site directory. It is
// not part of the interpreter artifact, so editing it needs no toolchain
// run.
//
//go:embed python/*.py
var pythonFS embed.FS

// PythonAPI returns the API package files (gearsapi.py, redisgears.py) as
// an fs.FS rooted at their directory.
func PythonAPI() fs.FS {
	sub, err := fs.Sub(pythonFS, "python")
	if err != nil {
		panic(err)
	}
	return sub
}
