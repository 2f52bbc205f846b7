/* CRC32C (Castagnoli, reflected poly 0x82F63B78), as java.util.zip.CRC32C:
 * call with crc = 0 for a new checksum; chaining works: crc32c(crc32c(0,a),b).
 *
 * The SSE4.2 crc32 instruction takes 3 cycles and can start one every cycle: large
 * buffers are cut into three blocks checksummed side by side, then joined. Joining
 * uses the algebra of CRCs: feeding n zero bytes to a CRC register multiplies it by
 * x^(8n) modulo the polynomial, so crc(A||B) = crc(B) ^ shift(crc(A), |B|) (the
 * initial and final inversions cancel out). */
#include "stasis/rawio.h"
#include <nmmintrin.h>

#define POLY  0x82f63b78u /* reflected: bit 31 is x^0 */
#define BLOCK 4096u       /* bytes per stream of a 3-way round */

/* a * b modulo the polynomial (both reflected) */
static uint32_t mulmod(uint32_t a, uint32_t b)
{
    uint32_t product = 0;
    for (uint32_t bit = 1u << 31; bit; bit >>= 1) {
        if (a & bit) product ^= b;
        b = (b & 1) ? (b >> 1) ^ POLY : b >> 1; /* b *= x */
    }
    return product;
}

/* x^(8n) modulo the polynomial: square-and-multiply over the bits of 8n */
static uint32_t x_pow_8n(uint64_t n)
{
    uint32_t result = 1u << 31, square = 1u << 23; /* x^0, and x^8 */
    while (n) {
        if (n & 1) result = mulmod(result, square);
        square = mulmod(square, square);
        n >>= 1;
    }
    return result;
}

uint32_t stasis_crc32c_combine(uint32_t crc_a, uint32_t crc_b, uint64_t len_b)
{
    return crc_b ^ mulmod(crc_a, x_pow_8n(len_b));
}

__attribute__((target("sse4.2"))) static uint64_t crc_words(uint64_t c, const unsigned char *p, size_t words)
{
    for (size_t i = 0; i < words; i++) {
        uint64_t v;
        __builtin_memcpy(&v, p + 8 * i, 8);
        c = _mm_crc32_u64(c, v);
    }
    return c;
}

/* register c after 3 * BLOCK bytes at p, the three blocks in flight together */
__attribute__((target("sse4.2"))) static uint64_t crc_3way(uint64_t c, const unsigned char *p, uint32_t shift)
{
    uint64_t c1 = 0, c2 = 0;
    const unsigned char *p1 = p + BLOCK, *p2 = p + 2 * BLOCK;
    for (size_t i = 0; i < BLOCK; i += 8) {
        uint64_t v0, v1, v2;
        __builtin_memcpy(&v0, p + i, 8);
        __builtin_memcpy(&v1, p1 + i, 8);
        __builtin_memcpy(&v2, p2 + i, 8);
        c = _mm_crc32_u64(c, v0);
        c1 = _mm_crc32_u64(c1, v1);
        c2 = _mm_crc32_u64(c2, v2);
    }
    /* raw(A||B||C, r) = shift(shift(raw(A, r), |B|) ^ raw(B, 0), |C|) ^ raw(C, 0) */
    return mulmod(mulmod((uint32_t)c, shift) ^ (uint32_t)c1, shift) ^ (uint32_t)c2;
}

__attribute__((target("sse4.2"))) uint32_t stasis_crc32c(uint32_t crc, const void *buf, size_t len)
{
    static uint32_t block_shift; /* x^(8 BLOCK); racing writers store the same value */
    const unsigned char *p = buf;
    uint64_t c = ~crc & 0xffffffffu;
    while (len && ((uintptr_t)p & 7)) {
        c = _mm_crc32_u8((uint32_t)c, *p++);
        len--;
    }
    if (len >= 3 * BLOCK) {
        uint32_t shift = __atomic_load_n(&block_shift, __ATOMIC_RELAXED);
        if (!shift) {
            shift = x_pow_8n(BLOCK);
            __atomic_store_n(&block_shift, shift, __ATOMIC_RELAXED);
        }
        for (; len >= 3 * BLOCK; p += 3 * BLOCK, len -= 3 * BLOCK) c = crc_3way(c, p, shift);
    }
    c = crc_words(c, p, len / 8);
    p += len & ~(size_t)7;
    len &= 7;
    while (len--) c = _mm_crc32_u8((uint32_t)c, *p++);
    return ~(uint32_t)c;
}
