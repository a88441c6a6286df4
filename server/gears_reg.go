package server

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/wasmgears/wasmgears/host"
	"github.com/wasmgears/wasmgears/storage"
)

// Registrations on the server side: committed events reach the gears
// engine while the keyspace lock is still held (sync registrations run
// there, inside the command, before its reply), and the RG.* registration
// commands.

// gearsEvents hands committed events to the gears engine; called under the
// keyspace lock. c is the client whose command wrote (nil: background).
func (s *Server) gearsEvents(c *Client, evs []storage.Event) {
	if len(evs) == 0 {
		return
	}
	st := s.gearsState()
	select {
	case <-st.ready:
	default:
		return // the engine is still starting: there are no registrations yet
	}
	if st.g == nil {
		return
	}
	var o host.Origin
	if c != nil {
		o = host.Origin{Caller: c.session, Link: c.link, NoAsync: c.inExec}
	}
	st.g.OnEvents(evs, o)
}

func writeOptStrings(w *Writer, l []string) {
	if l == nil {
		w.Null()
		return
	}
	w.Strings(l)
}

func dumpRegistration(w *Writer, g *host.Gears, r *host.Registration, withPD bool) {
	st := r.Stats()
	n := 8
	if withPD {
		n = 12
	}
	w.Array(n)
	w.BulkString("id")
	w.BulkString(r.ID)
	w.BulkString("reader")
	w.BulkString(r.Reader)
	w.BulkString("desc")
	if r.Desc != nil {
		w.BulkString(*r.Desc)
	} else {
		w.Null()
	}
	w.BulkString("RegistrationData")
	isStream := r.Reader == "StreamReader"
	fields := 20
	if isStream {
		fields = 26
	}
	w.Array(fields)
	w.BulkString("mode")
	w.BulkString(r.Mode)
	w.BulkString("numTriggered")
	w.Int(st.Triggered)
	w.BulkString("numSuccess")
	w.Int(st.Success)
	w.BulkString("numFailures")
	w.Int(st.Failures)
	w.BulkString("numAborted")
	w.Int(st.Aborted)
	w.BulkString("lastRunDurationMS")
	w.Int(st.LastRunMS)
	w.BulkString("totalRunDurationMS")
	w.Int(st.TotalRunMS)
	w.BulkString("avgRunDurationMS")
	avg := 0.0
	if st.Triggered > 0 {
		avg = float64(st.TotalRunMS) / float64(st.Triggered)
	}
	w.Double(avg)
	status, lastLag, avgLag := r.StreamStatus()
	if isStream {
		w.BulkString("lastEstimatedLagMS")
		w.Int(lastLag)
		w.BulkString("avgEstimatedLagMS")
		w.Double(float64(avgLag))
	}
	w.BulkString("lastError")
	if st.LastError != nil {
		w.BulkString(*st.LastError)
	} else {
		w.Null()
	}
	w.BulkString("args")
	switch r.Reader {
	case "KeysReader":
		w.Array(8)
		w.BulkString("regex")
		w.BulkString(r.Prefix)
		w.BulkString("eventTypes")
		writeOptStrings(w, r.EventTypes)
		w.BulkString("keyTypes")
		writeOptStrings(w, r.KeyTypes)
		w.BulkString("hookCommands")
		writeOptStrings(w, r.Commands)
	case "StreamReader":
		w.Array(12)
		w.BulkString("batchSize")
		w.Int(int64(r.Batch))
		w.BulkString("durationMS")
		w.Int(int64(r.DurationMS))
		w.BulkString("stream")
		w.BulkString(r.Prefix)
		w.BulkString("trimStream")
		w.Bool(r.Trim)
		w.BulkString("onFailedPolicy")
		w.BulkString(strings.ToUpper(r.OnFailed))
		w.BulkString("retryInterval")
		w.Int(int64(r.RetrySec))
	default:
		w.Array(4)
		w.BulkString("trigger")
		if r.Trigger != "" {
			w.BulkString(r.Trigger)
		} else {
			w.BulkString(r.Hook)
		}
		w.BulkString("inorder")
		w.Bool(r.InOrder)
	}
	if isStream {
		w.BulkString("status")
		w.BulkString(status)
	}
	if !withPD {
		return
	}
	w.BulkString("PD")
	w.BulkString(sessionPD(g, r.Session()))
	w.BulkString("ExecutionThreadPool")
	w.BulkString("DefaultPool")
}

// sessionPD renders a session as RedisGears' PD string.
func sessionPD(g *host.Gears, s *host.Session) string {
	desc := "null"
	if s.Description != nil {
		desc = *s.Description
	}
	ids := g.SessionRegistrations(s)
	q := make([]string, len(ids))
	for i, id := range ids {
		q[i] = "'" + id + "'"
	}
	return fmt.Sprintf("{'sessionName':'%s', 'sessionDescription':'%s', 'refCount': %d, 'linked': true, 'ts': false, 'isInstallationNeeded':0, 'registrationsList':[%s], 'depsList':[]}",
		s.ID, desc, len(ids)+1, strings.Join(q, ", "))
}

func triggerCmd(onKey bool) Parser {
	return gearsCmd(func(c *Ctx, g *host.Gears, a [][]byte) {
		args := a[1:] // the trigger's name, then its arguments
		mode := g.TriggerMode(string(args[0]))
		var e *host.Execution
		var err error
		switch {
		case mode == "":
			c.W.Error("ERR subcommand not found")
			return
		case mode == "sync":
			if !c.C.lockHeld {
				c.S.db.Lock()
				e, err = g.TriggerSync(args, host.Origin{NoAsync: c.InMulti})
				c.S.db.Unlock()
			} else {
				e, err = g.TriggerSync(args, host.Origin{Caller: c.C.session, NoAsync: c.InMulti})
			}
		case c.InMulti || c.C.lockHeld:
			c.W.Error("ERR can not run a non-sync execution inside a MULTI/LUA (blocking is not allowed) or on loading.")
			return
		default:
			e, err = g.Trigger(context.Background(), nil, args)
		}
		if err != nil {
			c.W.Error(err.Error())
			return
		}
		if _, errs, _ := e.Counts(); len(errs) > 0 {
			c.W.Error("ERR Could not trigger execution, " + errs[0])
			return
		}
		c.W.Raw(resultsOnly(e.Reply()))
	})
}

// resultsOnly extracts the results array of a [[results],[errors]] reply.
func resultsOnly(reply []byte) []byte {
	// reply = "*2\r\n" + results + errors; results starts after the header
	if len(reply) < 4 {
		return []byte("*0\r\n")
	}
	body := reply[4:]
	n := respLen(body)
	if n <= 0 {
		return []byte("*0\r\n")
	}
	return body[:n]
}

// respLen returns the byte length of the first RESP value in b (-1 if bad).
func respLen(b []byte) int {
	i := indexCRLF(b)
	if i < 0 {
		return -1
	}
	switch b[0] {
	case '+', '-', ':', '_', ',', '#':
		return i + 2
	case '$':
		n, _ := strconv.Atoi(string(b[1:i]))
		if n < 0 {
			return i + 2
		}
		return i + 2 + n + 2
	case '*':
		n, _ := strconv.Atoi(string(b[1:i]))
		off := i + 2
		for k := 0; k < n; k++ {
			l := respLen(b[off:])
			if l < 0 {
				return -1
			}
			off += l
		}
		return off
	}
	return -1
}

func indexCRLF(b []byte) int {
	for i := 0; i+1 < len(b); i++ {
		if b[i] == '\r' && b[i+1] == '\n' {
			return i
		}
	}
	return -1
}

func pyDumpSessions(c *Ctx, g *host.Gears, a [][]byte) {
	verbose := false
	var only []string
	p := newArgp(a, 1)
	for p.more() {
		switch {
		case p.is("VERBOSE"):
			verbose = true
		case p.is("DEAD"):
			// sessions are freed as soon as nothing uses them: none are dead
		case p.is("SESSIONS"):
			for p.more() {
				only = append(only, string(p.next()))
			}
		default:
			c.W.Error("Unknown option " + string(p.peek()))
			return
		}
	}
	var list []*host.Session
	var missing []string
	if only != nil {
		for _, id := range only {
			if s := g.Session(id); s != nil {
				list = append(list, s)
			} else {
				missing = append(missing, id)
			}
		}
	} else {
		list = g.Sessions()
	}
	w := c.W
	w.Array(len(list) + len(missing))
	for _, s := range list {
		w.Array(16)
		w.BulkString("ID")
		w.BulkString(s.ID)
		w.BulkString("sessionDescription")
		if s.Description != nil {
			w.BulkString(*s.Description)
		} else {
			w.Null()
		}
		w.BulkString("refCount")
		ids := g.SessionRegistrations(s)
		w.Int(int64(len(ids) + 1))
		w.BulkString("linked")
		w.BulkString("primary")
		w.BulkString("dead")
		w.BulkString("false")
		w.BulkString("requirementInstallationNeeded")
		w.Int(0)
		w.BulkString("requirements")
		writeSessionReqs(w, g, s, verbose)
		w.BulkString("registrations")
		if verbose {
			w.Array(len(ids))
			for _, id := range ids {
				if r := g.Registration(id); r != nil {
					dumpRegistration(w, g, r, false)
				} else {
					w.Null()
				}
			}
		} else {
			w.Strings(ids)
		}
	}
	for _, id := range missing {
		w.BulkString(fmt.Sprintf("Session %s does not exists", id))
	}
}

func init() {
	const grp = "gears"
	mk := func(name string, arity int, summary string, p Parser) *Command {
		return &Command{Name: name, Arity: arity, Flags: FlagNoScript, Group: grp, Since: "1.2.0", Summary: summary, Parse: p}
	}
	register(
		mk("rg.dumpregistrations", 1, "Lists the registrations with their statistics.", gearsCmd(func(c *Ctx, g *host.Gears, a [][]byte) {
			rs := g.Registrations()
			c.W.Array(len(rs))
			for _, r := range rs {
				dumpRegistration(c.W, g, r, true)
			}
		})),
		mk("rg.unregister", -2, "Removes a registration.", gearsCmd(func(c *Ctx, g *host.Gears, a [][]byte) {
			if len(a) > 3 || (len(a) == 3 && !lowerEq(a[2], "abortpending")) {
				c.W.Error("ERR wrong number of arguments for 'rg.unregister' command")
				return
			}
			if err := g.Unregister(context.Background(), string(a[1]), len(a) == 3); err != nil {
				c.W.Error(err.Error())
				return
			}
			c.W.OK()
		})),
		mk("rg.clearregistrationsstats", 1, "Resets the registrations' statistics.", gearsCmd(func(c *Ctx, g *host.Gears, a [][]byte) {
			g.ClearStats()
			c.W.OK()
		})),
		mk("rg.pauseregistrations", 2, "Pauses a stream registration.", gearsCmd(func(c *Ctx, g *host.Gears, a [][]byte) {
			if err := g.SetPaused(string(a[1]), true); err != nil {
				c.W.Error(err.Error())
				return
			}
			c.W.OK()
		})),
		mk("rg.unpauseregistrations", 2, "Resumes a paused stream registration.", gearsCmd(func(c *Ctx, g *host.Gears, a [][]byte) {
			if err := g.SetPaused(string(a[1]), false); err != nil {
				c.W.Error(err.Error())
				return
			}
			c.W.OK()
		})),
		mk("rg.trigger", -2, "Runs a CommandReader trigger.", triggerCmd(false)),
		func() *Command {
			c := mk("rg.triggeronkey", -3, "Runs a CommandReader trigger; the key argument routes it.", triggerCmd(true))
			c.FirstKey, c.LastKey, c.Step = 2, 2, 1
			return c
		}(),
		mk("rg.pydumpsessions", -1, "Lists the Python sessions.", gearsCmd(pyDumpSessions)),
	)
}
