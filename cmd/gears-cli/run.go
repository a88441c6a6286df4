package main

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"strings"
)

func init() {
	register(&subcommand{name: "run", usage: "Run gears function (RG.PYEXECUTE a script file)", run: runCmd})
	register(&subcommand{name: "install-requirements", usage: "Install given requirements", run: installRequirements})
}

// readRequirements reads a requirements.txt: one requirement a line;
// blank lines and # comments are skipped.
func readRequirements(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("cannot read the requirements file: %v", err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if i := strings.Index(line, " #"); i >= 0 {
			line = strings.TrimSpace(line[:i])
		}
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		out = append(out, line)
	}
	return out, sc.Err()
}

func runCmd(args []string) error {
	fs, cf := newFlags("run", "[OPTIONS] SCRIPT [EXTRA_ARGS]...",
		"Run gears function: sends the Python file SCRIPT with RG.PYEXECUTE and prints\n"+
			"its results and errors. EXTRA_ARGS are passed to RG.PYEXECUTE as they are\n"+
			"(e.g. ID name, DESCRIPTION text, UPGRADE, UNBLOCKING). The exit status is 1\n"+
			"when the script or the execution reports errors.")
	reqFile := fs.String("requirements", "", "Path to requirements.txt file")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) == 0 {
		fmt.Fprintln(stderr, "gears-cli run: missing SCRIPT (the Python file to run); see gears-cli run --help")
		return errUsage
	}
	code, err := os.ReadFile(pos[0])
	if err != nil {
		return fmt.Errorf("cannot read the script: %v", err)
	}
	q := [][]byte{[]byte("RG.PYEXECUTE"), code}
	for _, a := range pos[1:] {
		q = append(q, []byte(a))
	}
	if *reqFile != "" {
		reqs, err := readRequirements(*reqFile)
		if err != nil {
			return err
		}
		q = append(q, []byte("REQUIREMENTS"))
		for _, r := range reqs {
			q = append(q, []byte(r))
		}
	}
	cn, err := cf.dial()
	if err != nil {
		return err
	}
	defer cn.close()
	reply, err := cn.doBytes(q, newProgress("uploading "+pos[0], int64(len(code))))
	if err != nil {
		var re redisError
		if errors.As(err, &re) {
			fmt.Fprintln(stderr, red(fmt.Sprintf("failed running gear function (%s)", re)))
			return exitError(1)
		}
		return err
	}
	return printReply(reply)
}

// printReply prints RG.PYEXECUTE's reply as RedisGears' gears-cli does.
func printReply(reply any) error {
	switch x := reply.(type) {
	case string:
		fmt.Fprintln(stdout, x) // OK
		return nil
	case []byte: // UNBLOCKING: the execution id
		fmt.Fprintln(stdout, string(x))
		return nil
	}
	arr, ok := reply.([]any)
	if !ok || len(arr) != 2 {
		fmt.Fprintln(stdout, str(reply))
		return nil
	}
	results, _ := arr[0].([]any)
	errs, _ := arr[1].([]any)
	fmt.Fprintln(stdout, bold("Results"))
	fmt.Fprintln(stdout, bold("-------"))
	for i, r := range results {
		fmt.Fprintf(stdout, "%s\t%s\n", bold(fmt.Sprintf("%d)", i+1)), bold(str(r)))
	}
	fmt.Fprintln(stdout)
	if len(errs) == 0 {
		return nil
	}
	fmt.Fprintln(stdout, red("Errors"))
	fmt.Fprintln(stdout, red("------"))
	for i, e := range errs {
		fmt.Fprintln(stdout, red(fmt.Sprintf("%d)\t%s", i+1, str(e))))
	}
	return exitError(1)
}

func installRequirements(args []string) error {
	fs, cf := newFlags("install-requirements", "[OPTIONS] [REQUIREMENTS]...",
		"Install given requirements: runs an empty script with RG.PYEXECUTE ... REQUIREMENTS,\n"+
			"which installs them on the server for later sessions.")
	reqFile := fs.String("requirements-file", "", "Path to requirements.txt file")
	reqs, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if *reqFile != "" {
		more, err := readRequirements(*reqFile)
		if err != nil {
			return err
		}
		reqs = append(reqs, more...)
	}
	if len(reqs) == 0 {
		fmt.Fprintln(stderr, "gears-cli install-requirements: no requirements given: name them or pass --requirements-file")
		return errUsage
	}
	cn, err := cf.dial()
	if err != nil {
		return err
	}
	defer cn.close()
	q := append([]string{"RG.PYEXECUTE", `log("installing requirements")`, "REQUIREMENTS"}, reqs...)
	if _, err := cn.do(q...); err != nil {
		return fmt.Errorf("failed installing requirements (%v)", err)
	}
	fmt.Fprintln(stdout, green("Requirements installed: "+strings.Join(reqs, ", ")))
	return nil
}
