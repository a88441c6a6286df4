# Per-prefix key statistics: for every key prefix (the part before the
# first ':'), the number of keys and how many of each type, e.g.
# "user: 3 keys (hash=2 string=1)".
def prefix(r):
    return r['key'].split(':', 1)[0] if ':' in r['key'] else '(none)'

def add(k, a, r):
    a = a or {'keys': 0, 'types': {}}
    a['keys'] += 1
    a['types'][r['type']] = a['types'].get(r['type'], 0) + 1
    return a

def fmt(r):
    types = ' '.join('%s=%d' % kv for kv in sorted(r['value']['types'].items()))
    return '%s: %d keys (%s)' % (r['key'], r['value']['keys'], types)

GB('KeysReader').groupby(prefix, add).map(fmt).sort().run()
