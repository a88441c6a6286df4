"""checksum: CRC-32, Adler-32 and base64 from checksum.wasm (C, clang-19).

A WASM-packaged requirement: the C functions run in their own wasm
instance beside the session's interpreter (from gears import wasm).
"""
from gears import wasm as _wasm

_m = _wasm.load('checksum')


def crc32(data):
    """zlib.crc32(data)"""
    return int.from_bytes(_m.call('crc32', data, 4), 'big')


def adler32(data):
    """zlib.adler32(data)"""
    return int.from_bytes(_m.call('adler32', data, 4), 'big')


def b64encode(data):
    """base64.b64encode(data)"""
    return _m.call('base64_encode', data)


def add(a, b):
    return _m.invoke('add', a, b)
