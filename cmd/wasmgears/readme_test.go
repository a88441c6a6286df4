package main

import (
	"os"
	"strings"
	"testing"

	"github.com/wasmgears/wasmgears/server"
)

// TestREADMEConfigTable keeps README.md's configuration table in step with
// the configuration table of the code: every key, with its default.
func TestREADMEConfigTable(t *testing.T) {
	raw, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	rows := map[string]string{}
	for _, line := range strings.Split(string(raw), "\n") {
		cells := strings.Split(line, "|")
		if len(cells) < 4 || !strings.HasPrefix(strings.TrimSpace(cells[1]), "`") {
			continue
		}
		rows[strings.Trim(strings.TrimSpace(cells[1]), "`")] = strings.Trim(strings.TrimSpace(cells[2]), "`")
	}
	for _, k := range server.ConfigKeys() {
		def, ok := rows[k.Name]
		if !ok {
			t.Errorf("README.md configuration table lacks %q (%s)", k.Name, k.Usage)
			continue
		}
		if k.Default != "" && def != k.Default {
			t.Errorf("README.md: %s default %q, code says %q", k.Name, def, k.Default)
		}
	}
}
