//go:build linux

package server

import (
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// nicedThreads lists this process's threads whose nice value is above
// the lowest one (the process's own; a worker may lock the main thread).
func nicedThreads(t *testing.T) map[string]bool {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/task")
	if err != nil {
		t.Fatal(err)
	}
	nices := map[string]int{}
	for _, e := range ents {
		if v, ok := threadNice(t, "/proc/self/task/"+e.Name()+"/stat"); ok {
			nices[e.Name()] = v
		}
	}
	base := slices.Min(slices.Collect(maps.Values(nices)))
	out := map[string]bool{}
	for tid, v := range nices {
		if v > base {
			out[tid] = true
		}
	}
	return out
}

// newNiced counts the threads of now that were not in before (other
// tests' workers may still be ending).
func newNiced(before, now map[string]bool) int {
	n := 0
	for tid := range now {
		if !before[tid] {
			n++
		}
	}
	return n
}

func threadNice(t *testing.T, path string) (int, bool) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, false // the thread ended meanwhile
	}
	// fields after "(comm)": state is field 3, nice field 19
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
	v, err := strconv.Atoi(f[16])
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return v, true
}

// Executions no client waits for run on a lowered-priority thread
// (BackgroundNice, unless 0), and the GOMAXPROCS governor hears of them; a
// trigger's, which its client waits for, do not.
func TestBackgroundNice(t *testing.T) {
	for _, tc := range []struct {
		nice string
		want int // new niced threads
	}{{"10", 1}, {"0", 0}} {
		t.Run("BackgroundNice "+tc.nice, func(t *testing.T) {
			s := startServer(t, "gears", "BackgroundNice "+tc.nice)
			c := dial(t, s)
			before := nicedThreads(t)
			if got := c.pyexec(`GB().foreach(lambda r: execute('incr', 'seen')).register(prefix='bg:*', mode='async')`); got != "OK" {
				t.Fatal(got)
			}
			c.do("set bg:1 x")
			waitUntil(t, c, "get seen", `"1"`)
			if n := newNiced(before, nicedThreads(t)); n != tc.want {
				t.Fatalf("%d niced threads with one async KeysReader registration, want %d", n, tc.want)
			}
			// the GOMAXPROCS governor hears of niced executions (procs.go)
			if tc.want > 0 {
				deadline := time.Now().Add(10 * time.Second)
				for s.procs.bgLast.Load() == 0 || s.procs.bgBusy.Load() != 0 {
					if time.Now().After(deadline) {
						t.Fatalf("governor: niced execution not seen (busy %d)", s.procs.bgBusy.Load())
					}
					time.Sleep(time.Millisecond)
				}
			} else if s.procs.bgLast.Load() != 0 || s.procs.bgBusy.Load() != 0 {
				t.Fatal("governor: an execution counted as niced with BackgroundNice 0")
			}
			if got := c.pyexec(`GB('CommandReader').map(lambda x: x[1]).register(trigger='fg', inorder=True)`); got != "OK" {
				t.Fatal(got)
			}
			runSteps(t, c, []step{{"rg.trigger fg a", `["a"]`}})
			if n := newNiced(before, nicedThreads(t)); n != tc.want {
				t.Fatalf("%d niced threads after an inorder trigger ran, want %d", n, tc.want)
			}
		})
	}
}
