/* Background prefetch after a lazy restart (issue #15, item 4). The restorer maps the
 * image's pages MAP_PRIVATE and the program faults them in one at a time on first
 * touch; a program that goes over all its memory pays a page fault (and, page cache
 * cold, a read) per page. Once the restarted program runs again, the checkpoint
 * thread pages in, between requests of the coordinator and in address order, every
 * private mapping of the image file (the restorer names it by device and inode in
 * the restart arguments, version >= 4) with MADV_POPULATE_READ: one call per CHUNK
 * reads the file and fills the page tables, so the program's later touches find their
 * pages present; MADV_WILLNEED AHEAD of it queues the reads in large requests. Pages
 * the program touched already are skipped by the kernel. No new thread (a new tid
 * could be a pid the restart still needs); a SUSPEND stops it (the next checkpoint's
 * image is another file). Its reads go at idle I/O priority (the checkpoint thread's
 * own, set back when it ends): a page the program faults meanwhile is read before the
 * prefetch's queued ones where the I/O scheduler orders by priority (mq-deadline, bfq),
 * so a restart without the page check (--no-verify) does not make the program's first
 * steps wait behind the whole image. */
#include "agent.h"
#include "stasis/rawsys.h"
#include <errno.h>
#include <sys/mman.h>

#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ 22
#endif

#define MAX_RANGES 4096
/* bytes per MADV_POPULATE_READ call: a request of the coordinator waits at most this long */
#define CHUNK (4ull << 20)
/* MADV_WILLNEED this far ahead: the reads are queued in large requests while the pages
 * before are mapped */
#define AHEAD (64ull << 20)

/* linux/ioprio.h */
#define IOPRIO_WHO_PROCESS 1
#define IOPRIO_CLASS_SHIFT 13
#define IOPRIO_CLASS_IDLE  3

static struct {
    uint64_t start, end;
} g_ranges[MAX_RANGES];
static int g_nranges, g_next;
static uint64_t g_cursor;
static char g_pmaps[1 << 18];
static long g_ioprio = -1; /* the thread's own while the prefetch runs at idle priority, else -1 */

/* who 0: the calling thread (the checkpoint thread), not the program's */
static void idle_io(void)
{
    long own = rsys2(SYS_ioprio_get, IOPRIO_WHO_PROCESS, 0);
    if (own < 0) return;
    if (rsys3(SYS_ioprio_set, IOPRIO_WHO_PROCESS, 0, IOPRIO_CLASS_IDLE << IOPRIO_CLASS_SHIFT) == 0) g_ioprio = own;
}

/* back to the thread's own priority: its checkpoint writes must not wait behind anyone */
static void own_io(void)
{
    if (g_ioprio < 0) return;
    rsys3(SYS_ioprio_set, IOPRIO_WHO_PROCESS, 0, g_ioprio);
    g_ioprio = -1;
}

/* "start-end perms offset MAJ:MIN inode path": a private readable view of the image */
static int image_view(const char *p, uint64_t *s, uint64_t *e)
{
    *s = r_parse_hex(&p);
    p++;
    *e = r_parse_hex(&p);
    p++;
    int readable = p[0] == 'r', private = p[3] == 'p';
    p += 5;
    r_parse_hex(&p); /* offset */
    p++;
    uint64_t maj = r_parse_hex(&p);
    p++;
    uint64_t min = r_parse_hex(&p);
    p++;
    uint64_t ino = r_parse_dec(&p);
    return readable && private && ino == g_restart_args.image_ino && maj == g_restart_args.image_dev_major &&
           min == g_restart_args.image_dev_minor;
}

void stasis_prefetch_arm(void)
{
    g_nranges = g_next = 0;
    g_cursor = 0;
    if (g_restart_args.version < 4 || !g_restart_args.prefetch) return;
    size_t len;
    /* the program runs meanwhile: read through the relay, so that no descriptor of ours
     * shows in the program's own table (shm_fork saw /proc/self/maps at fd 3) */
    if (stasis_read_private("/proc/self/maps", g_pmaps, sizeof g_pmaps - 1, &len) < 0) return;
    g_pmaps[len] = 0;
    for (const char *line = g_pmaps; *line && g_nranges < MAX_RANGES;) {
        uint64_t s, e;
        if (image_view(line, &s, &e)) {
            if (g_nranges && g_ranges[g_nranges - 1].end == s) g_ranges[g_nranges - 1].end = e;
            else {
                g_ranges[g_nranges].start = s;
                g_ranges[g_nranges].end = e;
                g_nranges++;
            }
        }
        while (*line && *line != '\n') line++;
        if (*line) line++;
    }
    if (g_nranges) {
        g_cursor = g_ranges[0].start;
        idle_io();
    }
}

int stasis_prefetch_pending(void) { return g_next < g_nranges; }

void stasis_prefetch_stop(void)
{
    g_next = g_nranges;
    own_io();
}

/* in a forked child: the thread that forked is the program's, whose priority is its own */
void stasis_prefetch_forget(void)
{
    g_next = g_nranges;
    g_ioprio = -1;
}

/* asks the kernel to read [from, from + len) of the current range (clipped) */
static void read_ahead(uint64_t from, uint64_t len)
{
    uint64_t end = g_ranges[g_next].end;
    if (from >= end) return;
    rsys3(SYS_madvise, from, end - from < len ? end - from : len, MADV_WILLNEED);
}

/* one CHUNK (or the rest of a range); a range that is gone or changed is skipped */
void stasis_prefetch_step(void)
{
    if (!stasis_prefetch_pending()) return;
    uint64_t start = g_ranges[g_next].start, end = g_ranges[g_next].end;
    uint64_t len = end - g_cursor > CHUNK ? CHUNK : end - g_cursor;
    if (g_cursor == start) read_ahead(start, AHEAD + CHUNK);
    else read_ahead(g_cursor + AHEAD, CHUNK);
    long r = rsys3(SYS_madvise, g_cursor, len, MADV_POPULATE_READ);
    if (r == -EINVAL) { /* no MADV_POPULATE_READ (kernel < 5.14): nothing to do */
        stasis_prefetch_stop();
        return;
    }
    g_cursor = r == 0 ? g_cursor + len : end;
    if (g_cursor >= end && ++g_next < g_nranges) g_cursor = g_ranges[g_next].start;
    if (!stasis_prefetch_pending()) own_io();
}
