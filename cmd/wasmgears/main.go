// Command wasmgears is the wasmgears server: a Redis-compatible server whose
// Python functions run in sandboxed CPython interpreters (RedisGears 1.2 API).
package main

import (
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/wasmgears/wasmgears/server"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "wasmgears:", err)
		os.Exit(1)
	}
}

func run(argv []string) error {
	cfg := server.NewConfig()
	fs := flag.NewFlagSet("wasmgears", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: wasmgears [config-file] [--key value ...]\n\nEvery redis.conf key below can be given in the file or as a flag.\n\n")
		fs.PrintDefaults()
	}
	flags := map[string]*string{}
	for _, k := range server.ConfigKeys() {
		flags[k.Name] = fs.String(k.Name, k.Default, k.Usage)
	}
	version := fs.Bool("version", false, "print the version and exit")
	commandsMD := fs.Bool("commands-md", false, "print docs/commands.md (generated from the command table) and exit")
	// A leading positional argument is a config file, as with redis-server.
	if len(argv) > 0 && len(argv[0]) > 0 && argv[0][0] != '-' {
		if err := cfg.Load(argv[0]); err != nil {
			return err
		}
		argv = argv[1:]
	}
	if err := fs.Parse(argv); err != nil {
		return err
	}
	if *version {
		fmt.Println("wasmgears", server.Version, "redis", server.RedisVersion)
		return nil
	}
	if *commandsMD {
		fmt.Print(server.CommandsMarkdown())
		return nil
	}
	var setErr error
	fs.Visit(func(f *flag.Flag) {
		if p, ok := flags[f.Name]; ok && setErr == nil {
			setErr = cfg.Set(f.Name, *p)
		}
	})
	if setErr != nil {
		return setErr
	}
	level := slog.LevelInfo
	if cfg.Get("loglevel") == "debug" || cfg.Get("loglevel") == "verbose" {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	slog.SetDefault(log)

	s, err := server.New(cfg, log)
	if err != nil {
		return err
	}
	if err := s.Listen(); err != nil {
		s.Shutdown()
		return err
	}
	sigc := make(chan os.Signal, 1)
	signal.Notify(sigc, syscall.SIGTERM, syscall.SIGINT)
	go func() {
		select {
		case sig := <-sigc:
			log.Info("received signal, shutting down", "signal", sig.String())
			s.Shutdown()
		case <-s.Done():
		}
	}()
	err = s.Serve()
	// Shutdown is idempotent and returns only when the first call (maybe the
	// signal handler's) has closed the keyspace: exiting earlier loses the
	// writes Pebble has not yet handed to the WAL file.
	if cerr := s.Shutdown(); err == nil {
		err = cerr
	}
	return err
}
