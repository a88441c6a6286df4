# A gear using the WASM-packaged requirement built from checksum.c:
#   gears-cli pack c -name checksum -version 1.0 -module checksum \
#       -py examples/wasmreq/py -o /tmp examples/wasmreq/checksum.c
#   gears-cli upload /tmp/checksum-1.0-py3-none-wasm32_wasi.whl
#   gears-cli run examples/wasmreq/gear.py REQUIREMENTS checksum
# Every write to a key under doc:* stores the value's CRC-32 in crc:<key>.
import checksum


def stamp(r):
    v = r['value']
    if isinstance(v, str):
        v = v.encode()
    execute('SET', 'crc:' + r['key'], str(checksum.crc32(v)))


GB().foreach(stamp).register(prefix='doc:*', eventTypes=['set'], mode='sync')
