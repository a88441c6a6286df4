package server

import (
	"os"
	"testing"
)

// TestCommandsDoc keeps docs/commands.md in step with the command table.
func TestCommandsDoc(t *testing.T) {
	got, err := os.ReadFile("../docs/commands.md")
	if err != nil {
		t.Fatalf("%v (run `make docs`)", err)
	}
	if string(got) != CommandsMarkdown() {
		t.Fatal("docs/commands.md is out of date with the command table: run `make docs`")
	}
}
