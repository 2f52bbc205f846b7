/* Tiny async-signal-safe helpers: no malloc, no stdio, no locks. */
#include "stasis/rawio.h"
#include "stasis/rawsys.h"
#include <fcntl.h>
#include <errno.h>

size_t r_strlen(const char *s)
{
    size_t n = 0;
    while (s[n]) n++;
    return n;
}
char *r_stpcpy(char *d, const char *s)
{
    while ((*d = *s++)) d++;
    return d;
}

/* a field of a protocol line: '\\' and newline escaped ("\\\\", "\\n"), so that any path,
 * even one with a newline in its name, is one field of one line; d needs 2*len+1 */
char *r_stpcpy_escaped(char *d, const char *s)
{
    for (; *s; s++) {
        if (*s == '\\') {
            *d++ = '\\';
            *d++ = '\\';
        } else if (*s == '\n') {
            *d++ = '\\';
            *d++ = 'n';
        } else *d++ = *s;
    }
    *d = 0;
    return d;
}
void r_memset(void *d, int c, size_t n)
{
    unsigned char *p = d;
    while (n--) *p++ = (unsigned char)c;
}
void r_memcpy(void *d, const void *s, size_t n)
{
    unsigned char *a = d;
    const unsigned char *b = s;
    while (n--) *a++ = *b++;
}
int r_streq(const char *a, const char *b)
{
    while (*a && *a == *b) {
        a++;
        b++;
    }
    return *a == *b;
}
int r_startswith(const char *s, const char *p)
{
    while (*p)
        if (*s++ != *p++) return 0;
    return 1;
}
long r_gettid(void) { return rsys0(SYS_gettid); }

char *r_utoa(char *d, uint64_t v)
{
    char tmp[24];
    int n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n) *d++ = tmp[--n];
    *d = 0;
    return d;
}
char *r_itoa(char *d, int64_t v)
{
    if (v < 0) {
        *d++ = '-';
        return r_utoa(d, (uint64_t)(-(v + 1)) + 1);
    }
    return r_utoa(d, (uint64_t)v);
}
char *r_xtoa(char *d, uint64_t v)
{
    char tmp[20];
    int n = 0;
    do {
        tmp[n++] = "0123456789abcdef"[v & 15];
        v >>= 4;
    } while (v);
    while (n) *d++ = tmp[--n];
    *d = 0;
    return d;
}
uint64_t r_parse_hex(const char **p)
{
    uint64_t v = 0;
    const char *s = *p;
    for (;; s++) {
        char c = *s;
        if (c >= '0' && c <= '9') v = v * 16 + (uint64_t)(c - '0');
        else if (c >= 'a' && c <= 'f') v = v * 16 + (uint64_t)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F') v = v * 16 + (uint64_t)(c - 'A' + 10);
        else break;
    }
    *p = s;
    return v;
}
uint64_t r_parse_dec(const char **p)
{
    uint64_t v = 0;
    const char *s = *p;
    while (*s >= '0' && *s <= '9') v = v * 10 + (uint64_t)(*s++ - '0');
    *p = s;
    return v;
}
int r_write_all(int fd, const void *buf, size_t len)
{
    const char *p = buf;
    while (len) {
        long n = rsys3(SYS_write, fd, p, len > 0x40000000 ? 0x40000000 : len);
        if (n == -EINTR) continue;
        if (n <= 0) return n ? (int)n : -EIO;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}
/* read a whole (proc) file into buf, NUL-terminated; 0 or -errno (-E2BIG if it did not fit) */
int r_read_file(const char *path, char *buf, size_t cap, size_t *len)
{
    long fd = rsys3(SYS_open, path, O_RDONLY | O_CLOEXEC, 0);
    if (fd < 0) return (int)fd;
    size_t got = 0;
    for (;;) {
        if (got + 1 >= cap) {
            rsys1(SYS_close, fd);
            return -E2BIG;
        }
        long n = rsys3(SYS_read, fd, buf + got, cap - 1 - got);
        if (n == -EINTR) continue;
        if (n < 0) {
            rsys1(SYS_close, fd);
            return (int)n;
        }
        if (n == 0) break;
        got += (size_t)n;
    }
    rsys1(SYS_close, fd);
    buf[got] = 0;
    if (len) *len = got;
    return 0;
}
