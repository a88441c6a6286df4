# Word count: every string key holds text; count each word over the keyspace.
# Run: redis-cli RG.PYEXECUTE "$(cat examples/wordcount.py)"
GB('KeysReader') \
    .filter(lambda r: r['type'] == 'string') \
    .flatmap(lambda r: r['value'].lower().split()) \
    .countby() \
    .map(lambda r: '%s:%d' % (r['key'], r['value'])) \
    .sort() \
    .run('text:*')
