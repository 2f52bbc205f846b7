/* Raw x86_64 system calls: usable with no libc state (restorer phase 2, signal
 * handlers, restart entry). Return value is -errno on failure. */
#ifndef STASIS_RAWSYS_H
#define STASIS_RAWSYS_H
#include <sys/syscall.h>

static inline long rsys6(long n, long a, long b, long c, long d, long e, long f)
{
    long ret;
    register long r10 __asm__("r10") = d;
    register long r8 __asm__("r8") = e;
    register long r9 __asm__("r9") = f;
    __asm__ volatile("syscall"
                     : "=a"(ret)
                     : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
                     : "rcx", "r11", "memory");
    return ret;
}
#define rsys0(n)                rsys6((n), 0, 0, 0, 0, 0, 0)
#define rsys1(n, a)             rsys6((n), (long)(a), 0, 0, 0, 0, 0)
#define rsys2(n, a, b)          rsys6((n), (long)(a), (long)(b), 0, 0, 0, 0)
#define rsys3(n, a, b, c)       rsys6((n), (long)(a), (long)(b), (long)(c), 0, 0, 0)
#define rsys4(n, a, b, c, d)    rsys6((n), (long)(a), (long)(b), (long)(c), (long)(d), 0, 0)
#define rsys5(n, a, b, c, d, e) rsys6((n), (long)(a), (long)(b), (long)(c), (long)(d), (long)(e), 0)

/* the kernel's signal set (64 signals), the size the raw rt_sig* calls and ppoll take;
 * glibc's sigset_t is 128 bytes and would be refused */
#define KSIGSET_SIZE 8

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* one record of getdents64 (glibc declares none for the raw call) */
struct r_dirent64 {
    unsigned long long ino;
    long long off;
    unsigned short reclen;
    unsigned char type;
    char name[];
};

#endif
