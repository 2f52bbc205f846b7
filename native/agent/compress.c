/* Compressed images (doc/image-format.md, "Compressed images"): the page data of a WRITE
 * is copied into slots of at most STASIS_IMG_FRAME_RAW bytes of one area each; every slot
 * becomes one zstd frame (no content checksum: the frame's CRC32C covers the stored bytes,
 * the area's the raw pages), or is stored as it is if it does not compress (below). Runs
 * in the checkpoint thread while
 * every other thread is parked: the program's malloc may be held by a parked thread, so
 * all memory here is mapped by the agent (zstd contexts on it: ZSTD_initStaticCCtx, zstd
 * allocates nothing) and unmapped after the WRITE (none of it is in the image: the areas
 * were listed before).
 *
 * Compression is the slow part (a few hundred MB/s a core at level 1 on text), so helper
 * threads, one per usable CPU, compress the slots the checkpoint thread has filled while
 * it fills the next ones; the checkpoint thread writes the finished frames in order (their
 * file offsets follow each other). The helpers are bare kernel threads (raw clone, their
 * own stacks, every signal blocked, no TLS touched: zstd, memcpy and CRC32C need none);
 * they only ever touch the slots, and have exited when the WRITE returns. With one CPU
 * the checkpoint thread compresses each slot itself. */
#include "agent.h"
#include "stasis/rawsys.h"
#include <linux/futex.h>
#include <sched.h>
#include <sys/mman.h>
#define ZSTD_STATIC_LINKING_ONLY
#include <zstd.h>

#define MAX_FRAMES   (1u << 20) /* 4 TiB of raw data at 4 MiB a frame */
#define MAX_HELPERS  8
#define HELPER_STACK (256u << 10)
#define NSLOTS       (2 * MAX_HELPERS + 2)

enum { SLOT_FREE = 0, SLOT_FILLED, SLOT_BUSY, SLOT_DONE, SLOT_FAILED };

struct slot {
    int state;                                      /* futex word */
    uint32_t raw_len, area, comp_len, crc, raw_crc; /* raw_crc: of the raw data, from the filler */
    long padded;
    char *raw, *out;
    const char *frame; /* what is written: out, or raw when stored as it is */
};

static int g_level, g_on; /* the COMPRESS request: next WRITE */
static struct {
    struct slot slot[NSLOTS];
    int nslots, fill, head; /* the slot being filled; the oldest not yet written */
    int nhelpers, stop;
    int tid[MAX_HELPERS]; /* cleared by the kernel when a helper exits (futex) */
    char *stack[MAX_HELPERS];
    ZSTD_CCtx *cctx[MAX_HELPERS + 1]; /* [nhelpers]: the checkpoint thread's */
    char *mem;
    size_t mem_len, out_cap, cctx_size;
    struct stasis_img_frame *frames;
    int work; /* futex word: bumped when a slot is filled or the helpers must stop */
} g_z;

void stasis_compress_set(int on, int level)
{
    g_on = on;
    g_level = level;
}

int stasis_compress_on(int *level)
{
    *level = g_level;
    return g_on;
}

static size_t page_up(size_t n) { return (n + 4095) & ~(size_t)4095; }

/* waits are bounded (10 ms): a wake that came before the wait costs that much, never a
 * hang; not private, so that the kernel's wake at a helper's exit (CLONE_CHILD_CLEARTID)
 * is seen too */
static void futex_wait(int *word, int val)
{
    struct {
        long sec, nsec;
    } ts = {0, 10000000};
    rsys4(SYS_futex, word, FUTEX_WAIT, val, &ts);
}

static void futex_wake(int *word) { rsys3(SYS_futex, word, FUTEX_WAKE, 0x7fffffff); }

static int usable_cpus(void)
{
    uint64_t set[16];
    r_memset(set, 0, sizeof set);
    long n = rsys3(SYS_sched_getaffinity, 0, sizeof set, set);
    int count = 0;
    for (long i = 0; n > 0 && i < n / 8; i++) count += __builtin_popcountll(set[i]);
    return count < 1 ? 1 : count;
}

/* Incompressible data (random, already compressed) costs zstd a full pass for nothing:
 * a sample of the slot is compressed first, and a slot whose sample does not shrink by
 * 1/16 is stored as it is, as is a slot zstd does not shrink at all (the format: a frame
 * whose comp_len is its raw_len holds its raw bytes). A stored slot is written from the
 * slot itself (page multiple, page aligned: O_DIRECT takes it). */
#define SAMPLE (64u << 10)

static int worth_compressing(ZSTD_CCtx *cctx, const struct slot *s)
{
    if (s->raw_len <= 2 * SAMPLE) return 1;
    size_t n = ZSTD_compress2(cctx, s->out, g_z.out_cap, s->raw + s->raw_len / 2 - SAMPLE / 2, SAMPLE);
    return !ZSTD_isError(n) && n < SAMPLE - SAMPLE / 16;
}

static void store_slot(struct slot *s)
{
    s->frame = s->raw;
    s->padded = (long)s->raw_len;
    s->comp_len = s->raw_len;
    s->crc = s->raw_crc;
}

/* one slot as a frame, padded with zeros to a page */
static void compress_slot(ZSTD_CCtx *cctx, struct slot *s)
{
    size_t n = worth_compressing(cctx, s) ? ZSTD_compress2(cctx, s->out, g_z.out_cap, s->raw, s->raw_len) : s->raw_len;
    if (ZSTD_isError(n)) {
        __atomic_store_n(&s->state, SLOT_FAILED, __ATOMIC_RELEASE);
    } else if (n >= s->raw_len) {
        store_slot(s);
        __atomic_store_n(&s->state, SLOT_DONE, __ATOMIC_RELEASE);
    } else {
        s->frame = s->out;
        s->padded = (long)page_up(n);
        r_memset(s->out + n, 0, (size_t)s->padded - n);
        s->comp_len = (uint32_t)n;
        s->crc = stasis_crc32c(0, s->out, n);
        __atomic_store_n(&s->state, SLOT_DONE, __ATOMIC_RELEASE);
    }
    futex_wake(&s->state);
}

/* claim a filled slot (FILLED -> BUSY): 1 if this thread compresses it */
static int claim(struct slot *s)
{
    int want = SLOT_FILLED;
    return __atomic_compare_exchange_n(&s->state, &want, SLOT_BUSY, 0, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED);
}

static void helper(long idx)
{
    ZSTD_CCtx *cctx = g_z.cctx[idx];
    for (;;) {
        int seen = __atomic_load_n(&g_z.work, __ATOMIC_ACQUIRE), any = 0;
        for (int i = 0; i < g_z.nslots; i++) {
            struct slot *s = &g_z.slot[(__atomic_load_n(&g_z.head, __ATOMIC_RELAXED) + i) % g_z.nslots];
            if (__atomic_load_n(&s->state, __ATOMIC_ACQUIRE) == SLOT_FILLED && claim(s)) {
                compress_slot(cctx, s);
                any = 1;
            }
        }
        if (any) continue;
        if (__atomic_load_n(&g_z.stop, __ATOMIC_ACQUIRE)) return;
        futex_wait(&g_z.work, seen);
    }
}

/* a bare thread on its own stack running helper(idx), then exit (not exit_group) */
static long start_helper(long idx)
{
    char *top = g_z.stack[idx] + HELPER_STACK;
    long flags = CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD | CLONE_SYSVSEM |
                 CLONE_CHILD_CLEARTID | CLONE_CHILD_SETTID;
    long ret;
    register long r10 __asm__("r10") = (long)&g_z.tid[idx];
    register long r8 __asm__("r8") = 0;
    register long r12 __asm__("r12") = idx;
    register long r13 __asm__("r13") = (long)helper;
    __asm__ volatile("syscall\n\t"
                     "test %%rax, %%rax\n\t"
                     "jnz 1f\n\t"
                     "mov %%r12, %%rdi\n\t"
                     "call *%%r13\n\t"
                     "mov $60, %%eax\n\t"
                     "xor %%edi, %%edi\n\t"
                     "syscall\n\t"
                     "ud2\n"
                     "1:"
                     : "=a"(ret)
                     : "a"(SYS_clone), "D"(flags), "S"(top), "d"(0), "r"(r10), "r"(r8), "r"(r12), "r"(r13)
                     : "rcx", "r11", "memory");
    return ret;
}

static void stop_helpers(void)
{
    __atomic_store_n(&g_z.stop, 1, __ATOMIC_RELEASE);
    __atomic_add_fetch(&g_z.work, 1, __ATOMIC_RELEASE);
    futex_wake(&g_z.work);
    for (int i = 0; i < g_z.nhelpers; i++) {
        int t;
        while ((t = __atomic_load_n(&g_z.tid[i], __ATOMIC_ACQUIRE)) != 0) futex_wait(&g_z.tid[i], t);
    }
    g_z.nhelpers = 0;
}

/* the memory: per helper a stack and a context, the checkpoint thread's context, the
 * slots' raw and output buffers, the frame table; one mapping */
static int map_all(int helpers, int nslots)
{
    g_z.out_cap = page_up(ZSTD_compressBound(STASIS_IMG_FRAME_RAW));
    g_z.cctx_size = page_up(ZSTD_estimateCCtxSize(g_level));
    size_t frames = page_up(MAX_FRAMES * sizeof(struct stasis_img_frame));
    g_z.mem_len = (size_t)helpers * HELPER_STACK + (size_t)(helpers + 1) * g_z.cctx_size +
                  (size_t)nslots * (STASIS_IMG_FRAME_RAW + g_z.out_cap) + frames;
    long p = rsys6(SYS_mmap, 0, (long)g_z.mem_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                   -1, 0);
    if (p < 0) return -1;
    char *at = g_z.mem = (char *)p;
    for (int i = 0; i < helpers; i++, at += HELPER_STACK) g_z.stack[i] = at;
    for (int i = 0; i <= helpers; i++, at += g_z.cctx_size) {
        g_z.cctx[i] = ZSTD_initStaticCCtx(at, g_z.cctx_size);
        if (!g_z.cctx[i] || ZSTD_isError(ZSTD_CCtx_setParameter(g_z.cctx[i], ZSTD_c_compressionLevel, g_level)) ||
            ZSTD_isError(ZSTD_CCtx_setParameter(g_z.cctx[i], ZSTD_c_checksumFlag, 0)))
            return -1;
    }
    for (int i = 0; i < nslots; i++) {
        g_z.slot[i].raw = at;
        g_z.slot[i].out = at + STASIS_IMG_FRAME_RAW;
        at += STASIS_IMG_FRAME_RAW + g_z.out_cap;
    }
    g_z.frames = (struct stasis_img_frame *)at;
    return 0;
}

int stasis_zbuf_open(const char **err)
{
    r_memset(&g_z, 0, sizeof g_z);
    int cpus = usable_cpus();
    int helpers = cpus > 1 ? (cpus > MAX_HELPERS ? MAX_HELPERS : cpus) : 0;
    g_z.nslots = helpers ? 2 * helpers + 2 : 1;
    if (map_all(helpers, g_z.nslots) < 0) {
        *err = "cannot set up zstd compression (memory)";
        stasis_zbuf_close();
        return -1;
    }
    /* every signal blocked in the helpers (inherited): the program's handlers never run there */
    uint64_t all = ~0ull, old;
    rsys4(SYS_rt_sigprocmask, SIG_SETMASK, &all, &old, 8);
    for (int i = 0; i < helpers; i++) {
        g_z.tid[i] = 1;
        if (start_helper(i) < 0) {
            g_z.tid[i] = 0;
            break;
        }
        g_z.nhelpers = i + 1;
    }
    rsys4(SYS_rt_sigprocmask, SIG_SETMASK, &old, NULL, 8);
    return 0;
}

void stasis_zbuf_close(void)
{
    if (g_z.nhelpers) stop_helpers();
    if (g_z.mem) rsys2(SYS_munmap, g_z.mem, g_z.mem_len);
    r_memset(&g_z, 0, sizeof g_z);
}

char *stasis_zbuf_raw(void) { return g_z.slot[g_z.fill].raw; }

struct stasis_img_frame *stasis_zbuf_frames(uint32_t n) { return n < MAX_FRAMES ? g_z.frames : 0; }

/* the oldest slot finished (compressed here if no helper took it): handed to emit, freed */
static int retire(stasis_zemit emit, void *ctx)
{
    struct slot *s = &g_z.slot[g_z.head];
    if (claim(s)) compress_slot(g_z.cctx[g_z.nhelpers], s);
    int st;
    while ((st = __atomic_load_n(&s->state, __ATOMIC_ACQUIRE)) == SLOT_BUSY) futex_wait(&s->state, st);
    if (st != SLOT_DONE) return -1;
    int rc = emit(ctx, s->frame, s->padded, s->comp_len, s->crc, s->raw_len, s->area);
    __atomic_store_n(&s->state, SLOT_FREE, __ATOMIC_RELEASE);
    __atomic_store_n(&g_z.head, (g_z.head + 1) % g_z.nslots, __ATOMIC_RELAXED);
    return rc;
}

int stasis_zbuf_submit(uint32_t raw_len, uint32_t area, uint32_t raw_crc, stasis_zemit emit, void *ctx)
{
    struct slot *s = &g_z.slot[g_z.fill];
    s->raw_len = raw_len;
    s->area = area;
    s->raw_crc = raw_crc;
    __atomic_store_n(&s->state, SLOT_FILLED, __ATOMIC_RELEASE);
    __atomic_add_fetch(&g_z.work, 1, __ATOMIC_RELEASE);
    if (g_z.nhelpers) futex_wake(&g_z.work);
    g_z.fill = (g_z.fill + 1) % g_z.nslots;
    /* the next slot to fill must be free: write out what is finished before it */
    while (__atomic_load_n(&g_z.slot[g_z.fill].state, __ATOMIC_ACQUIRE) != SLOT_FREE)
        if (retire(emit, ctx) < 0) return -1;
    return 0;
}

int stasis_zbuf_finish(stasis_zemit emit, void *ctx)
{
    while (__atomic_load_n(&g_z.slot[g_z.head].state, __ATOMIC_ACQUIRE) != SLOT_FREE)
        if (retire(emit, ctx) < 0) return -1;
    return 0;
}
