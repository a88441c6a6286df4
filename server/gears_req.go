package server

// Requirement commands (issue 6, docs/requirements.md): RG.PYIMPORTREQ
// uploads a wheel or a WASM-packaged requirement in chunks, RG.PYEXPORTREQ
// returns one (round-trips with import), RG.PYDUMPREQS lists them in
// RedisGears' record shape.

import (
	"bytes"

	"github.com/wasmgears/wasmgears/host"
)

// exportChunk is RedisGears' bulk size for exported requirements.
const exportChunk = 10 << 20

func init() {
	const grp = "gears"
	mk := func(name string, arity int, summary string, p Parser) *Command {
		return &Command{Name: name, Arity: arity, Flags: FlagNoScript, Group: grp, Since: "1.2.0", Summary: summary, Parse: p}
	}
	register(
		mk("rg.pyimportreq", -2, "Uploads a requirement (wheel or WASM-packaged) in chunks: [FILENAME name] chunk [chunk ...].",
			gearsCmd(pyImportReq)),
		mk("rg.pyexportreq", 2, "Returns a stored requirement's metadata and archive chunks.", gearsCmd(pyExportReq)),
		mk("rg.pydumpreqs", 1, "Lists the stored requirements.", gearsCmd(func(c *Ctx, g *host.Gears, a [][]byte) {
			ms, err := g.Requirements()
			if err != nil {
				c.W.Error("ERR " + err.Error())
				return
			}
			refs := g.RequirementRefs()
			c.W.Array(len(ms))
			for _, m := range ms {
				writeReqRecord(c.W, m, refs[m.Pin()])
			}
		})),
	)
}

func pyImportReq(c *Ctx, g *host.Gears, a [][]byte) {
	args := a[1:]
	name := ""
	if len(args) >= 2 && lowerEq(args[0], "filename") {
		name, args = string(args[1]), args[2:]
	}
	if len(args) == 0 {
		c.W.Error("ERR wrong number of arguments for 'rg.pyimportreq' command")
		return
	}
	data := args[0]
	if len(args) > 1 {
		data = bytes.Join(args, nil)
	}
	if _, err := g.ImportRequirement(data, name); err != nil {
		c.W.Error("Failed deserialize requirement: " + err.Error())
		return
	}
	c.W.OK()
}

func pyExportReq(c *Ctx, g *host.Gears, a [][]byte) {
	m, data, err := g.ExportRequirement(string(a[1]))
	if err != nil {
		c.W.Error(err.Error())
		return
	}
	c.W.Array(2)
	writeReqRecord(c.W, m, g.RequirementRefs()[m.Pin()])
	n := (len(data) + exportChunk - 1) / exportChunk
	c.W.Array(n)
	for i := 0; i < len(data); i += exportChunk {
		c.W.Bulk(data[i:min(i+exportChunk, len(data))])
	}
}

// writeReqRecord writes RedisGears' 18-element requirement record.
func writeReqRecord(w *Writer, m *host.ReqMeta, refs int) {
	w.Array(18)
	w.BulkString("GearReqVersion")
	w.Int(1)
	w.BulkString("Name")
	w.BulkString(m.Pin())
	w.BulkString("IsDownloaded")
	w.BulkString("yes")
	w.BulkString("IsInstalled")
	w.BulkString("yes")
	w.BulkString("CompiledOs")
	if m.Wasm {
		w.BulkString("wasm32-wasi")
	} else {
		w.BulkString("any")
	}
	w.BulkString("Wheels")
	w.Strings([]string{m.Filename})
	w.BulkString("Path")
	w.BulkString("sha256:" + m.SHA256)
	w.BulkString("RefCount")
	w.Int(int64(refs))
	w.BulkString("IsInReqDictionary")
	w.BulkString("yes")
}

// writeSessionReqs is RG.PYDUMPSESSIONS' requirements field: the names the
// session asked for, or (VERBOSE) the records of its resolved set.
func writeSessionReqs(w *Writer, g *host.Gears, s *host.Session, verbose bool) {
	if !verbose {
		w.Strings(s.RequirementNames())
		return
	}
	pins := s.RequirementPins()
	refs := g.RequirementRefs()
	w.Array(len(pins))
	for _, p := range pins {
		m, _, err := g.ExportRequirement(p)
		if err != nil {
			w.Null()
			continue
		}
		writeReqRecord(w, m, refs[p])
	}
}
