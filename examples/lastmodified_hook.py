# A command hook (RedisGears 1.2, experimental there too): every HSET on a
# key starting with 'profile:' also stamps the hash with a change counter,
# then runs the real HSET through call_next. The client's reply is the
# hook's result, converted to a string: the number of new fields.
def stamp(args):
    # args: ['hset', key, field, value, ...]
    n = execute('hincrby', 'changes', args[1], 1)
    return call_next(*(args[1:] + ['_version_', str(n)]))

GB('CommandReader').map(stamp).register(hook='hset', keyprefix='profile:', mode='sync')
