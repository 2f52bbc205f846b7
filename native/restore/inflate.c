/* Compressed images (doc/image-format.md, "Compressed images"): before anything is
 * restored, every frame is checked against its CRC32C and decompressed (a frame stored as
 * it is, read), each frame's raw CRC taken on the way for verify.c.
 *
 * The image of the process being restarted (g_inflate_anon) is decompressed into one
 * anonymous mapping laid out as its raw data, by threads of this process (the memory is
 * private: worker processes could not write it), which phase 2 moves to the program's
 * addresses run by run (mremap) or copies from: the pages decompressed are the ones the
 * program gets, with no second copy. Every other image (parents, --check, --compact) is
 * decompressed into a memfd laid out as the uncompressed image would be, which then
 * stands for the image file (verification, parents, phase 2 read it as they read an
 * uncompressed image; phase 2 copies from it, never a lazy view), by worker processes
 * sharing it. Neither is part of the program's address space until phase 2 makes it so.
 *
 * Parallel like verify.c: one worker per usable CPU takes frames in turn (an atomic
 * counter in shared memory); each decompresses with its own static zstd context on
 * memory it maps (ZSTD_initStaticDCtx: zstd allocates nothing). Small images are done
 * in this thread. */
#include "inflate.h"
#include "workers.h"
#include "stasis/rawio.h"
#include "stasis/restart.h"
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sysinfo.h>
#include <unistd.h>
#define ZSTD_STATIC_LINKING_ONLY
#include <zstd.h>

#define SMALL (32ull << 20) /* raw bytes below which no workers are started */

enum { FRAME_PENDING = 0, FRAME_OK, FRAME_CRC, FRAME_BAD, FRAME_IO }; /* mapped zero: pending */

struct zwork { /* shared with the workers */
    uint64_t next, count;
    uint32_t *crc;    /* per frame: CRC32C of its raw data (kept: verify.c) */
    uint8_t status[]; /* per frame */
};

int g_img_inflated, g_inflate_anon;
static const char *g_zname;

static int __attribute__((format(printf, 1, 2))) refuse(const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fprintf(stderr, "stasis: image %s: %s\n", g_zname, msg);
    return -1;
}

static int read_all(int fd, void *buf, size_t len, uint64_t off)
{
    for (size_t got = 0; got < len;) {
        ssize_t n = pread(fd, (char *)buf + got, len - got, (off_t)(off + got));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return -1;
        got += (size_t)n;
    }
    return 0;
}

/* every frame inside the page data, one area's, of raw data in order without gaps */
static int check_frames(const struct stasis_img_frame *f, uint32_t n)
{
    const struct stasis_img_header *h = g_img.hdr;
    uint64_t raw = h->data_offset, data_end = h->data_offset + h->data_bytes;
    for (uint32_t i = 0; i < n; i++) {
        if (f[i].raw_offset != raw || !f[i].raw_len || f[i].raw_len % h->page_size ||
            f[i].raw_len > STASIS_IMG_FRAME_RAW)
            return refuse("compressed frame %u does not continue the page data where frame %u ended", i, i - 1);
        if (f[i].area >= h->n_areas)
            return refuse("compressed frame %u names area %u, which does not exist", i, f[i].area);
        if (!f[i].comp_len || f[i].file_offset % h->page_size || f[i].file_offset < h->data_offset ||
            f[i].file_offset > data_end || f[i].comp_len > data_end - f[i].file_offset)
            return refuse("compressed frame %u lies outside the page data", i);
        raw += f[i].raw_len;
    }
    if (raw != h->data_offset + h->proc.compress.raw_bytes)
        return refuse("its compressed frames hold %llu bytes of page data, its header says %llu",
                      (unsigned long long)(raw - h->data_offset), (unsigned long long)h->proc.compress.raw_bytes);
    return 0;
}

struct zctx {
    ZSTD_DCtx *dctx;
    char *in, *mem;
    size_t in_cap, mem_len;
};

static int zctx_open(struct zctx *z)
{
    size_t dsize = (ZSTD_estimateDCtxSize() + 4095) & ~4095ul;
    z->in_cap = (ZSTD_compressBound(STASIS_IMG_FRAME_RAW) + 4095) & ~4095ul;
    z->mem_len = dsize + z->in_cap;
    void *mem = mmap(NULL, z->mem_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (mem == MAP_FAILED) return -1;
    z->mem = mem;
    z->in = (char *)mem + dsize;
    z->dctx = ZSTD_initStaticDCtx(mem, dsize);
    return z->dctx ? 0 : -1;
}

/* a frame stored as it is (comp_len == raw_len: it did not compress): read straight into
 * place; its CRC is its raw CRC too */
static int stored_frame(int src, void *out, const struct stasis_img_frame *f, uint32_t *raw_crc)
{
    if (read_all(src, out, f->raw_len, f->file_offset) < 0) return FRAME_IO;
    *raw_crc = stasis_crc32c(0, out, f->raw_len);
    return *raw_crc == f->crc32c ? FRAME_OK : FRAME_CRC;
}

/* one frame: its compressed bytes checked, then decompressed into out (raw_len bytes) */
static int inflate_frame(struct zctx *z, int src, char *out, const struct stasis_img_frame *f, uint32_t *raw_crc)
{
    if (f->comp_len > z->in_cap) return FRAME_BAD;
    if (f->comp_len == f->raw_len) return stored_frame(src, out, f, raw_crc);
    if (read_all(src, z->in, f->comp_len, f->file_offset) < 0) return FRAME_IO;
    if (stasis_crc32c(0, z->in, f->comp_len) != f->crc32c) return FRAME_CRC;
    size_t n = ZSTD_decompressDCtx(z->dctx, out, f->raw_len, z->in, f->comp_len);
    if (ZSTD_isError(n) || n != f->raw_len) return FRAME_BAD;
    *raw_crc = stasis_crc32c(0, out, n); /* while it is in the cache */
    return FRAME_OK;
}

/* into the memfd, through a mapping of its part (MAP_POPULATE: its pages allocated in
 * one go, not one fault each) */
static int inflate_to_memfd(struct zctx *z, int src, int dst, const struct stasis_img_frame *f, uint32_t *raw_crc)
{
    void *out = mmap(NULL, f->raw_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, dst, (off_t)f->raw_offset);
    if (out == MAP_FAILED) return FRAME_IO;
    int st = inflate_frame(z, src, out, f, raw_crc);
    munmap(out, f->raw_len);
    return st;
}

/* into its place in the anonymous buffer, whose pages are allocated in one call rather
 * than one fault each (MADV_POPULATE_WRITE, Linux 5.14; a fault each before) */
static int inflate_to_buffer(struct zctx *z, int src, char *buf, const struct stasis_img_frame *f, uint32_t *raw_crc)
{
    char *out = buf + (f->raw_offset - g_img.hdr->data_offset);
    madvise(out, f->raw_len, 23 /* MADV_POPULATE_WRITE */);
    return inflate_frame(z, src, out, f, raw_crc);
}

struct frames_job {
    int src, dst; /* dst: the memfd, or -1: into buf */
    char *buf;
    const struct stasis_img_frame *f;
    struct zwork *w;
};

/* a worker's (or this process's) share: frames taken in turn; each frame's outcome in w->status */
static int run_frames(void *arg)
{
    const struct frames_job *j = arg;
    struct zctx z;
    if (zctx_open(&z) < 0) return 0; /* the frames it did not take are reported as not done */
    for (;;) {
        uint64_t i = __atomic_fetch_add(&j->w->next, 1, __ATOMIC_RELAXED);
        if (i >= j->w->count) break;
        j->w->status[i] = (uint8_t)(j->buf ? inflate_to_buffer(&z, j->src, j->buf, &j->f[i], &j->w->crc[i])
                                           : inflate_to_memfd(&z, j->src, j->dst, &j->f[i], &j->w->crc[i]));
    }
    munmap(z.mem, z.mem_len);
    return 0;
}

/* worker processes share the memfd; the private buffer takes threads */
static int inflate_all(const struct frames_job *job)
{
    int n = workers_usable(), failed;
    if (g_img.hdr->proc.compress.raw_bytes < SMALL || n == 1 || job->w->count < 2) return run_frames((void *)job);
    int started = job->buf ? workers_run_threads(n, job->w->count, run_frames, (void *)job)
                           : workers_run(n, job->w->count, run_frames, (void *)job, &failed);
    if (started == 0) return refuse("cannot start a process to decompress it: %s", strerror(errno));
    return 0; /* a worker that died left its frames pending: report() names them */
}

/* the first frame that failed, named by its area */
static int report(const struct stasis_img_frame *f, const struct zwork *w)
{
    for (uint64_t i = 0; i < w->count; i++) {
        if (w->status[i] == FRAME_OK) continue;
        if (w->status[i] == FRAME_PENDING)
            return refuse("cannot decompress its page data (out of memory, or the file shrank while it was read?)");
        const struct stasis_img_area *a = &g_img.areas[f[i].area];
        const char *why = w->status[i] == FRAME_CRC   ? "checksum mismatch"
                          : w->status[i] == FRAME_BAD ? "it does not decompress"
                                                      : "cannot read it";
        return refuse("page data of area %u (%#llx-%#llx) is corrupt (compressed frame %llu: %s)", f[i].area,
                      (unsigned long long)a->start, (unsigned long long)a->end, (unsigned long long)i, why);
    }
    return 0;
}

/* the frames' raw CRCs stay mapped (shared, written by the workers) for verify.c */
static int inflate_into(int dst, char *buf, const struct stasis_img_frame *f, uint32_t n)
{
    size_t wbytes = sizeof(struct zwork) + n + (size_t)n * sizeof(uint32_t) + 8;
    struct zwork *w = mmap(NULL, wbytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (w == MAP_FAILED) return refuse("cannot reserve memory to decompress it");
    w->count = n;
    w->crc = (uint32_t *)(((uintptr_t)(w->status + n) + 7) & ~(uintptr_t)7);
    struct frames_job job = {g_img.fd, dst, buf, f, w};
    int rc = inflate_all(&job);
    if (rc == 0) rc = report(f, w);
    if (rc < 0) {
        munmap(w, wbytes);
        return -1;
    }
    g_img.frame_crc = w->crc;
    return 0;
}

/* what the raw data may be: what the areas store, and no more than the machine can hold
 * (a hostile image of small frames that decompress to much could exhaust its memory) */
static int check_raw_size(void)
{
    const struct stasis_img_header *h = g_img.hdr;
    uint64_t stored = 0;
    for (uint32_t i = 0; i < h->n_areas; i++) stored += g_img.areas[i].data_bytes;
    if (stored != h->proc.compress.raw_bytes)
        return refuse("its areas store %llu bytes, its compressed frames %llu", (unsigned long long)stored,
                      (unsigned long long)h->proc.compress.raw_bytes);
    struct sysinfo si;
    if (sysinfo(&si) == 0 && h->proc.compress.raw_bytes / si.mem_unit > (uint64_t)si.totalram + si.totalswap)
        return refuse("its page data (%llu MiB uncompressed) is more than this machine's memory",
                      (unsigned long long)(h->proc.compress.raw_bytes >> 20));
    return 0;
}

/* The anonymous buffer lies where phase 2 keeps it while it maps the areas: 1 GiB clear of every
 * area of the image (the program's addresses) and of the restorer, from its scratch range
 * on upwards (an area in the way: after it). */
static char *place_buffer(uint64_t len)
{
    /* a gap after the scratch range: adjacent to a mapping of it, the buffer would be
     * merged into one line of /proc/self/maps with it, which phase 2 then cannot tell */
    uint64_t at = STASIS_RESTORER_SCRATCH_END + (1ull << 30);
    for (int tries = 0; tries < 64 && at + len < 0x7ff000000000ull; tries++) {
        int clear = 1;
        for (uint32_t i = 0; i < g_img.hdr->n_areas; i++) {
            const struct stasis_img_area *a = &g_img.areas[i];
            if (a->start < at + len + (1ull << 30) && at < a->end + (1ull << 30)) {
                at = ((a->end + (2ull << 20) - 1) & ~((2ull << 20) - 1)) + (1ull << 30);
                clear = 0;
            }
        }
        if (!clear) continue;
        void *p = mmap((void *)(uintptr_t)at, len, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED_NOREPLACE, -1, 0);
        if (p == (void *)(uintptr_t)at) return p;
        if (p != MAP_FAILED) munmap(p, len);
        at += len + (1ull << 30); /* something of the restorer's is there */
    }
    return NULL;
}

int image_read(void *dst, uint64_t len, uint64_t off)
{
    if (g_img.zbuf) {
        memcpy(dst, g_img.zbuf + (off - g_img.hdr->data_offset), len);
        return 0;
    }
    return read_all(g_img.fd, dst, len, off);
}

/* into anonymous memory (g_inflate_anon): g_img.fd stays the image file; 1: no room for
 * it in the address space (RLIMIT_AS, a program spread all over it): use a memfd */
static int inflate_anon(const struct stasis_img_frame *f, uint32_t n)
{
    uint64_t len = (g_img.hdr->proc.compress.raw_bytes + 4095) & ~4095ull;
    char *buf = len ? place_buffer(len) : NULL;
    if (len && !buf) return 1;
    if (inflate_into(-1, buf, f, n) < 0) {
        if (buf) munmap(buf, len);
        return -1;
    }
    g_img.zbuf = buf;
    g_img.zbuf_len = len;
    return 0;
}

int image_inflate(const char *name)
{
    const struct stasis_img_header *h = g_img.hdr;
    const struct stasis_img_compress *c = &h->proc.compress;
    g_zname = name;
    int anon = g_inflate_anon;
    g_inflate_anon = 0;
    g_img.zbuf = NULL;
    g_img.zbuf_len = 0;
    if (check_raw_size() < 0) return -1;
    size_t flen = (size_t)c->n_frames * sizeof(struct stasis_img_frame);
    struct stasis_img_frame *f =
            mmap(NULL, flen ? flen : 1, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (f == MAP_FAILED) return refuse("cannot reserve memory for its frame table");
    int rc = -1, dst = -1;
    if (read_all(g_img.fd, f, flen, c->frames_offset) < 0) rc = refuse("image is truncated (frame table)");
    else if (stasis_crc32c(0, f, flen) != c->frames_crc32c)
        rc = refuse("its frame table is corrupt (checksum mismatch)");
    else if (check_frames(f, c->n_frames) < 0) rc = -1;
    else if (anon && (rc = inflate_anon(f, c->n_frames)) <= 0) anon = rc == 0;
    else {
        anon = 0;
        dst = memfd_create("stasis-image", MFD_CLOEXEC);
        if (dst < 0 || ftruncate(dst, (off_t)(h->data_offset + c->raw_bytes)) < 0)
            rc = refuse("cannot make room to decompress it: %s", strerror(errno));
        else rc = inflate_into(dst, NULL, f, c->n_frames);
    }
    if (rc < 0) {
        munmap(f, flen ? flen : 1);
        if (dst >= 0) close(dst);
        return -1;
    }
    g_img.frames = f; /* kept, with the raw CRCs, for verify.c */
    g_img.n_frames = c->n_frames;
    g_img_inflated = 1;
    if (anon) return 0;
    close(g_img.fd);
    g_img.fd = dst;
    return 0;
}
