// Command gears-cli runs RedisGears scripts against a wasmgears (or
// RedisGears) server and manages requirements.
package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Fprintln(os.Stderr, "gears-cli: not implemented yet (see issue: metrics dashboard and gears-cli)")
	os.Exit(2)
}
