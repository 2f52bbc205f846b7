/* Scenario: a 2 TiB MAP_NORESERVE reservation, as allocators, sanitizers and language
 * runtimes make (a writable one with a few pages touched, and a PROT_NONE one with a
 * part opened up later). bigreserve N [STEP_MS]: counts N steps checking the touched
 * pages, prints "count i" (and "restarted g"), "OK bigreserve" at the end. */
#include "common.h"
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define TIB (1ull << 40)

static unsigned char *g_rw, *g_none;
static const uint64_t g_offs[] = {0, 4096, 1ull << 30, TIB, 2 * TIB - 4096};
#define NOFFS (sizeof g_offs / sizeof g_offs[0])

static void check(void)
{
    for (size_t i = 0; i < NOFFS; i++)
        if (g_rw[g_offs[i]] != (unsigned char)(i + 1)) sc_fail("page in the writable reservation");
    for (size_t i = 0; i < 8192; i += 512)
        if (g_none[(1ull << 30) + i] != (unsigned char)(i >> 9)) sc_fail("page in the opened part");
}

int main(int argc, char **argv)
{
    uint64_t n = argc > 1 ? strtoull(argv[1], NULL, 10) : 100;
    long step = argc > 2 ? atol(argv[2]) : 10;
    g_rw = mmap(NULL, 2 * TIB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    g_none = mmap(NULL, 2 * TIB, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (g_rw == MAP_FAILED || g_none == MAP_FAILED) sc_fail("mmap 2 TiB");
    for (size_t i = 0; i < NOFFS; i++) g_rw[g_offs[i]] = (unsigned char)(i + 1);
    if (mprotect(g_none + (1ull << 30), 8192, PROT_READ | PROT_WRITE) < 0) sc_fail("mprotect");
    for (size_t i = 0; i < 8192; i += 512) g_none[(1ull << 30) + i] = (unsigned char)(i >> 9);
    int gen = 0;
    for (uint64_t i = 1; i <= n; i++) {
        check();
        int g = sc_restarts();
        if (g != gen) {
            printf("restarted %d\n", g);
            gen = g;
        }
        printf("count %llu\n", (unsigned long long)i);
        fflush(stdout);
        sc_sleep_ms(step);
    }
    void *more = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (more == MAP_FAILED) sc_fail("mmap after restart");
    memset(more, 1, 1 << 20);
    printf("OK bigreserve %llu\n", (unsigned long long)n);
    return 0;
}
