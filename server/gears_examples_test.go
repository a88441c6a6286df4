package server

import (
	"os"
	"path/filepath"
	"testing"
)

// TestGearsExamples runs every script of examples/ on known data.
func TestGearsExamples(t *testing.T) {
	s := startServer(t)
	c := dial(t, s)
	runSteps(t, c, []step{
		{`set text:1 "the quick fox"`, "OK"},
		{`set text:2 "The lazy dog and the fox"`, "OK"},
		{"hset player:1 name ann score 70", "(integer) 2"},
		{"hset player:2 name bob score 95", "(integer) 2"},
		{"hset player:3 name cid score 80", "(integer) 2"},
		{"hset player:4 name dan score 10", "(integer) 2"},
		{"set user:1 x", "OK"},
		{"rpush nocolon a", "(integer) 1"},
	})
	for file, want := range map[string]string{
		"wordcount.py":         `[["and:1" "dog:1" "fox:2" "lazy:1" "quick:1" "the:3"] []]`,
		"topn.py":              `[["bob=95" "cid=80" "ann=70"] []]`,
		"keystats.py":          `[["(none): 1 keys (list=1)" "player: 4 keys (hash=4)" "text: 2 keys (string=2)" "user: 1 keys (string=1)"] []]`,
		"async_wait.py":        `[["0!" "2!" "4!"] []]`,
		"lastmodified_hook.py": "OK",
	} {
		code, err := os.ReadFile(filepath.Join("..", "examples", file))
		if err != nil {
			t.Fatal(err)
		}
		if got := c.pyexec(string(code)); got != want {
			t.Errorf("%s:\n got  %s\n want %s", file, got, want)
		}
	}
	// the hook registered above now stamps HSETs on profile:*
	runSteps(t, c, []step{
		{"hset profile:1 name ann", `"2"`},
		{"hset profile:1 city rome", `"1"`},
		{"hmget profile:1 name city _version_", `["ann" "rome" "2"]`},
		{"hset other name x", "(integer) 1"},
	})
}
