/* Writing the memory image (doc/image-format.md). Runs in the checkpoint thread while
 * every other thread is parked: static buffers and raw syscalls only. */
#include "agent.h"
#include "stasis/rawsys.h"
#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/ioctl.h>
#include <link.h>
#include <linux/aio_abi.h>

#define MAX_RUNS      (1 << 17)
#define NAMES_CAP     (1 << 19)
#define PM_CHUNK      4096 /* pagemap entries per read (16 MiB of address space) */
#define IOV_MAX_BATCH 1024
#define WRITE_CHUNK   (64ull << 20) /* bytes per write call: the image grows visibly (progress) */
#define PAGE          4096ull

static char g_maps[1 << 20];
static struct stasis_img_area g_areas[STASIS_IMG_MAX_AREAS];
static struct stasis_img_run g_runs[MAX_RUNS];
static char g_names[NAMES_CAP];
static uint64_t g_pm[PM_CHUNK];
struct stasis_img_header g_hdr; /* also read at restart (proc.mm) */
static struct iovec g_iov[IOV_MAX_BATCH];
static int g_niov;
static uint32_t g_nareas, g_nruns, g_names_len;

/* Page data goes through `fd`, opened O_DIRECT where the filesystem allows it: the
 * pages are aligned in memory and in the file, and bypassing the page cache is several
 * times faster than copying a large process into it (and already durable). The header
 * and the tables, which are not page multiples, go through the buffered `bfd`. Writes
 * are positional (`wpos`) because the two descriptors share no file offset. */
struct writer {
    int fd;
    int bfd;
    long pmfd;
    uint64_t off; /* next run's file offset (compressed: its raw data offset) */
    uint64_t wpos;
    const char *err;
    /* compressed (compress.c): the frame being filled, what the file holds so far */
    int z;
    uint32_t z_fill, z_area, z_nframes, z_crc; /* z_crc: of the staged raw data */
    uint64_t z_raw_start, z_phys;
};

static int flush_iov(struct writer *w)
{
    int i = 0;
    while (i < g_niov) {
        int cnt = 0;
        uint64_t batch = 0;
        while (i + cnt < g_niov && (cnt == 0 || batch + g_iov[i + cnt].iov_len <= WRITE_CHUNK))
            batch += g_iov[i + cnt++].iov_len;
        long n = rsys5(SYS_pwritev, w->fd, &g_iov[i], cnt, (long)w->wpos, 0);
        if (n == -EINTR) continue;
        if (n == -EINVAL && w->fd != w->bfd) {
            w->fd = w->bfd;
            continue;
        } /* no direct I/O here */
        if (n <= 0) {
            w->err = "write to image failed (disk full?)";
            return -1;
        }
        w->wpos += (uint64_t)n;
        while (i < g_niov && (size_t)n >= g_iov[i].iov_len) {
            n -= (long)g_iov[i].iov_len;
            i++;
        }
        if (i < g_niov && n) {
            g_iov[i].iov_base = (char *)g_iov[i].iov_base + n;
            g_iov[i].iov_len -= (size_t)n;
        }
    }
    g_niov = 0;
    return 0;
}

static int is_zero_page(const void *p)
{
    const uint64_t *q = p;
    uint64_t acc = q[0] | q[1] | q[2] | q[3] | q[4] | q[5] | q[6] | q[7];
    if (acc) return 0;
    for (size_t i = 8; i < PAGE / 8; i += 8)
        if (q[i] | q[i + 1] | q[i + 2] | q[i + 3] | q[i + 4] | q[i + 5] | q[i + 6] | q[i + 7]) return 0;
    return 1;
}

/* Pages of "volatile" areas (the checkpoint thread's own stack and the agent's
 * writable data) change while the image is written: they go through a bounce page so
 * that the stored bytes and their CRC are the same snapshot. */
static char *g_bounce; /* one page, mmap'd per WRITE (not part of the image) */
/* a snapshot child copies the pages into one of two stages and writes each with
 * asynchronous I/O while it fills the other: O_DIRECT straight from its memory would pin
 * pages it shares with the program copy-on-write, which makes the kernel copy each of
 * them into a page of its own first (a fault and an allocation per page: measured 2.3 s
 * instead of 0.9 s durable for 1 GiB); the copy overlaps the disk's write */
#define STAGE_BYTES (16ull << 20)
static char *g_stage[2];
static uint64_t g_stage_fill;
static int g_stage_cur;
static struct iocb g_iocb;
static aio_context_t g_aio;
static uint64_t g_stage_size;   /* the file's size, set ahead of the writes: a write that
                                * extends a file is synchronous in io_submit (ext4) */
static int g_inflight;          /* the other stage is being written */
static uint64_t g_inflight_off; /* where */

/* a compressed frame, finished (compress.c), written where the last one ended */
static int emit_frame(void *ctx, const void *out, long padded, uint32_t comp_len, uint32_t crc, uint32_t raw_len,
                      uint32_t area)
{
    struct writer *w = ctx;
    struct stasis_img_frame *f = stasis_zbuf_frames(w->z_nframes);
    if (!f) {
        w->err = "too many compressed frames";
        return -1;
    }
    f += w->z_nframes;
    f->raw_offset = w->z_raw_start;
    f->file_offset = w->z_phys;
    f->raw_len = raw_len;
    f->comp_len = comp_len;
    f->area = area;
    f->crc32c = crc;
    g_iov[0].iov_base = (void *)(uintptr_t)out;
    g_iov[0].iov_len = (size_t)padded;
    g_niov = 1;
    w->wpos = w->z_phys;
    if (flush_iov(w) < 0) return -1;
    w->z_phys += (uint64_t)padded;
    w->z_raw_start += raw_len;
    w->z_nframes++;
    return 0;
}

/* the staging slot handed over to be compressed as one frame */
static int flush_frame(struct writer *w)
{
    if (!w->z_fill) return 0;
    uint32_t fill = w->z_fill;
    w->z_fill = 0;
    /* the slot's CRC, taken as it was filled, is joined to its area's (and is the frame's
     * own if it is stored as it is) */
    struct stasis_img_area *a = &g_areas[w->z_area];
    a->crc32c = stasis_crc32c_combine(a->crc32c, w->z_crc, fill);
    if (stasis_zbuf_submit(fill, w->z_area, w->z_crc, emit_frame, w) < 0) {
        if (!w->err) w->err = "zstd compression failed";
        return -1;
    }
    return 0;
}

/* every frame compressed and written */
static int finish_frames(struct writer *w)
{
    if (flush_frame(w) < 0) return -1;
    if (stasis_zbuf_finish(emit_frame, w) < 0) {
        if (!w->err) w->err = "zstd compression failed";
        return -1;
    }
    return 0;
}

/* compressed: the pages are copied into the staging buffer (a snapshot, also of
 * volatile pages), one area per frame */
static int put_frame_data(struct writer *w, struct stasis_img_area *a, uint64_t addr, uint64_t len)
{
    uint32_t area = (uint32_t)(a - g_areas);
    if (w->z_fill && (w->z_area != area || w->z_fill + len > STASIS_IMG_FRAME_RAW) && flush_frame(w) < 0) return -1;
    w->z_area = area;
    char *dst = stasis_zbuf_raw() + w->z_fill;
    __builtin_memcpy(dst, (const void *)(uintptr_t)addr, len);
    w->z_crc = stasis_crc32c(w->z_fill ? w->z_crc : 0, dst, len);
    w->z_fill += (uint32_t)len;
    return 0;
}

/* the stage being written is done; one that failed (no direct I/O here) is written again */
static int wait_stage(struct writer *w)
{
    if (!g_inflight) return 0;
    g_inflight = 0;
    struct io_event ev;
    long n = -1;
    if (g_iocb.aio_fildes != (uint32_t)-1) {
        do n = rsys5(SYS_io_getevents, g_aio, 1, 1, &ev, 0);
        while (n == -EINTR);
        if (n == 1 && ev.res == (long long)g_iocb.aio_nbytes) return 0;
        if (n == 1 && ev.res == -EINVAL) w->fd = w->bfd; /* no direct I/O here */
    }
    const char *p = (const char *)(uintptr_t)g_iocb.aio_buf;
    for (uint64_t done = 0; done < g_iocb.aio_nbytes;) {
        long k = rsys4(SYS_pwrite64, w->bfd, p + done, g_iocb.aio_nbytes - done, g_inflight_off + done);
        if (k == -EINTR) continue;
        if (k <= 0) {
            w->err = "write to image failed (disk full?)";
            return -1;
        }
        done += (uint64_t)k;
    }
    return 0;
}

static int flush_stage(struct writer *w)
{
    if (wait_stage(w) < 0) return -1;
    if (!g_stage_fill) return 0;
    if (w->wpos + g_stage_fill > g_stage_size) {
        g_stage_size = w->wpos + g_stage_fill + (256ull << 20);
        rsys2(SYS_ftruncate, w->bfd, g_stage_size); /* the table and header set the end */
    }
    r_memset(&g_iocb, 0, sizeof g_iocb);
    g_iocb.aio_lio_opcode = IOCB_CMD_PWRITE;
    g_iocb.aio_fildes = (uint32_t)w->fd;
    g_iocb.aio_buf = (uint64_t)(uintptr_t)g_stage[g_stage_cur];
    g_iocb.aio_nbytes = g_stage_fill;
    g_iocb.aio_offset = (int64_t)w->wpos;
    g_inflight_off = w->wpos;
    struct iocb *list[1] = {&g_iocb};
    long n;
    do n = rsys3(SYS_io_submit, g_aio, 1, list);
    while (n == -EINTR || n == -EAGAIN);
    if (n != 1) g_iocb.aio_fildes = (uint32_t)-1; /* not submitted: wait_stage writes it */
    g_inflight = 1;
    w->wpos += g_stage_fill;
    g_stage_fill = 0;
    g_stage_cur ^= 1;
    return 0;
}

static int put_page_data(struct writer *w, struct stasis_img_area *a, uint64_t addr, uint64_t len, int vol)
{
    if (w->z) return put_frame_data(w, a, addr, len);
    if (g_stage[0]) {
        if (g_stage_fill + len > STAGE_BYTES && flush_stage(w) < 0) return -1;
        char *dst = g_stage[g_stage_cur] + g_stage_fill;
        __builtin_memcpy(dst, (const void *)(uintptr_t)addr, len);
        a->crc32c = stasis_crc32c(a->crc32c, dst, len);
        g_stage_fill += len;
        return 0;
    }
    if (vol) {
        if (flush_iov(w) < 0) return -1;
        __builtin_memcpy(g_bounce, (const void *)(uintptr_t)addr, len);
        a->crc32c = stasis_crc32c(a->crc32c, g_bounce, len);
        g_iov[0].iov_base = g_bounce;
        g_iov[0].iov_len = len;
        g_niov = 1;
        return flush_iov(w);
    }
    if (g_niov && (uint64_t)(uintptr_t)g_iov[g_niov - 1].iov_base + g_iov[g_niov - 1].iov_len == addr &&
        g_iov[g_niov - 1].iov_len + len <= WRITE_CHUNK) {
        g_iov[g_niov - 1].iov_len += len;
    } else {
        if (g_niov == IOV_MAX_BATCH && flush_iov(w) < 0) return -1;
        g_iov[g_niov].iov_base = (void *)(uintptr_t)addr;
        g_iov[g_niov].iov_len = len;
        g_niov++;
    }
    a->crc32c = stasis_crc32c(a->crc32c, (const void *)(uintptr_t)addr, len);
    return 0;
}

/* a run of the area at file offset off (or STASIS_RUN_PARENT): extends the previous run
 * when it continues it in memory and in the file (or in the parent) */
static int append_run(struct writer *w, struct stasis_img_area *a, uint64_t addr, uint64_t len, uint64_t off)
{
    struct stasis_img_run *last = g_nruns ? &g_runs[g_nruns - 1] : 0;
    if (a->run_count && last->addr + last->len == addr &&
        (off == STASIS_RUN_PARENT ? last->file_offset == STASIS_RUN_PARENT : last->file_offset + last->len == off)) {
        last->len += len;
        return 0;
    }
    if (g_nruns >= MAX_RUNS) {
        w->err = "too many page runs";
        return -1;
    }
    struct stasis_img_run *r = &g_runs[g_nruns++];
    r->addr = addr;
    r->len = len;
    r->file_offset = off;
    a->run_count++;
    return 0;
}

static int add_run(struct writer *w, struct stasis_img_area *a, uint64_t addr, uint64_t len, int vol)
{
    if (append_run(w, a, addr, len, w->off) < 0) return -1;
    if (put_page_data(w, a, addr, len, vol) < 0) return -1;
    a->data_bytes += len;
    w->off += len;
    return 0;
}

static uint64_t g_self_start, g_self_end; /* the agent's writable segment(s) */

static int is_volatile(const struct stasis_img_area *a)
{
    uint64_t sp = (uint64_t)(uintptr_t)__builtin_frame_address(0);
    if (sp >= a->start && sp < a->end) return 1;
    return a->start < g_self_end && g_self_start < a->end;
}

/* which pages are candidates: 1 = stored if not zero */
static int page_candidate(const struct stasis_img_area *a, uint64_t pm, uint64_t fpos, uint64_t fsize)
{
    int present = (pm >> 63) & 1, swapped = (pm >> 62) & 1;
    if (present || swapped) return 1;
    /* private file pages hold file data even when not present (also after a
     * restart, where saved areas are lazily mapped from the previous image) */
    if (a->kind == STASIS_AREA_FILE_PRIVATE) return fpos < fsize;
    if (a->kind == STASIS_AREA_SHARED_ANON) return (a->prot & PROT_READ) != 0;
    return 0;
}

/* PAGEMAP_SCAN (Linux 6.7): the present or swapped ranges of an anonymous area in a
 * few calls, where pagemap needs 8 bytes per page (a 2 TiB reservation: 4 GiB read).
 * Local definitions: the build's kernel headers may predate it. */
struct pm_scan_arg {
    uint64_t size, flags, start, end, walk_end, vec, vec_len, max_pages;
    uint64_t category_inverted, category_mask, category_anyof_mask, return_mask;
};
struct page_region {
    uint64_t start, end, categories;
};
#define PM_WPALLOWED        (1ull << 0)
#define PM_WRITTEN          (1ull << 1)
#define PM_PRESENT          (1ull << 3)
#define PM_SWAPPED          (1ull << 4)
#define PM_SCAN_IOCTL       _IOWR('f', 16, struct pm_scan_arg)
#define PM_SCAN_WP_MATCHING (1ull << 0) /* write-protect the written pages it reports, in the same walk */
#define PM_REGIONS          512
static struct page_region g_regions[PM_REGIONS];

static int make_readable(struct writer *w, struct stasis_img_area *a, int *done)
{
    if ((a->prot & PROT_READ) || *done) return 0;
    if (rsys3(SYS_mprotect, a->start, a->end - a->start, a->prot | PROT_READ) < 0) {
        w->err = "mprotect(PROT_READ) failed on a protected area";
        return -1;
    }
    *done = 1;
    return 0;
}

static int end_readable(struct writer *w, struct stasis_img_area *a, int done)
{
    if (!done) return 0;
    if (flush_iov(w) < 0) return -1;
    rsys3(SYS_mprotect, a->start, a->end - a->start, a->prot);
    return 0;
}

/* anonymous area through PAGEMAP_SCAN: 1 done, 0 not available here (use pagemap) */
static int dump_scanned(struct writer *w, struct stasis_img_area *a)
{
    int made_readable = 0, vol = is_volatile(a);
    for (uint64_t at = a->start; at < a->end;) {
        struct pm_scan_arg arg;
        r_memset(&arg, 0, sizeof arg);
        arg.size = sizeof arg;
        arg.start = at;
        arg.end = a->end;
        arg.vec = (uint64_t)(uintptr_t)g_regions;
        arg.vec_len = PM_REGIONS;
        arg.category_anyof_mask = PM_PRESENT | PM_SWAPPED;
        arg.return_mask = PM_PRESENT | PM_SWAPPED;
        long n = rsys3(SYS_ioctl, w->pmfd, PM_SCAN_IOCTL, &arg);
        if (n < 0) {
            if (at == a->start && !made_readable) return 0;
            w->err = "cannot scan /proc/self/pagemap";
            return -1;
        }
        for (long r = 0; r < n; r++)
            for (uint64_t addr = g_regions[r].start; addr < g_regions[r].end; addr += PAGE) {
                if (make_readable(w, a, &made_readable) < 0) return -1;
                if (is_zero_page((const void *)(uintptr_t)addr)) continue;
                if (add_run(w, a, addr, PAGE, vol) < 0) return -1;
            }
        if (arg.walk_end <= at) break;
        at = arg.walk_end;
    }
    return end_readable(w, a, made_readable) < 0 ? -1 : 1;
}

/* areas the dirty tracking covers: private memory that is not the agent's own
 * (which changes while it is written) and not a huge reservation (protecting fills
 * page tables for all of it: markers on its holes) */
#define TRACK_MAX (4ull << 30) /* protecting costs about 10 ms per GiB of address space */
static int trackable(const struct stasis_img_area *a)
{
    if (a->kind != STASIS_AREA_ANON && a->kind != STASIS_AREA_FILE_PRIVATE) return 0;
    if (!a->prot) return 0; /* reservations (PROT_NONE): stored whole the day they are used */
    return !is_volatile(a) && a->end - a->start <= TRACK_MAX;
}

/* a range whose content is the parent image's at the same addresses */
static int add_parent_run(struct writer *w, struct stasis_img_area *a, uint64_t addr, uint64_t len)
{
    return append_run(w, a, addr, len, STASIS_RUN_PARENT);
}

/* the tracked areas of the image being written whose written pages its scan protected
 * again (PM_SCAN_WP_MATCHING): protecting the whole area afterwards costs about 25 ms
 * per GiB, where only the few written pages needed it */
static uint8_t g_rearmed[STASIS_IMG_MAX_AREAS / 8];

static long scan(struct writer *w, struct pm_scan_arg *arg, uint64_t at, uint64_t end, uint64_t need, uint64_t ret,
                 uint64_t vec_len)
{
    r_memset(arg, 0, sizeof *arg);
    arg->size = sizeof *arg;
    /* the pages it reports as written are stored now: protected again as they are reported */
    if (ret & PM_WRITTEN) arg->flags = PM_SCAN_WP_MATCHING;
    arg->start = at;
    arg->end = end;
    arg->vec = (uint64_t)(uintptr_t)g_regions;
    arg->vec_len = vec_len;
    arg->category_mask = need;
    arg->category_anyof_mask = need ? 0 : PM_WPALLOWED;
    arg->return_mask = ret;
    if (vec_len == 1) arg->max_pages = 1;
    return rsys3(SYS_ioctl, w->pmfd, PM_SCAN_IOCTL, arg);
}

/* one region of a tracked area: written pages stored (a written page that reads zero,
 * e.g. dropped by MADV_DONTNEED since, is zero: no run), clean ones the parent's. A
 * protected hole reads as swapped (its write-protect marker); a clean anonymous page
 * that is neither present nor swapped is a hole the area grew by since (brk, stack):
 * zero. */
static int dump_region(struct writer *w, struct stasis_img_area *a, const struct page_region *g, int *readable)
{
    if (g->categories & PM_WRITTEN) {
        for (uint64_t addr = g->start; addr < g->end; addr += PAGE) {
            if (make_readable(w, a, readable) < 0) return -1;
            if (is_zero_page((const void *)(uintptr_t)addr)) continue;
            if (add_run(w, a, addr, PAGE, 0) < 0) return -1;
        }
        return 0;
    }
    if (a->kind == STASIS_AREA_ANON && !(g->categories & (PM_PRESENT | PM_SWAPPED))) return 0;
    return add_parent_run(w, a, g->start, g->end - g->start);
}

/* a tracked area of an incremental image: 1 done, 0 not tracked (store it whole) */
static int dump_incremental(struct writer *w, struct stasis_img_area *a)
{
    struct pm_scan_arg arg;
    if (scan(w, &arg, a->start, a->end, PM_WPALLOWED, PM_WPALLOWED, 1) != 1) return 0;
    int readable = 0;
    for (uint64_t at = a->start; at < a->end;) {
        long n = scan(w, &arg, at, a->end, 0, PM_WRITTEN | PM_PRESENT | PM_SWAPPED, PM_REGIONS);
        if (n < 0) {
            w->err = "cannot scan /proc/self/pagemap for written pages";
            return -1;
        }
        uint32_t i = (uint32_t)(a - g_areas);
        g_rearmed[i / 8] |= (uint8_t)(1u << (i % 8));
        for (long r = 0; r < n; r++)
            if (dump_region(w, a, &g_regions[r], &readable) < 0) return -1;
        if (arg.walk_end <= at) break;
        at = arg.walk_end;
    }
    return end_readable(w, a, readable) < 0 ? -1 : 1;
}

static int dump_area(struct writer *w, struct stasis_img_area *a)
{
    a->run_first = g_nruns;
    if (stasis_incr_active() && trackable(a)) {
        int r = dump_incremental(w, a);
        if (r != 0) return r < 0 ? -1 : 0;
    }
    if (a->kind == STASIS_AREA_ANON) {
        int r = dump_scanned(w, a);
        if (r != 0) return r < 0 ? -1 : 0;
    }
    uint64_t fsize = 0;
    if (a->kind == STASIS_AREA_FILE_PRIVATE && a->name_len) {
        struct stat st;
        if (rsys4(SYS_newfstatat, AT_FDCWD, g_names + a->name_off, &st, 0) == 0 && S_ISREG(st.st_mode))
            fsize = (uint64_t)st.st_size;
    }
    int made_readable = 0, vol = is_volatile(a);
    for (uint64_t base = a->start; base < a->end; base += PM_CHUNK * PAGE) {
        uint64_t n = (a->end - base) / PAGE;
        if (n > PM_CHUNK) n = PM_CHUNK;
        long got = rsys4(SYS_pread64, w->pmfd, g_pm, n * 8, (base / PAGE) * 8);
        if (got != (long)(n * 8)) {
            w->err = "cannot read /proc/self/pagemap";
            return -1;
        }
        for (uint64_t i = 0; i < n; i++) {
            uint64_t addr = base + i * PAGE;
            if (!page_candidate(a, g_pm[i], a->pgoff + (addr - a->start), fsize)) continue;
            if (!(a->prot & PROT_READ) && !made_readable) {
                if (rsys3(SYS_mprotect, a->start, a->end - a->start, a->prot | PROT_READ) < 0) {
                    w->err = "mprotect(PROT_READ) failed on a protected area";
                    return -1;
                }
                made_readable = 1;
            }
            if (is_zero_page((const void *)(uintptr_t)addr)) continue;
            if (add_run(w, a, addr, PAGE, vol) < 0) return -1;
        }
    }
    if (made_readable) {
        if (flush_iov(w) < 0) return -1;
        rsys3(SYS_mprotect, a->start, a->end - a->start, a->prot);
    }
    return 0;
}

static void add_special(uint64_t s, uint64_t e, const char *name)
{
    struct stasis_img_proc *p = &g_hdr.proc;
    if (p->n_special >= STASIS_IMG_NSPECIAL) return;
    struct stasis_img_special *sp = &p->special[p->n_special++];
    sp->start = s;
    sp->end = e;
    for (int i = 0; i < 15 && name[i]; i++) sp->name[i] = name[i];
}

/* parse one /proc/self/maps line into g_areas; 0 ok, 1 skipped, -1 error */
static int parse_maps_line(char *line, const char **err)
{
    const char *p = line;
    uint64_t s = r_parse_hex(&p);
    p++;
    uint64_t e = r_parse_hex(&p);
    p++;
    char perms[4] = {p[0], p[1], p[2], p[3]};
    p += 5;
    uint64_t off = r_parse_hex(&p);
    p++;
    while (*p && *p != ' ') p++; /* dev */
    while (*p == ' ') p++;
    uint64_t inode = r_parse_dec(&p);
    while (*p == ' ') p++;
    const char *name = p;
    if (r_streq(name, "[vsyscall]")) return 1;
    if (r_startswith(name, "[vvar")) {
        add_special(s, e, name);
        return 1;
    }
    _Static_assert(STASIS_IMG_MAX_AREAS == 8192, "the message below names the limit");
    if (g_nareas >= STASIS_IMG_MAX_AREAS) {
        *err = "more than 8192 memory areas: the image format holds 8192 per process";
        return -1;
    }
    struct stasis_img_area *a = &g_areas[g_nareas];
    r_memset(a, 0, sizeof *a);
    a->start = s;
    a->end = e;
    a->pgoff = off;
    a->prot =
            (perms[0] == 'r' ? PROT_READ : 0) | (perms[1] == 'w' ? PROT_WRITE : 0) | (perms[2] == 'x' ? PROT_EXEC : 0);
    int shared = perms[3] == 's';
    int deleted = 0;
    size_t nl = r_strlen(name);
    if (nl > 10 && r_streq(name + nl - 10, " (deleted)")) deleted = 1;
    if (r_streq(name, "[vdso]")) {
        a->kind = STASIS_AREA_VDSO;
        add_special(s, e, name);
    } else if (shared) {
        /* POSIX shared memory objects (/dev/shm) are memory between processes, not
         * files: their contents must be the checkpoint's at restart (the processes or
         * a reboot changed them since), so they are saved like shared anonymous memory */
        a->flags |= STASIS_AF_SHARED;
        a->kind = (inode && !deleted && name[0] == '/' && !r_startswith(name, "/memfd:") &&
                   !r_startswith(name, "/SYSV") && !r_startswith(name, "/dev/shm/"))
                          ? STASIS_AREA_FILE_SHARED
                          : STASIS_AREA_SHARED_ANON;
    } else a->kind = (inode && name[0] == '/') ? STASIS_AREA_FILE_PRIVATE : STASIS_AREA_ANON;
    if (r_streq(name, "[stack]")) a->flags |= STASIS_AF_STACK;
    if (r_streq(name, "[heap]")) a->flags |= STASIS_AF_HEAP;
    if (nl) {
        if (g_names_len + nl + 1 > NAMES_CAP) {
            *err = "name pool full";
            return -1;
        }
        a->name_off = g_names_len;
        a->name_len = (uint32_t)nl;
        r_memcpy(g_names + g_names_len, name, nl + 1);
        g_names_len += (uint32_t)nl + 1;
    }
    g_nareas++;
    return 0;
}

static int read_maps(const char **err)
{
    size_t len;
    g_nareas = 0;
    g_nruns = 0;
    g_names_len = 0;
    g_niov = 0;
    if (r_read_file("/proc/self/maps", g_maps, sizeof g_maps, &len) < 0) {
        *err = "cannot read /proc/self/maps";
        return -1;
    }
    char *line = g_maps;
    while (*line) {
        char *nl = line;
        while (*nl && *nl != '\n') nl++;
        int last = !*nl;
        *nl = 0;
        if (*line && parse_maps_line(line, err) < 0) return -1;
        if (last) break;
        line = nl + 1;
    }
    return 0;
}

static void fill_header_ident(void)
{
    struct {
        char s[6][65];
    } uts;
    r_memcpy(g_hdr.magic, STASIS_IMG_MAGIC, 8);
    g_hdr.version = STASIS_IMG_VERSION_PLAIN;
    g_hdr.header_size = sizeof g_hdr;
    r_stpcpy(g_hdr.arch, "x86_64");
    if (rsys1(SYS_uname, &uts) == 0) {
        for (int i = 0; i < 64 && uts.s[2][i]; i++) g_hdr.kernel[i] = uts.s[2][i];
    }
    g_hdr.page_size = PAGE;
    g_hdr.pid = (int32_t)rsys0(SYS_getpid);
    g_hdr.ppid = (int32_t)rsys0(SYS_getppid);
    g_hdr.n_threads = (uint32_t)g_nthreads;
    for (int i = 0; i < g_nthreads; i++) g_hdr.tids[i] = g_threads[i].tid;
}

/* compressed: the frame table after the tables */
static int write_frames(struct writer *w)
{
    struct stasis_img_compress *c = &g_hdr.proc.compress;
    struct stasis_img_frame *f = stasis_zbuf_frames(0);
    size_t len = (size_t)w->z_nframes * sizeof *f;
    c->n_frames = w->z_nframes;
    c->frames_offset = w->off;
    c->frames_crc32c = stasis_crc32c(0, f, len);
    if (!len) return 0;
    g_iov[0].iov_base = f;
    g_iov[0].iov_len = len;
    g_niov = 1;
    w->fd = w->bfd;
    w->wpos = w->off;
    if (flush_iov(w) < 0) return -1;
    w->off += len;
    return 0;
}

static int write_table(struct writer *w)
{
    g_hdr.table_offset = w->off;
    g_iov[0].iov_base = g_areas;
    g_iov[0].iov_len = sizeof(g_areas[0]) * g_nareas;
    g_iov[1].iov_base = g_runs;
    g_iov[1].iov_len = sizeof(g_runs[0]) * g_nruns;
    g_iov[2].iov_base = g_names;
    g_iov[2].iov_len = g_names_len;
    g_niov = 3;
    uint32_t crc = 0;
    for (int i = 0; i < 3; i++) crc = stasis_crc32c(crc, g_iov[i].iov_base, g_iov[i].iov_len);
    g_hdr.table_size = g_iov[0].iov_len + g_iov[1].iov_len + g_iov[2].iov_len;
    g_hdr.table_crc32c = crc;
    w->fd = w->bfd;
    w->wpos = w->off;
    if (flush_iov(w) < 0) return -1;
    w->off += g_hdr.table_size;
    return 0;
}

static long open_image(const char *dir, char *path, size_t cap, int *direct_fd)
{
    size_t dl = r_strlen(dir);
    if (dl + 40 > cap) return -ENAMETOOLONG;
    rsys2(SYS_mkdir, dir, 0700);
    char *e = r_stpcpy(path, dir);
    e = r_stpcpy(e, "/image-");
    e = r_utoa(e, (uint64_t)rsys0(SYS_getpid));
    r_stpcpy(e, ".img");
    /* never truncate an existing image in place: a restored process may have it
     * mapped (lazy restart), possibly this very process */
    rsys1(SYS_unlink, path);
    long fd = rsys3(SYS_open, path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd >= 0) {
        long direct = rsys3(SYS_open, path, O_WRONLY | O_DIRECT | O_CLOEXEC, 0);
        *direct_fd = direct >= 0 ? (int)direct : (int)fd; /* tmpfs and others refuse O_DIRECT */
    }
    return fd;
}

/* the agent's own writable segments (.data/.bss), found once at startup */
static int phdr_cb(struct dl_phdr_info *info, size_t size, void *arg)
{
    (void)size;
    (void)arg;
    uint64_t me = (uint64_t)(uintptr_t)&g_sock;
    int mine = 0;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        uint64_t s = info->dlpi_addr + ph->p_vaddr;
        if (ph->p_type == PT_LOAD && me >= s && me < s + ph->p_memsz) mine = 1;
    }
    if (!mine) return 0;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_W)) continue;
        uint64_t s = (info->dlpi_addr + ph->p_vaddr) & ~(PAGE - 1);
        uint64_t e = (info->dlpi_addr + ph->p_vaddr + ph->p_memsz + PAGE - 1) & ~(PAGE - 1);
        if (!g_self_start || s < g_self_start) g_self_start = s;
        if (e > g_self_end) g_self_end = e;
    }
    return 1;
}

void stasis_find_self(void) { dl_iterate_phdr(phdr_cb, NULL); }

int stasis_image_track(int after_write)
{
    const char *err = 0;
    /* after a WRITE the areas are those it wrote: the process has been stopped since */
    if (!after_write && read_maps(&err) < 0) return -1;
    for (uint32_t i = 0; i < g_nareas; i++) {
        if (after_write && (g_rearmed[i / 8] >> (i % 8) & 1)) continue;
        if (trackable(&g_areas[i])) stasis_incr_track(g_areas[i].start, g_areas[i].end);
    }
    return 0;
}

/* the image being written: opened and described in the pause (stasis_image_prepare),
 * its pages stored by stasis_image_dump, in the pause or in a snapshot child */
static struct writer g_w = {.fd = -1, .bfd = -1, .pmfd = -1};
static int g_direct = -1;
static char *g_path;
static int g_keep_failed; /* a snapshot child: the error text goes into the file, for its parent */

static void close_image(void)
{
    if (g_w.z) stasis_zbuf_close();
    g_w.z = 0;
    if (g_bounce) {
        rsys2(SYS_munmap, g_bounce, PAGE);
        g_bounce = 0;
    }
    if (g_stage[0]) {
        rsys2(SYS_munmap, g_stage[0], 2 * STAGE_BYTES);
        rsys1(SYS_io_destroy, g_aio);
        g_stage[0] = g_stage[1] = 0;
    }
    g_stage_fill = 0;
    g_inflight = 0;
    if (g_w.pmfd >= 0) rsys1(SYS_close, g_w.pmfd);
    if (g_direct >= 0 && g_direct != g_w.bfd) rsys1(SYS_close, g_direct);
    if (g_w.bfd >= 0) rsys1(SYS_close, g_w.bfd);
    g_w.pmfd = g_w.bfd = g_w.fd = g_direct = -1;
}

static int fail_image(const char **err)
{
    *err = g_w.err ? g_w.err : "image write failed";
    if (g_keep_failed && g_w.bfd >= 0) {
        size_t n = r_strlen(*err);
        rsys4(SYS_pwrite64, g_w.bfd, *err, n + 1, 0);
    } else rsys1(SYS_unlink, g_path);
    close_image();
    return -1;
}

int stasis_image_prepare(const char *dir, char *path, size_t cap, const char **err)
{
    g_w = (struct writer){.fd = -1, .bfd = -1, .pmfd = -1, .off = 0, .wpos = 0, .err = 0};
    g_keep_failed = 0;
    g_path = path;
    r_memset(&g_hdr, 0, sizeof g_hdr);
    r_memset(g_rearmed, 0, sizeof g_rearmed);
    long fd = open_image(dir, path, cap, &g_direct);
    if (fd < 0) {
        *err = "cannot create image file";
        g_direct = -1;
        return -1;
    }
    g_w.bfd = (int)fd;
    g_w.fd = g_direct;
    if (read_maps(&g_w.err) < 0) return fail_image(err);
    fill_header_ident();
    int level;
    if (stasis_compress_on(&level)) {
        g_hdr.version = STASIS_IMG_VERSION;
        g_hdr.proc.compress.algo = STASIS_IMG_ZSTD;
        g_hdr.proc.compress.level = level;
    }
    stasis_incr_fill(&g_hdr);
    if (stasis_save_proc(&g_hdr, &g_w.err) < 0) return fail_image(err);
    g_w.off = (sizeof g_hdr + PAGE - 1) & ~(PAGE - 1);
    g_hdr.data_offset = g_w.off;
    g_w.wpos = g_w.off;
    g_w.z_raw_start = g_w.z_phys = g_w.off;
    return 0;
}

void stasis_image_keep_failed(void) { g_keep_failed = 1; }

/* a prepared image handed to a snapshot child: the parent closes its copies */
void stasis_image_release(void)
{
    g_w.z = 0;
    close_image();
}

int stasis_image_dump(uint64_t *bytes, uint32_t *areas, const char **err)
{
    struct writer *w = &g_w;
    /* a restored process holds what its snapshot child had here while it wrote the image */
    g_stage[0] = g_stage[1] = 0;
    g_stage_fill = g_stage_size = 0;
    g_inflight = 0;
    /* opened here: /proc/self of a snapshot child is the child's own memory */
    w->pmfd = rsys3(SYS_open, "/proc/self/pagemap", O_RDONLY | O_CLOEXEC, 0);
    if (w->pmfd < 0) {
        w->err = "cannot open /proc/self/pagemap";
        return fail_image(err);
    }
    long b = rsys6(SYS_mmap, 0, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (b < 0) {
        w->err = "cannot map a bounce page";
        return fail_image(err);
    }
    g_bounce = (char *)b;
    if (g_keep_failed && g_hdr.proc.compress.algo != STASIS_IMG_ZSTD) { /* a snapshot child */
        long st = rsys6(SYS_mmap, 0, 2 * STAGE_BYTES, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        g_aio = 0;
        if (st >= 0 && rsys2(SYS_io_setup, 1, &g_aio) == 0) { /* without: straight from memory, slower */
            g_stage[0] = (char *)st;
            g_stage[1] = (char *)st + STAGE_BYTES;
        } else if (st >= 0) rsys2(SYS_munmap, st, 2 * STAGE_BYTES);
        g_stage_fill = 0;
        g_stage_size = 0;
        g_stage_cur = 0;
        g_inflight = 0;
    }
    if (g_hdr.proc.compress.algo == STASIS_IMG_ZSTD) {
        if (stasis_zbuf_open(&w->err) < 0) return fail_image(err);
        w->z = 1;
    }
    for (uint32_t i = 0; i < g_nareas; i++) {
        struct stasis_img_area *a = &g_areas[i];
        a->run_first = g_nruns;
        if (a->kind == STASIS_AREA_VDSO || a->kind == STASIS_AREA_FILE_SHARED) continue;
        if (dump_area(w, a) < 0) return fail_image(err);
    }
    if (flush_stage(w) < 0 || wait_stage(w) < 0 || flush_iov(w) < 0 || (w->z && finish_frames(w) < 0))
        return fail_image(err);
    g_hdr.data_bytes = w->off - g_hdr.data_offset;
    if (w->z) { /* the runs name raw offsets; the file holds the frames */
        g_hdr.proc.compress.raw_bytes = g_hdr.data_bytes;
        g_hdr.data_bytes = w->z_phys - g_hdr.data_offset;
        w->off = w->z_phys;
    }
    g_hdr.n_areas = g_nareas;
    g_hdr.n_runs = g_nruns;
    if (write_table(w) < 0) return fail_image(err);
    if (w->z && write_frames(w) < 0) return fail_image(err);
    g_hdr.file_size = w->off;
    g_hdr.header_crc32c = 0;
    g_hdr.header_crc32c = stasis_crc32c(0, &g_hdr, sizeof g_hdr);
    if (rsys4(SYS_pwrite64, w->bfd, &g_hdr, sizeof g_hdr, 0) != (long)sizeof g_hdr) {
        w->err = "cannot write image header";
        return fail_image(err);
    }
    if (g_stage_size > w->off && rsys2(SYS_ftruncate, w->bfd, w->off) < 0) {
        w->err = "cannot cut the image to its size";
        return fail_image(err);
    }
    *bytes = w->off;
    *areas = g_nareas;
    close_image();
    return 0;
}

int stasis_write_image(const char *dir, uint64_t *bytes, uint32_t *areas, char *path, size_t cap, const char **err)
{
    if (stasis_image_prepare(dir, path, cap, err) < 0) return -1;
    return stasis_image_dump(bytes, areas, err);
}

/* snapshot: the bytes of the shared areas whose pages are stored (readable ones) */
uint64_t stasis_image_shared_bytes(void)
{
    uint64_t n = 0;
    for (uint32_t i = 0; i < g_nareas; i++)
        if (g_areas[i].kind == STASIS_AREA_SHARED_ANON && (g_areas[i].prot & PROT_READ))
            n += g_areas[i].end - g_areas[i].start;
    return n;
}

/* snapshot, in the pause: copy the shared areas to buf (stasis_image_shared_bytes long) */
void stasis_image_copy_shared(char *buf)
{
    for (uint32_t i = 0; i < g_nareas; i++) {
        const struct stasis_img_area *a = &g_areas[i];
        if (a->kind != STASIS_AREA_SHARED_ANON || !(a->prot & PROT_READ)) continue;
        __builtin_memcpy(buf, (const void *)(uintptr_t)a->start, a->end - a->start);
        buf += a->end - a->start;
    }
}

/* snapshot child: its private copies of the shared areas take their places (in this
 * process only), so the pages stored are those of the pause; 0 ok */
int stasis_image_place_shared(char *buf)
{
    for (uint32_t i = 0; i < g_nareas; i++) {
        const struct stasis_img_area *a = &g_areas[i];
        if (a->kind != STASIS_AREA_SHARED_ANON || !(a->prot & PROT_READ)) continue;
        uint64_t len = a->end - a->start;
        if (rsys5(SYS_mremap, buf, len, len, MREMAP_MAYMOVE | MREMAP_FIXED, a->start) < 0) return -1;
        buf += len;
    }
    return 0;
}

/* snapshot child: every area of the pause is mapped here too (MADV_DONTFORK areas are
 * not). 1 yes, 0 no (or unknown). */
int stasis_image_all_mapped(void)
{
    size_t len;
    if (r_read_file("/proc/self/maps", g_maps, sizeof g_maps, &len) < 0) return 0;
    const char *p = g_maps;
    for (uint32_t i = 0; i < g_nareas; i++) {
        uint64_t at = g_areas[i].start;
        while (at < g_areas[i].end) {
            /* the line that holds `at`: lines are sorted, areas too */
            int found = 0;
            while (*p) {
                const char *q = p;
                uint64_t s = r_parse_hex(&q);
                q++;
                uint64_t e = r_parse_hex(&q);
                if (s <= at && at < e) {
                    at = e;
                    found = 1;
                    break;
                }
                if (s > at) return 0;
                while (*p && *p != '\n') p++;
                if (*p) p++;
            }
            if (!found) return 0;
        }
    }
    return 1;
}

/* the image file of a snapshot child that ended: its size and areas, or its error text */
int stasis_image_result(const char *path, int ok, uint64_t *bytes, uint32_t *areas, char *err, size_t cap)
{
    static struct stasis_img_header h;
    long fd = rsys3(SYS_open, path, O_RDONLY | O_CLOEXEC, 0);
    if (fd < 0) return -1;
    long n = rsys4(SYS_pread64, fd, ok ? (void *)&h : (void *)err, ok ? sizeof h : cap - 1, 0);
    rsys1(SYS_close, fd);
    if (!ok) {
        err[n > 0 ? n : 0] = 0;
        return 0;
    }
    if (n != (long)sizeof h) return -1;
    for (int i = 0; i < 8; i++)
        if (h.magic[i] != STASIS_IMG_MAGIC[i]) return -1;
    *bytes = h.file_size;
    *areas = h.n_areas;
    return 0;
}
