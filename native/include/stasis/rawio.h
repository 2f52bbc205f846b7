/* Helpers shared by the agent and the restorer (native/lib/): async-signal-safe,
 * freestanding (raw system calls, no libc, no locks), so that the restorer's phase 2
 * and the agent's signal handlers may use them. */
#ifndef STASIS_RAWIO_H
#define STASIS_RAWIO_H
#include <stddef.h>
#include <stdint.h>

/* crc32c.c: CRC32C (Castagnoli), as java.util.zip.CRC32C */
uint32_t stasis_crc32c(uint32_t crc, const void *buf, size_t len);
/* the CRC32C of A followed by B, from crc_a = CRC32C(A), crc_b = CRC32C(B) and len_b = |B| */
uint32_t stasis_crc32c_combine(uint32_t crc_a, uint32_t crc_b, uint64_t len_b);

/* rawio.c */
size_t r_strlen(const char *s);
char *r_stpcpy(char *d, const char *s);
char *r_stpcpy_escaped(char *d, const char *s);
char *r_utoa(char *d, uint64_t v);
char *r_itoa(char *d, int64_t v);
char *r_xtoa(char *d, uint64_t v);
int r_write_all(int fd, const void *buf, size_t len);
int r_read_file(const char *path, char *buf, size_t cap, size_t *len);
uint64_t r_parse_hex(const char **p);
uint64_t r_parse_dec(const char **p);
int r_streq(const char *a, const char *b);
int r_startswith(const char *s, const char *prefix);
void r_memset(void *d, int c, size_t n);
void r_memcpy(void *d, const void *s, size_t n);
long r_gettid(void);
#endif
