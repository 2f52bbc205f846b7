/* CPU features that a restored process depends on (glibc picked its string
 * functions by them at startup; the kernel restores the XSAVE state it saved). */
#ifndef STASIS_CPUFEAT_H
#define STASIS_CPUFEAT_H
#include <cpuid.h>
#include <stdint.h>

#define B(n) (1u << (n))
/* instruction-set bits only (not microcode/vulnerability/OS-state bits) */
static const uint32_t stasis_cpuid_isa_mask[5] = {
        B(0) | B(1) | B(9) | B(12) | B(13) | B(19) | B(20) | B(22) | B(23) | B(25) | B(26) | B(28) | B(29) | B(30),
        0,
        B(3) | B(5) | B(8) | B(9) | B(16) | B(17) | B(18) | B(19) | B(21) | B(23) | B(26) | B(27) | B(28) | B(29) |
                B(30) | B(31),
        B(1) | B(5) | B(6) | B(8) | B(9) | B(10) | B(11) | B(12) | B(14) | B(22) | B(27) | B(28),
        B(2) | B(3) | B(4) | B(8) | B(14) | B(22) | B(23) | B(24) | B(25),
};
#undef B

static inline void stasis_cpu_features(uint64_t *xcr0, uint32_t f[5])
{
    unsigned a, b, c, d;
    f[0] = f[1] = f[2] = f[3] = f[4] = 0;
    *xcr0 = 0;
    if (__get_cpuid(1, &a, &b, &c, &d)) {
        f[0] = c;
        f[1] = d;
    }
    if (__get_cpuid_count(7, 0, &a, &b, &c, &d)) {
        f[2] = b;
        f[3] = c;
        f[4] = d;
    }
    int osxsave = (f[0] >> 27) & 1;
    for (int i = 0; i < 5; i++) f[i] &= stasis_cpuid_isa_mask[i];
    if (osxsave) {
        uint32_t lo, hi;
        __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
        *xcr0 = ((uint64_t)hi << 32) | lo;
    }
}
#endif
