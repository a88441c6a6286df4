package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/wasmgears/wasmgears/toolchain/pack"
)

func init() {
	register(&subcommand{name: "upload", usage: "Upload wheels and WASM-packaged requirements (wasmgears)", run: upload})
}

// upload sends requirement archives (.whl, as built by `gears-cli pack` or
// pip) with RG.PYIMPORTREQ FILENAME name chunk...; each is checked locally
// first, so a bad file fails before it is sent.
func upload(args []string) error {
	fs, cf := newFlags("upload", "[OPTIONS] FILE...",
		"Upload requirements to a wasmgears server: pure-Python wheels (*-py3-none-any.whl)\n"+
			"and WASM-packaged requirements (*-py3-none-wasm32_wasi.whl, see `gears-cli pack`).\n"+
			"Sessions then use them with RG.PYEXECUTE ... REQUIREMENTS name[==version].")
	bulk := fs.Int("bulk-size", 10, "Max bulk size to send to redis in MB")
	files, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(files) == 0 || *bulk <= 0 {
		fs.Usage()
		return errUsage
	}
	type item struct {
		path string
		data []byte
		dist *pack.Dist
	}
	var items []item
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		d, err := pack.Inspect(b, filepath.Base(f), pack.DefaultLimits)
		if err != nil {
			return fmt.Errorf("%s: %v", f, err)
		}
		items = append(items, item{f, b, d})
	}
	cn, err := cf.dial()
	if err != nil {
		return err
	}
	defer cn.close()
	for _, it := range items {
		q := [][]byte{[]byte("RG.PYIMPORTREQ"), []byte("FILENAME"), []byte(filepath.Base(it.path))}
		size := *bulk << 20
		for off := 0; off < len(it.data); off += size {
			q = append(q, it.data[off:min(off+size, len(it.data))])
		}
		if _, err := cn.doBytes(q, newProgress("uploading "+filepath.Base(it.path), int64(len(it.data)))); err != nil {
			return unsupported(fmt.Errorf("failed uploading %s (%v)", it.path, err), "RG.PYIMPORTREQ")
		}
		kind := "wheel"
		if it.dist.Wasm {
			kind = "WASM-packaged requirement"
		}
		fmt.Fprintln(stdout, green(fmt.Sprintf("Uploaded %s (%s %s)", it.dist.Pin(), kind, it.dist.SHA256[:12])))
	}
	return nil
}
