/* Incremental checkpoints (doc/image-format.md, "Incremental images"): which pages
 * changed since the image this process last wrote (or was restored from).
 *
 * Tracking: a userfaultfd in write-protect mode with asynchronous resolution
 * (UFFD_FEATURE_WP_ASYNC: a write to a protected page only clears its protection, no
 * fault reaches us) and protected holes (UFFD_FEATURE_WP_UNPOPULATED); opened with
 * UFFD_USER_MODE_ONLY, which needs no privilege. After each image (and after a
 * restart) every private area is registered and write-protected; at the next WRITE,
 * PAGEMAP_SCAN (Linux 6.7) reports per range whether it was written (PAGE_IS_WRITTEN)
 * and whether the area is still tracked (PAGE_IS_WPALLOWED: a mapping made, moved or
 * replaced since is not, and is stored whole). The descriptor lives in the relay's
 * file table (relay.c): the program never sees it.
 *
 * Tracking starts once the coordinator has sent PARENT (any): one that never does pays
 * nothing. The base: the id of the image the protection was set after. A WRITE is incremental
 * only when the coordinator names that very image as the parent (PARENT), so an image
 * that was not published never becomes a parent by mistake. */
#include "agent.h"
#include "stasis/rawsys.h"
#include <errno.h>
#include <fcntl.h>
#include <sys/ioctl.h>

/* local definitions: the build's kernel headers may predate them (Linux 6.7+) */
#define UFFD_USER_MODE_ONLY_FLAG      1
#define UFFD_API_VERSION              0xAAull
#define UFFD_FEATURE_WP_UNPOPULATED_F (1ull << 13)
#define UFFD_FEATURE_WP_ASYNC_F       (1ull << 15)
struct incr_uffd_api {
    uint64_t api, features, ioctls;
};
struct incr_uffd_range {
    uint64_t start, len;
};
struct incr_uffd_register {
    struct incr_uffd_range range;
    uint64_t mode, ioctls;
};
struct incr_uffd_wp {
    struct incr_uffd_range range;
    uint64_t mode;
};
#define INCR_UFFDIO_API              _IOWR(0xAA, 0x3F, struct incr_uffd_api)
#define INCR_UFFDIO_REGISTER         _IOWR(0xAA, 0x00, struct incr_uffd_register)
#define INCR_UFFDIO_WRITEPROTECT     _IOWR(0xAA, 0x06, struct incr_uffd_wp)
#define INCR_UFFDIO_REGISTER_MODE_WP (1ull << 1)
#define INCR_UFFDIO_WP_MODE_WP       1ull

static long g_uffd = -1;        /* in the relay's file table */
static const char *g_track_why; /* why tracking is off, when it is */
uint64_t g_incr_base_id;        /* image the tracking is relative to; 0 = none */
static int32_t g_incr_base_pid; /* that image's pid (its file name) */
static int g_parent_ok;         /* PARENT accepted for the next WRITE */
static int g_wanted;            /* the coordinator speaks PARENT: track after each image */
static uint64_t g_parent_id;
static char g_parent_ref[STASIS_IMG_PARENT_LEN];
static struct stasis_img_header g_parent_hdr;

static const char *open_uffd(void)
{
    if (g_uffd >= 0) return 0;
    if (g_relay_tid <= 0) return "no relay task to hold the userfaultfd";
    long fd = stasis_relay_call(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK | UFFD_USER_MODE_ONLY_FLAG, 0, 0, 0, 0, 0);
    if (fd < 0) return "userfaultfd is not available (kernel or vm.unprivileged_userfaultfd)";
    struct incr_uffd_api api = {UFFD_API_VERSION, UFFD_FEATURE_WP_ASYNC_F | UFFD_FEATURE_WP_UNPOPULATED_F, 0};
    long r = stasis_relay_call(SYS_ioctl, fd, (long)INCR_UFFDIO_API, (long)&api, 0, 0, 0);
    if (r < 0 || (api.features & UFFD_FEATURE_WP_ASYNC_F) == 0) {
        stasis_relay_call(SYS_close, fd, 0, 0, 0, 0, 0);
        return "this kernel's userfaultfd has no asynchronous write-protect (Linux 6.7+)";
    }
    g_uffd = fd;
    return 0;
}

/* register and write-protect [s, e); failures leave the area untracked (stored whole) */
void stasis_incr_track(uint64_t s, uint64_t e)
{
    if (g_uffd < 0) return;
    struct incr_uffd_register reg = {{s, e - s}, INCR_UFFDIO_REGISTER_MODE_WP, 0};
    if (stasis_relay_call(SYS_ioctl, g_uffd, (long)INCR_UFFDIO_REGISTER, (long)&reg, 0, 0, 0) < 0) return;
    struct incr_uffd_wp wp = {{s, e - s}, INCR_UFFDIO_WP_MODE_WP};
    stasis_relay_call(SYS_ioctl, g_uffd, (long)INCR_UFFDIO_WRITEPROTECT, (long)&wp, 0, 0, 0);
}

int stasis_incr_active(void) { return g_parent_ok && g_uffd >= 0; }

static int same_bytes(const char *a, const char *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (a[i] != b[i]) return 0;
    return 1;
}

static int read_parent_header(const char *path)
{
    long fd = rsys3(SYS_open, path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK, 0);
    if (fd < 0) return -1;
    long n = rsys4(SYS_pread64, fd, &g_parent_hdr, sizeof g_parent_hdr, 0);
    rsys1(SYS_close, fd);
    if (n != (long)sizeof g_parent_hdr || !same_bytes(g_parent_hdr.magic, STASIS_IMG_MAGIC, 8)) return -1;
    return 0;
}

/* PARENT <checkpoint-dir> (or "-"): NULL when the next WRITE can be incremental over
 * that checkpoint's image of this process, else the reason it will be full */
const char *stasis_incr_parent(const char *dir)
{
    static char path[4096];
    g_parent_ok = 0;
    g_wanted = 1;
    if (r_streq(dir, "-")) return "a full checkpoint was asked for";
    if (dir[0] != '/') return "the parent directory is not absolute";
    if (g_uffd < 0 || !g_incr_base_id)
        return g_track_why ? g_track_why : "no dirty page tracking since a checkpoint of this process";
    size_t dl = r_strlen(dir);
    while (dl > 1 && dir[dl - 1] == '/') dl--;
    const char *base = dir + dl;
    while (base > dir && base[-1] != '/') base--;
    size_t bl = (size_t)(dir + dl - base);
    if (dl + 40 > sizeof path || bl + 40 > sizeof g_parent_ref || bl == 0) return "the parent path is too long";
    char *e = path;
    r_memcpy(e, dir, dl);
    e = r_stpcpy(e + dl, "/image-");
    e = r_utoa(e, (uint64_t)g_incr_base_pid);
    r_stpcpy(e, ".img");
    if (read_parent_header(path) < 0) return "the parent checkpoint holds no image of this process";
    if (g_parent_hdr.version < 2 || g_parent_hdr.proc.image_id != g_incr_base_id)
        return "the parent image is not the one this process's tracking started from";
    r_memset(g_parent_ref, 0, sizeof g_parent_ref);
    r_memcpy(g_parent_ref, base, bl);
    r_stpcpy(g_parent_ref + bl, path + dl);
    g_parent_id = g_incr_base_id;
    g_parent_ok = 1;
    return 0;
}

/* at the start of a WRITE: this image's id (and parent); the base moves to it now, so
 * that the memory saved (and restored) already names it */
void stasis_incr_fill(struct stasis_img_header *h)
{
    if (!stasis_incr_active() && g_uffd >= 0) {
        /* a full image: the protection's markers on holes would read as swapped pages
         * (to be stored); closing the userfaultfd removes them (and all protection) */
        stasis_relay_call(SYS_close, g_uffd, 0, 0, 0, 0, 0);
        g_uffd = -1;
    }
    uint64_t id = 0;
    while (!id)
        if (rsys3(SYS_getrandom, &id, sizeof id, 0) != (long)sizeof id) id = (uint64_t)rsys0(SYS_getpid) << 32 | 1;
    h->proc.image_id = id;
    if (stasis_incr_active()) {
        h->proc.parent_id = g_parent_id;
        r_memcpy(h->proc.parent, g_parent_ref, sizeof h->proc.parent);
    }
    g_incr_base_id = id;
    g_incr_base_pid = h->pid;
}

/* after a WRITE: protect everything anew (ok) or forget the base (failed) */
void stasis_incr_done(int ok)
{
    g_parent_ok = 0;
    if (!ok || !g_wanted) { /* a coordinator that never asks for incremental images pays nothing */
        g_incr_base_id = 0;
        return;
    }
    g_track_why = open_uffd();
    if (g_track_why || stasis_image_track(1) < 0) g_incr_base_id = 0;
}

/* in a restored process, before any thread runs: the memory is the image's */
void stasis_incr_after_restart(void)
{
    g_uffd = -1; /* the relay is new: its table holds no userfaultfd */
    g_parent_ok = 0;
    if (!g_incr_base_id) return;
    g_track_why = open_uffd();
    if (g_track_why || stasis_image_track(0) < 0) g_incr_base_id = 0;
}

/* fork child: the mappings are new to the kernel's tracking (no UFFD_FEATURE_EVENT_FORK) */
void stasis_incr_forget(void)
{
    g_uffd = -1;
    g_incr_base_id = 0;
    g_parent_ok = 0;
}
