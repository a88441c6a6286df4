package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/wasmgears/wasmgears/toolchain/pack"
)

func init() {
	register(&subcommand{name: "pack", usage: "Build a wheel or WASM-packaged requirement (dir | c | installed) (wasmgears)", run: packCmd})
}

const packDesc = `Build a requirement archive for 'gears-cli upload', offline:

  pack dir  -name N -version V [-requires R]... SRCDIR
      every file under SRCDIR (Python packages and modules, .wasm modules,
      data) keeps its path; any .wasm makes it a WASM-packaged requirement
  pack c    -name N -version V -module M [-py PYDIR] [-cflags F] SRC.c...
      compiles the C sources with clang-19 --target=wasm32 (no libc, every
      non-static function exported) into M.wasm, plus the Python files of PYDIR
  pack installed NAME
      repacks a distribution installed on this machine (Debian's
      python3-six: /usr/lib/python3/dist-packages) with its metadata

The archive is written to -o (a directory, default .) as NAME-VERSION-TAG.whl.`

func packCmd(args []string) error {
	if len(args) == 0 || (args[0] != "dir" && args[0] != "c" && args[0] != "installed") {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
			fmt.Fprintf(stdout, "Usage: gears-cli pack dir|c|installed [OPTIONS] ARGS...\n\n%s\n", packDesc)
			return flag.ErrHelp
		}
		fmt.Fprintf(stderr, "Usage: gears-cli pack dir|c|installed [OPTIONS] ARGS...\n\n%s\n", packDesc)
		return errUsage
	}
	mode := args[0]
	fs := flag.NewFlagSet("pack "+mode, flag.ContinueOnError)
	fs.SetOutput(stderr)
	name := fs.String("name", "", "requirement name")
	version := fs.String("version", "", "requirement version (PEP 440)")
	summary := fs.String("summary", "", "one-line summary")
	var requires multi
	fs.Var(&requires, "requires", "Requires-Dist line, e.g. 'six>=1.16' (repeatable)")
	out := fs.String("o", ".", "output directory")
	module := fs.String("module", "", "c: name of the wasm module (M.wasm; a path like pkg/M puts it in a package)")
	pyDir := fs.String("py", "", "c: directory of Python files to include")
	cflags := fs.String("cflags", "", "c: extra clang flags (space separated)")
	clang := fs.String("clang", "clang-19", "c: the clang to use")
	site := fs.String("site", strings.Join(pack.DefaultSiteDirs, ":"), "installed: site directories to search (colon separated)")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: gears-cli pack %s [OPTIONS] ARGS...\n\n%s\n\nOptions:\n", mode, packDesc)
		fs.PrintDefaults()
	}
	pos, err := parseFlags(fs, args[1:])
	if err != nil {
		return err
	}
	spec := pack.Spec{Name: *name, Version: *version, Summary: *summary, Requires: requires}
	var fname string
	var data []byte
	switch mode {
	case "dir":
		if len(pos) != 1 || *name == "" || *version == "" {
			fs.Usage()
			return errUsage
		}
		fname, data, err = pack.FromDir(pos[0], spec)
	case "c":
		if len(pos) == 0 || *name == "" || *version == "" || *module == "" {
			fs.Usage()
			return errUsage
		}
		fname, data, err = pack.FromC(*clang, pos, strings.Fields(*cflags), *module, *pyDir, spec)
	case "installed":
		if len(pos) != 1 {
			fs.Usage()
			return errUsage
		}
		fname, data, err = pack.FromInstalled(pos[0], strings.Split(*site, ":"))
	}
	if err != nil {
		return err
	}
	d, err := pack.Inspect(data, fname, pack.DefaultLimits)
	if err != nil {
		return fmt.Errorf("built archive does not validate: %v", err)
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return err
	}
	path := filepath.Join(*out, fname)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s (%s, %d files, %d bytes", path, d.Pin(), len(d.Files), len(data))
	if len(d.WasmModules) > 0 {
		var mods []string
		for m := range d.WasmModules {
			mods = append(mods, m)
		}
		fmt.Fprintf(stdout, ", wasm modules: %s", strings.Join(mods, ", "))
	}
	fmt.Fprintln(stdout, ")")
	return nil
}
