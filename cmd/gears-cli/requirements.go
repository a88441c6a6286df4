package main

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
)

// Requirement archives as RedisGears' gears-cli writes them: a zip with
// MetaData.json (RG.PYEXPORTREQ's metadata) and Data.bin (the serialized
// requirement, sent back with RG.PYIMPORTREQ).
const (
	dataBinName  = "Data.bin"
	metaDataName = "MetaData.json"
)

func init() {
	register(&subcommand{name: "export-requirements", usage: "Export requirements from RedisGears", run: exportRequirements})
	register(&subcommand{name: "import-requirements", usage: "Import requirements to RedisGears", run: importRequirements})
}

// multi is a repeatable string flag.
type multi []string

func (m *multi) String() string     { return strings.Join(*m, ",") }
func (m *multi) Set(v string) error { *m = append(*m, v); return nil }

// metadata turns a flat [k, v, ...] reply into a map of JSON values.
func metadata(v any) map[string]any {
	arr, _ := v.([]any)
	md := map[string]any{}
	for i := 0; i+1 < len(arr); i += 2 {
		md[str(arr[i])] = jsonValue(arr[i+1])
	}
	return md
}

func jsonValue(v any) any {
	switch x := v.(type) {
	case []byte:
		return string(x)
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = jsonValue(e)
		}
		return out
	}
	return v
}

func unsupported(err error, cmd string) error {
	if strings.Contains(strings.ToLower(err.Error()), "unknown command") {
		return fmt.Errorf("the server does not support %s (%v): it needs a wasmgears with the requirements store, or RedisGears 1.2", cmd, err)
	}
	return err
}

func exportRequirements(args []string) error {
	fs, cf := newFlags("export-requirements", "[OPTIONS]",
		"Export requirements from RedisGears: each requirement is saved as a zip\n"+
			"(MetaData.json + Data.bin) that import-requirements can load into another server.")
	dir := fs.String("save-directory", "./", "Directory for exported files")
	prefix := fs.String("output-prefix", "", "Prefix for the requirement zip file")
	var regIDs, reqs multi
	fs.Var(&regIDs, "registration-id", "Registrations ids to extract their requirements (repeatable)")
	fs.Var(&reqs, "requirement", "Requirement to export (repeatable)")
	all := fs.Bool("all", false, "Export all requirements")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		fmt.Fprintf(stderr, "gears-cli export-requirements: unexpected argument %q: name requirements with --requirement\n", pos[0])
		return errUsage
	}
	if !*all && len(regIDs) == 0 && len(reqs) == 0 {
		fmt.Fprintln(stderr, "gears-cli export-requirements: nothing to export: pass --all, --requirement NAME or --registration-id ID")
		return errUsage
	}
	cn, err := cf.dial()
	if err != nil {
		return err
	}
	defer cn.close()
	want := map[string]bool{}
	if *all {
		v, err := cn.do("RG.PYDUMPREQS")
		if err != nil {
			return unsupported(err, "RG.PYDUMPREQS")
		}
		list, _ := v.([]any)
		if len(list) == 0 {
			return errors.New("no requirements to export: the server has none installed")
		}
		for _, r := range list {
			if name, ok := metadata(r)["Name"].(string); ok {
				want[name] = true
			}
		}
	}
	if len(regIDs) > 0 {
		v, err := cn.do("RG.DUMPREGISTRATIONS")
		if err != nil {
			return err
		}
		regs, _ := v.([]any)
		for _, id := range regIDs {
			found := false
			for _, r := range regs {
				md := metadata(r)
				if md["id"] != id {
					continue
				}
				found = true
				pd, _ := md["PD"].(string)
				for _, name := range depsOf(pd) {
					want[name] = true
				}
			}
			if !found {
				return fmt.Errorf("no such registration %s: list them with RG.DUMPREGISTRATIONS", id)
			}
		}
	}
	for _, r := range reqs {
		want[r] = true
	}
	names := make([]string, 0, len(want))
	for n := range want {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		if err := exportOne(cn, name, *dir, *prefix); err != nil {
			return err
		}
	}
	return nil
}

// depsOf reads the requirement names from a registration's PD string
// ('depsList':[{'name': 'x', ...}, ...]).
func depsOf(pd string) []string {
	var out []string
	i := strings.Index(pd, "'depsList'")
	if i < 0 {
		return nil
	}
	for _, m := range regexp.MustCompile(`'name':\s*'([^']*)'`).FindAllStringSubmatch(pd[i:], -1) {
		out = append(out, m[1])
	}
	return out
}

func exportOne(cn *conn, name, dir, prefix string) error {
	v, err := cn.do("RG.PYEXPORTREQ", name)
	if err != nil {
		return unsupported(fmt.Errorf("failed exporting requirement %s (%v)", name, err), "RG.PYEXPORTREQ")
	}
	arr, _ := v.([]any)
	if len(arr) != 2 {
		return fmt.Errorf("failed exporting requirement %s: unexpected reply %s", name, str(v))
	}
	md := metadata(arr[0])
	meta, _ := json.MarshalIndent(md, "", "    ")
	var data bytes.Buffer
	chunks, _ := arr[1].([]any)
	for _, c := range chunks {
		b, _ := c.([]byte)
		data.Write(b)
	}
	osName := fmt.Sprint(md["CompiledOs"])
	file := fmt.Sprintf("redisgears-requirement-v%v-%s-%s.zip", md["GearReqVersion"], filepath.Base(fmt.Sprint(md["Name"])), osName)
	if prefix != "" {
		file = fmt.Sprintf("%s-%s.zip", prefix, osName)
	}
	path, _ := filepath.Abs(filepath.Join(dir, file))
	if _, err := os.Stat(path); err == nil {
		return fmt.Errorf("file %s already exists: remove it or pass another --save-directory / --output-prefix", path)
	}
	fmt.Fprintln(stdout, cyan("Saving exported requirement into "+path))
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	zw := zip.NewWriter(f)
	for _, e := range []struct {
		name string
		b    []byte
	}{{metaDataName, meta}, {dataBinName, data.Bytes()}} {
		w, err := zw.Create(e.name)
		if err == nil {
			_, err = w.Write(e.b)
		}
		if err != nil {
			f.Close()
			return err
		}
	}
	if err := zw.Close(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func importRequirements(args []string) error {
	fs, cf := newFlags("import-requirements", "[OPTIONS] [REQUIREMENTS]...",
		"Import requirements to RedisGears: sends the Data.bin of requirement zips\n"+
			"(written by export-requirements) with RG.PYIMPORTREQ. REQUIREMENTS are zip\n"+
			"file names inside --requirements-path (a directory, or a zip of zips).")
	path := fs.String("requirements-path", "./", "Path of requirements directory containing requirements zip files, could also be a zip file contains more requirements zip files")
	all := fs.Bool("all", false, "Import all requirements in zip file")
	bulk := fs.Int("bulk-size", 10, "Max bulk size to send to redis in MB")
	reqs, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if *bulk <= 0 {
		fmt.Fprintln(stderr, "gears-cli import-requirements: --bulk-size must be at least 1 (MB)")
		return errUsage
	}
	p, _ := filepath.Abs(*path)
	st, err := os.Stat(p)
	if err != nil {
		return fmt.Errorf("file %s does not exist: pass --requirements-path", p)
	}
	type item struct {
		name string
		zip  []byte
	}
	var items []item
	switch {
	case strings.HasSuffix(p, ".zip") && !st.IsDir():
		outer, err := zip.OpenReader(p)
		if err != nil {
			return fmt.Errorf("%s is not a zip file (%v)", p, err)
		}
		defer outer.Close()
		if len(reqs) == 0 {
			*all = true
		}
		byName := map[string]*zip.File{}
		for _, f := range outer.File {
			byName[f.Name] = f
		}
		names := reqs
		if *all {
			names = nil
			for _, f := range outer.File {
				names = append(names, f.Name)
			}
		}
		for _, n := range names {
			f := byName[n]
			if f == nil {
				return fmt.Errorf("requirement %s could not be found in %s", n, p)
			}
			b, err := readZipFile(f)
			if err != nil {
				return err
			}
			items = append(items, item{n, b})
		}
	case st.IsDir():
		if len(reqs) == 0 {
			fmt.Fprintln(stderr, bold("Warning: no requirements specified: name the zip files to import"))
		}
		for _, n := range reqs {
			f := n
			if !filepath.IsAbs(f) { // names are relative to --requirements-path
				f = filepath.Join(p, n)
			}
			b, err := os.ReadFile(f)
			if err != nil {
				return fmt.Errorf("file %s does not exist", f)
			}
			items = append(items, item{f, b})
		}
	default:
		return fmt.Errorf("%s is not a directory or a .zip file", p)
	}
	if len(items) == 0 {
		return nil
	}
	cn, err := cf.dial()
	if err != nil {
		return err
	}
	defer cn.close()
	for _, it := range items {
		zr, err := zip.NewReader(bytes.NewReader(it.zip), int64(len(it.zip)))
		if err != nil {
			return fmt.Errorf("bad zip format in %s (%v)", it.name, err)
		}
		var data []byte
		for _, f := range zr.File {
			if f.Name == dataBinName {
				data, err = readZipFile(f)
				if err != nil {
					return err
				}
			}
		}
		if data == nil {
			return fmt.Errorf("bad zip format in %s: no %s (was it written by export-requirements?)", it.name, dataBinName)
		}
		q := [][]byte{[]byte("RG.PYIMPORTREQ")}
		size := *bulk << 20
		for off := 0; off < len(data); off += size {
			q = append(q, data[off:min(off+size, len(data))])
		}
		if _, err := cn.doBytes(q, newProgress("importing "+filepath.Base(it.name), int64(len(data)))); err != nil {
			return unsupported(fmt.Errorf("failed import requirement %s (%v)", it.name, err), "RG.PYIMPORTREQ")
		}
		fmt.Fprintln(stdout, green("Requirement "+it.name+" imported successfully"))
	}
	return nil
}

func readZipFile(f *zip.File) ([]byte, error) {
	rc, err := f.Open()
	if err != nil {
		return nil, fmt.Errorf("reading %s: %v", f.Name, err)
	}
	defer rc.Close()
	return io.ReadAll(rc)
}
