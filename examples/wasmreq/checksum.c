/* checksum.c: CRC-32 (ISO-HDLC, as zlib's crc32), Adler-32 and base64,
 * compiled by `gears-cli pack c` with Debian's clang-19 into a freestanding
 * wasm32 module (no libc, no imports) and used from a gear through
 * `from gears import wasm` (see py/checksum/__init__.py, gear.py and
 * docs/requirements.md).
 *
 * Bytes convention: fn(in, in_len, out, out_cap) -> out_len; a result
 * larger than out_cap asks the host for a bigger buffer, a negative one is
 * an error. Plain integer functions are called with Module.invoke.
 */
#include <stdint.h>

#define EXPORT __attribute__((visibility("default")))

static uint32_t crc_table[256];
static int crc_ready;

static void crc_init(void) {
    for (uint32_t n = 0; n < 256; n++) {
        uint32_t c = n;
        for (int k = 0; k < 8; k++)
            c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
        crc_table[n] = c;
    }
    crc_ready = 1;
}

/* crc32_update continues a CRC-32 over n bytes at p (zlib's crc32()). */
EXPORT uint32_t crc32_update(uint32_t crc, const uint8_t *p, uint32_t n) {
    if (!crc_ready)
        crc_init();
    crc = ~crc;
    while (n--)
        crc = crc_table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
    return ~crc;
}

/* adler32_update is zlib's adler32(). */
EXPORT uint32_t adler32_update(uint32_t adler, const uint8_t *p, uint32_t n) {
    uint32_t a = adler & 0xffff, b = adler >> 16;
    while (n) {
        uint32_t k = n < 3800 ? n : 3800; /* keep b below 2^32 */
        n -= k;
        while (k--) {
            a += *p++;
            b += a;
        }
        a %= 65521;
        b %= 65521;
    }
    return (b << 16) | a;
}

static int32_t put_u32(uint32_t v, uint8_t *out, int32_t cap) {
    if (cap < 4)
        return 4;
    out[0] = v >> 24; out[1] = v >> 16; out[2] = v >> 8; out[3] = v;
    return 4;
}

/* crc32 and adler32 in the bytes convention: 4 bytes, big-endian. */
EXPORT int32_t crc32(const uint8_t *in, int32_t n, uint8_t *out, int32_t cap) {
    return put_u32(crc32_update(0, in, (uint32_t)n), out, cap);
}

EXPORT int32_t adler32(const uint8_t *in, int32_t n, uint8_t *out, int32_t cap) {
    return put_u32(adler32_update(1, in, (uint32_t)n), out, cap);
}

/* base64_encode: RFC 4648 with padding. */
EXPORT int32_t base64_encode(const uint8_t *in, int32_t n, uint8_t *out, int32_t cap) {
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    int32_t need = (n + 2) / 3 * 4;
    if (need > cap)
        return need;
    int32_t o = 0;
    for (int32_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16;
        if (i + 1 < n) v |= (uint32_t)in[i + 1] << 8;
        if (i + 2 < n) v |= in[i + 2];
        out[o++] = tab[v >> 18 & 63];
        out[o++] = tab[v >> 12 & 63];
        out[o++] = i + 1 < n ? tab[v >> 6 & 63] : '=';
        out[o++] = i + 2 < n ? tab[v & 63] : '=';
    }
    return o;
}

/* add is an integer function: Module.invoke('add', 2, 3) == 5. */
EXPORT int64_t add(int64_t a, int64_t b) { return a + b; }

/* spin never returns: the host stops it (abort, time limit, session close). */
EXPORT int32_t spin(int32_t n) {
    volatile int32_t x = n;
    for (;;)
        x++;
    return x;
}
