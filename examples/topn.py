# Top-N by value: the 3 players with the highest score (hash field 'score'),
# highest first, as "name=score".
N = 3

def top(a, r):
    a.append((int(r['value']['score']), r['value']['name']))
    a.sort(reverse=True)
    return a[:N]

GB('KeysReader') \
    .filter(lambda r: r['type'] == 'hash' and 'score' in r['value']) \
    .aggregate([], top, lambda a, r: sorted(a + r, reverse=True)[:N]) \
    .flatmap(lambda a: ['%s=%d' % (name, score) for score, name in reversed(a)]) \
    .run('player:*')
