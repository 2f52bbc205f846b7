/* Checking an image's page data against its areas' CRC32C (doc/image-format.md)
 * before anything is restored: a damaged page is never handed to the program.
 *
 * Fast: the stored pages are cut into pieces of at most PIECE bytes (never across
 * runs); worker processes, one per usable CPU, take pieces in turn (an atomic counter
 * in shared memory), map each one from the file (no copy; it also warms the page
 * cache for the lazy restore that follows) and checksum it with the hardware CRC32C;
 * the parent then joins each area's pieces in order (stasis_crc32c_combine) and
 * compares. Small images are read in this process (a fork would cost more). A worker
 * that dies (the file shrank under it: SIGBUS) fails the check. */
#include "imgcheck.h"
#include "workers.h"
#include "stasis/rawio.h"
#include "safeopen.h"
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ 22
#endif

#define PIECE (8ull << 20)  /* bytes per piece of work */
#define SMALL (32ull << 20) /* below this, no workers */

struct piece {
    uint64_t file_offset, len;
    uint32_t area, crc;
};

struct work { /* shared with the workers */
    uint64_t next, count;
    struct piece p[];
};

static const char *g_verify_name;

static int __attribute__((format(printf, 1, 2))) refuse(const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fprintf(stderr, "stasis: image %s: %s\n", g_verify_name, msg);
    return -1;
}

/* every run of every area, cut into pieces, in area and address order */
static struct work *plan_pieces(size_t *bytes)
{
    const struct stasis_img_header *h = g_img.hdr;
    uint64_t most = h->n_runs + image_raw_bytes(h) / PIECE + 1;
    *bytes = sizeof(struct work) + most * sizeof(struct piece);
    struct work *w = mmap(NULL, *bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (w == MAP_FAILED) return NULL;
    for (uint32_t i = 0; i < h->n_areas; i++) {
        const struct stasis_img_area *a = &g_img.areas[i];
        for (uint32_t r = a->run_first; r < a->run_first + a->run_count; r++) {
            const struct stasis_img_run *run = &g_img.runs[r];
            if (run->file_offset == STASIS_RUN_PARENT) continue; /* checked with the parent */
            for (uint64_t done = 0; done < run->len && w->count < most; done += PIECE) {
                struct piece *p = &w->p[w->count++];
                p->file_offset = run->file_offset + done;
                p->len = run->len - done < PIECE ? run->len - done : PIECE;
                p->area = i;
            }
        }
    }
    return w;
}

/* in this process: read, no mapping (a shrinking file gives an error, not SIGBUS) */
static int crc_read(int fd, struct piece *p)
{
    static char buf[1 << 20];
    uint32_t crc = 0;
    for (uint64_t done = 0; done < p->len;) {
        size_t want = p->len - done > sizeof buf ? sizeof buf : (size_t)(p->len - done);
        ssize_t n = pread(fd, buf, want, (off_t)(p->file_offset + done));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return -1;
        crc = stasis_crc32c(crc, buf, (size_t)n);
        done += (uint64_t)n;
    }
    p->crc = crc;
    return 0;
}

/* in a worker: mapped (piece offsets are page aligned) */
static int crc_mapped(int fd, struct piece *p)
{
    void *m = mmap(NULL, p->len, PROT_READ, MAP_SHARED, fd, (off_t)p->file_offset);
    if (m == MAP_FAILED) return crc_read(fd, p);
    madvise(m, p->len, MADV_POPULATE_READ); /* one batch of page-ins instead of a fault per page */
    p->crc = stasis_crc32c(0, m, p->len);
    munmap(m, p->len);
    return 0;
}

struct pieces_job {
    int fd;
    struct work *w;
};

/* a worker's share: pieces taken in turn, mapped and checksummed; 1 if one could not be */
static int worker(void *arg)
{
    const struct pieces_job *j = arg;
    for (;;) {
        uint64_t i = __atomic_fetch_add(&j->w->next, 1, __ATOMIC_RELAXED);
        if (i >= j->w->count) return 0;
        if (crc_mapped(j->fd, &j->w->p[i]) < 0) return 1;
    }
}

/* the pieces' checksums, by workers or (small images, one CPU) here */
static int checksum_pieces(int fd, struct work *w)
{
    int n = workers_usable();
    if (image_raw_bytes(g_img.hdr) < SMALL || n == 1 || w->count < 2) {
        for (uint64_t i = 0; i < w->count; i++)
            if (crc_read(fd, &w->p[i]) < 0) return refuse("image is truncated");
        return 0;
    }
    struct pieces_job job = {fd, w};
    int failed;
    if (workers_run(n, w->count, worker, &job, &failed) == 0)
        return refuse("cannot start a process to check its pages: %s", strerror(errno));
    if (failed || w->next < w->count)
        return refuse("cannot read its page data (did the file shrink while it was read?)");
    return 0;
}

/* each area's pieces joined in order, compared with its checksum */
static int compare_areas(const struct work *w)
{
    uint64_t k = 0;
    for (uint32_t i = 0; i < g_img.hdr->n_areas; i++) {
        const struct stasis_img_area *a = &g_img.areas[i];
        uint32_t crc = 0;
        for (; k < w->count && w->p[k].area == i; k++) crc = stasis_crc32c_combine(crc, w->p[k].crc, w->p[k].len);
        if (crc != a->crc32c)
            return refuse("page data of area %u (%#llx-%#llx) is corrupt (checksum mismatch)", i,
                          (unsigned long long)a->start, (unsigned long long)a->end);
    }
    return 0;
}

int image_verify_data(const char *path) { return image_verify_named(path_base(path)); }

/* compressed: each area's frames' raw CRCs (inflate.c) joined in order */
static int compare_frames(void)
{
    uint32_t k = 0;
    for (uint32_t i = 0; i < g_img.hdr->n_areas; i++) {
        const struct stasis_img_area *a = &g_img.areas[i];
        uint32_t crc = 0;
        for (; k < g_img.n_frames && g_img.frames[k].area == i; k++)
            crc = stasis_crc32c_combine(crc, g_img.frame_crc[k], g_img.frames[k].raw_len);
        if (crc != a->crc32c)
            return refuse("page data of area %u (%#llx-%#llx) is corrupt (checksum mismatch)", i,
                          (unsigned long long)a->start, (unsigned long long)a->end);
    }
    if (k != g_img.n_frames) return refuse("its compressed frames are not in the order of its areas");
    return 0;
}

int image_verify_named(const char *name)
{
    g_verify_name = name;
    if (g_img.frame_crc) return compare_frames(); /* the data was checked as it was decompressed */
    size_t bytes;
    struct work *w = plan_pieces(&bytes);
    if (!w) return refuse("cannot reserve memory to check its pages");
    int rc = checksum_pieces(g_img.fd, w);
    if (rc == 0) rc = compare_areas(w);
    munmap(w, bytes);
    return rc;
}
