/* CRC32C (Castagnoli, reflected poly 0x82F63B78), as java.util.zip.CRC32C:
 * call with crc = 0 for a new checksum; chaining works: crc32c(crc32c(0,a),b). */
#include "stasis/rawio.h"
#include <nmmintrin.h>

__attribute__((target("sse4.2")))
uint32_t stasis_crc32c(uint32_t crc, const void *buf, size_t len)
{
    const unsigned char *p = buf;
    uint64_t c = ~crc & 0xffffffffu;
    while (len && ((uintptr_t)p & 7)) { c = _mm_crc32_u8((uint32_t)c, *p++); len--; }
    while (len >= 8) {
        uint64_t v;
        __builtin_memcpy(&v, p, 8);
        c = _mm_crc32_u64(c, v);
        p += 8; len -= 8;
    }
    while (len--) c = _mm_crc32_u8((uint32_t)c, *p++);
    return ~(uint32_t)c;
}
