package server

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/wasmgears/wasmgears/storage"
)

// Keyspace notification classes (notify-keyspace-events), as in Redis.
const (
	notifyKeyspace = 1 << iota // K
	notifyKeyevent             // E
	notifyGeneric              // g
	notifyString               // $
	notifyList                 // l
	notifySet                  // s
	notifyHash                 // h
	notifyZSet                 // z
	notifyExpired              // x
	notifyEvicted              // e
	notifyStream               // t
	notifyKeyMiss              // m
	notifyModule               // d
	notifyNew                  // n
	notifyAll      = notifyGeneric | notifyString | notifyList | notifySet | notifyHash | notifyZSet | notifyExpired | notifyEvicted | notifyStream | notifyModule
)

// parseNotifyFlags parses a notify-keyspace-events value.
func parseNotifyFlags(v string) (int, error) {
	f := 0
	for _, ch := range v {
		switch ch {
		case 'A':
			f |= notifyAll
		case 'g':
			f |= notifyGeneric
		case '$':
			f |= notifyString
		case 'l':
			f |= notifyList
		case 's':
			f |= notifySet
		case 'h':
			f |= notifyHash
		case 'z':
			f |= notifyZSet
		case 'x':
			f |= notifyExpired
		case 'e':
			f |= notifyEvicted
		case 'K':
			f |= notifyKeyspace
		case 'E':
			f |= notifyKeyevent
		case 't':
			f |= notifyStream
		case 'm':
			f |= notifyKeyMiss
		case 'd':
			f |= notifyModule
		case 'n':
			f |= notifyNew
		default:
			return 0, fmt.Errorf("invalid event class character '%c'", ch)
		}
	}
	return f, nil
}

// formatNotifyFlags renders flags as CONFIG GET shows them.
func formatNotifyFlags(f int) string {
	var b strings.Builder
	if f&notifyAll == notifyAll {
		b.WriteByte('A')
	} else {
		for _, x := range []struct {
			bit int
			ch  byte
		}{{notifyGeneric, 'g'}, {notifyString, '$'}, {notifyList, 'l'}, {notifySet, 's'}, {notifyHash, 'h'},
			{notifyZSet, 'z'}, {notifyExpired, 'x'}, {notifyEvicted, 'e'}, {notifyStream, 't'}, {notifyModule, 'd'}} {
			if f&x.bit != 0 {
				b.WriteByte(x.ch)
			}
		}
	}
	if f&notifyKeyspace != 0 {
		b.WriteByte('K')
	}
	if f&notifyKeyevent != 0 {
		b.WriteByte('E')
	}
	if f&notifyKeyMiss != 0 {
		b.WriteByte('m')
	}
	if f&notifyNew != 0 {
		b.WriteByte('n')
	}
	return b.String()
}

func checkNotifyFlags(v string) (string, error) {
	f, err := parseNotifyFlags(v)
	if err != nil {
		return "", err
	}
	return formatNotifyFlags(f), nil
}

// eventClass maps a keyspace event name to its notify class, as Redis'
// notifyKeyspaceEvent callers do.
func eventClass(name string) int {
	switch name {
	case "del", "expire", "rename_from", "rename_to", "copy_to", "persist", "move_from", "move_to", "restore", "sortstore":
		return notifyGeneric
	case "expired":
		return notifyExpired
	case "evicted":
		return notifyEvicted
	case "keymiss":
		return notifyKeyMiss
	case "new":
		return notifyNew
	case "set", "setrange", "incrby", "incrbyfloat", "append":
		return notifyString
	}
	if name == "" {
		return notifyModule
	}
	switch name[0] {
	case 'l', 'r', 'b': // lpush rpush lpop rpop linsert lset lrem ltrim ...
		return notifyList
	case 'h':
		return notifyHash
	case 's':
		return notifySet
	case 'z':
		return notifyZSet
	case 'x':
		return notifyStream
	}
	return notifyModule
}

// notifyKeyspace publishes __keyspace@<db>__:<key> and
// __keyevent@<db>__:<event> for events whose class is enabled.
func (s *Server) notifyKeyspace(ps *pubsub, evs []storage.Event) {
	flags := int(ps.notify.Load())
	if flags&(notifyKeyspace|notifyKeyevent) == 0 {
		return
	}
	var buf []byte
	for i := range evs {
		e := &evs[i]
		if eventClass(e.Name)&flags == 0 {
			continue
		}
		if flags&notifyKeyspace != 0 {
			buf = append(buf[:0], "__keyspace@"...)
			buf = strconv.AppendInt(buf, int64(e.DB), 10)
			buf = append(buf, "__:"...)
			buf = append(buf, e.Key...)
			ps.publish(buf, []byte(e.Name))
		}
		if flags&notifyKeyevent != 0 {
			buf = append(buf[:0], "__keyevent@"...)
			buf = strconv.AppendInt(buf, int64(e.DB), 10)
			buf = append(buf, "__:"...)
			buf = append(buf, e.Name...)
			ps.publish(buf, e.Key)
		}
	}
}

func init() {
	if k := configKeys["notify-keyspace-events"]; k != nil && k.Apply == nil {
		k.Apply = func(s *Server, v string) error {
			f, err := parseNotifyFlags(v)
			if err != nil {
				return err
			}
			s.pubsub().notify.Store(int64(f))
			return nil
		}
	}
}
