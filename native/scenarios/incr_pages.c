/* Scenario for incremental checkpoints: incr_pages MIB STEPS [STEP_MS] [CHANGE]
 * Holds MIB MiB whose every page carries its index and a version; each step rewrites
 * CHANGE pages (default 16), drops one page with MADV_DONTNEED until the first restart
 * (it must read zero afterwards; a lazily restored page would read its image again), maps a fresh 1 MiB area and unmaps the previous one (new mappings),
 * and grows the brk heap a little; then checks every page of all of it. Prints
 * "step i"; exits 0 with "OK" after STEPS, "FAIL ..." at the first wrong page. */
#include "common.h"
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define PAGE  4096u
#define FRESH (1u << 20)

static unsigned char *g_mem;
static uint32_t *g_ver; /* per page: 0 = zero (dropped), else the version written */
static size_t g_pages;
static unsigned char *g_fresh;
static uint32_t g_fresh_tag;
static uint64_t *g_brk;
static size_t g_brk_words;

static uint64_t word(size_t page, uint32_t ver, size_t i)
{
    return (page * 0x9E3779B97F4A7C15ull) ^ ((uint64_t)ver << 32) ^ i;
}

static void write_page(size_t p, uint32_t ver)
{
    uint64_t *w = (uint64_t *)(g_mem + p * PAGE);
    for (size_t i = 0; i < PAGE / 8; i++) w[i] = word(p, ver, i);
    g_ver[p] = ver;
}

static void check_page(size_t p)
{
    const uint64_t *w = (const uint64_t *)(g_mem + p * PAGE);
    for (size_t i = 0; i < PAGE / 8; i++) {
        uint64_t want = g_ver[p] ? word(p, g_ver[p], i) : 0;
        if (w[i] != want) {
            printf("FAIL page %zu word %zu: %#llx, expected %#llx (version %u)\n", p, i, (unsigned long long)w[i],
                   (unsigned long long)want, g_ver[p]);
            fflush(stdout);
            exit(1);
        }
    }
}

static void new_fresh(void)
{
    if (g_fresh) munmap(g_fresh, FRESH);
    g_fresh = mmap(NULL, FRESH, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (g_fresh == MAP_FAILED) sc_fail("mmap");
    g_fresh_tag++;
    for (size_t i = 0; i < FRESH; i += PAGE) memcpy(g_fresh + i, &g_fresh_tag, sizeof g_fresh_tag);
}

static void check_rest(void)
{
    for (size_t i = 0; i < FRESH; i += PAGE)
        if (memcmp(g_fresh + i, &g_fresh_tag, sizeof g_fresh_tag)) sc_fail("fresh mapping changed");
    for (size_t i = 0; i < g_brk_words; i++)
        if (g_brk[i] != i * 7 + 1) sc_fail("brk heap changed");
}

static void grow_brk(void)
{
    size_t more = 1024;
    uint64_t *p = sbrk((intptr_t)(more * 8));
    if (p == (void *)-1) sc_fail("sbrk");
    if (!g_brk) g_brk = p;
    for (size_t i = 0; i < more; i++) g_brk[g_brk_words + i] = (g_brk_words + i) * 7 + 1;
    g_brk_words += more;
}

int main(int argc, char **argv)
{
    if (argc < 3) sc_fail("usage: incr_pages MIB STEPS [STEP_MS] [CHANGE]");
    g_pages = (size_t)atol(argv[1]) << 20 >> 12;
    long steps = atol(argv[2]), step_ms = argc > 3 ? atol(argv[3]) : 50;
    size_t change = argc > 4 ? (size_t)atol(argv[4]) : 16;
    g_mem = mmap(NULL, g_pages * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    g_ver = calloc(g_pages, sizeof *g_ver);
    if (g_mem == MAP_FAILED || !g_ver) sc_fail("allocate");
    for (size_t p = 0; p < g_pages; p++) write_page(p, 1);
    new_fresh();
    uint64_t rnd = 88172645463325252ull;
    printf("ready %zu pages\n", g_pages);
    fflush(stdout);
    for (long s = 1; s <= steps; s++) {
        sc_sleep_ms(step_ms);
        for (size_t k = 0; k < change; k++) {
            rnd ^= rnd << 13, rnd ^= rnd >> 7, rnd ^= rnd << 17;
            size_t p = rnd % g_pages;
            write_page(p, g_ver[p] + 1 + (g_ver[p] == 0));
        }
        rnd ^= rnd << 13, rnd ^= rnd >> 7, rnd ^= rnd << 17;
        size_t drop = rnd % g_pages;
        if (sc_restarts() == 0) {
            if (madvise(g_mem + drop * PAGE, PAGE, MADV_DONTNEED) < 0) sc_fail("madvise");
            g_ver[drop] = 0;
        }
        if (s % 3 == 0) new_fresh();
        grow_brk();
        for (size_t p = 0; p < g_pages; p++) check_page(p);
        check_rest();
        printf("step %ld restarted %d\n", s, sc_restarts());
        fflush(stdout);
    }
    printf("OK\n");
    return 0;
}
