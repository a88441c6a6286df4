// Command gears-cli runs RedisGears Python scripts against a wasmgears (or
// RedisGears 1.2) server and manages requirements, compatible with
// RedisGears' gears-cli:
//
//	gears-cli run [--host H] [--port P] [--user U] [--password PW] [--requirements FILE] SCRIPT [ARGS...]
//	gears-cli install-requirements [conn flags] [--requirements-file FILE] [REQ...]
//	gears-cli export-requirements [conn flags] [--save-directory DIR] [--output-prefix P] [--requirement R]... [--registration-id ID]... [--all]
//	gears-cli import-requirements [conn flags] [--requirements-path PATH] [--all] [--bulk-size MB] [REQ...]
//
// Every subcommand lives in its own file and registers itself from init()
// with register(&subcommand{...}).
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
)

// subcommand is one gears-cli command.
type subcommand struct {
	name  string // as typed: "run", "export-requirements"
	usage string // one line for the command list
	// run gets the arguments after the name and returns nil, or an error
	// to print (exitError for a given exit status without a message).
	run func(args []string) error
}

var commands = map[string]*subcommand{}

// register adds a subcommand (from an init function).
func register(c *subcommand) {
	if _, dup := commands[c.name]; dup {
		panic("gears-cli: duplicate subcommand " + c.name)
	}
	commands[c.name] = c
}

// exitError ends gears-cli with a status, printing nothing more.
type exitError int

func (e exitError) Error() string { return fmt.Sprintf("exit status %d", int(e)) }

// stdout and stderr are variables for tests.
var (
	stdout io.Writer = os.Stdout
	stderr io.Writer = os.Stderr
)

func usage(w io.Writer) {
	fmt.Fprintf(w, `Usage: gears-cli COMMAND [OPTIONS] [ARGS]...

Runs RedisGears Python functions on a wasmgears (or RedisGears) server and
manages their requirements.

Commands:
`)
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-22s %s\n", n, commands[n].usage)
	}
	fmt.Fprintf(w, `
Run 'gears-cli COMMAND --help' for a command's options.
Connection options (every command): --host (localhost), --port (6379),
--user, --password (or REDISCLI_AUTH).
`)
}

func main() {
	os.Exit(run(os.Args[1:]))
}

// run executes a command line and returns the exit status.
func run(args []string) int {
	if len(args) == 0 {
		usage(stderr)
		return 2
	}
	switch args[0] {
	case "-h", "--help", "help":
		if len(args) > 1 && commands[args[1]] != nil {
			return run([]string{args[1], "--help"})
		}
		usage(stdout)
		return 0
	case "--version", "version":
		fmt.Fprintln(stdout, "gears-cli (wasmgears)")
		return 0
	}
	name := strings.ReplaceAll(args[0], "_", "-") // click accepts export_requirements too
	c := commands[name]
	if c == nil {
		fmt.Fprintf(stderr, "gears-cli: unknown command %q\n\n", args[0])
		usage(stderr)
		return 2
	}
	err := c.run(args[1:])
	var code exitError
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, &code):
		return int(code)
	case errors.Is(err, errUsage):
		return 2
	default:
		fmt.Fprintln(stderr, red("gears-cli "+name+": "+err.Error()))
		return 1
	}
}

// errUsage: the flag package already printed what was wrong.
var errUsage = errors.New("usage")

// newFlags makes a subcommand's flag set with the connection flags and a
// --help that prints synopsis, description and options.
func newFlags(name, synopsis, desc string) (*flag.FlagSet, *connFlags) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	cf := &connFlags{}
	cf.add(fs)
	fs.Usage = func() {
		w := fs.Output()
		fmt.Fprintf(w, "Usage: gears-cli %s %s\n\n%s\n\nOptions:\n", name, synopsis, desc)
		fs.VisitAll(func(f *flag.Flag) {
			arg, help := flag.UnquoteUsage(f)
			switch arg {
			case "":
			case "int":
				arg = " INTEGER"
			case "string", "value":
				arg = " TEXT"
			default:
				arg = " " + strings.ToUpper(arg)
			}
			def := ""
			if f.DefValue != "" && f.DefValue != "false" && f.DefValue != "[]" {
				def = " (default " + f.DefValue + ")"
			}
			fmt.Fprintf(w, "  --%-26s %s%s\n", f.Name+arg, help, def)
		})
	}
	return fs, cf
}

// parseFlags parses flags, allowing them before and after the positional
// arguments (as click does) until a "--".
func parseFlags(fs *flag.FlagSet, args []string) ([]string, error) {
	for _, a := range args {
		if a == "--" {
			break
		}
		if a == "-h" || a == "-help" || a == "--help" {
			fs.SetOutput(stdout)
			fs.Usage()
			return nil, flag.ErrHelp
		}
	}
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, errUsage
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		if len(args) > 0 && len(rest) < len(args) && args[len(args)-len(rest)-1] == "--" {
			return append(pos, rest...), nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// colors only on a terminal (and never with NO_COLOR).
func colorOn(w io.Writer) bool {
	if os.Getenv("NO_COLOR") != "" {
		return false
	}
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

func paint(w io.Writer, code, s string) string {
	if !colorOn(w) {
		return s
	}
	return "\033[" + code + "m" + s + "\033[0m"
}

func bold(s string) string  { return paint(stdout, "1", s) }
func red(s string) string   { return paint(stderr, "31;1", s) }
func green(s string) string { return paint(stdout, "32", s) }
func cyan(s string) string  { return paint(stdout, "36", s) }
