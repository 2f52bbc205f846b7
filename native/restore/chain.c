/* Incremental images (doc/image-format.md, "Incremental images"): an image whose
 * parent runs name pages of its parent image, which may have a parent in turn.
 *
 * chain_open loads every parent (each validated like any image, its page checksums
 * too when verifying), checks that each is the very image its child was taken over
 * (its random id), that the chain has no cycle and is not too long; then rewrites the
 * child's run table so that every run names the file it comes from: run.file_offset
 * carries the chain level in bits 56..62 (0 = the image itself), resolved down to the
 * image that stored the page (a page no image of the chain stores is zero). Phase 2
 * maps each run from its own file. Parents are looked up beside the image's own
 * checkpoint directory: CKPT-ROOT/PARENT-DIR/image-PID.img. */
#include "chain.h"
#include "imgcheck.h"
#include "safeopen.h"
#include "stasis/restart.h"
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define PARENT_SLOT   0x4000000ull  /* scratch bytes per parent's header and tables */
#define PARENT_BASE   0x40000000ull /* scratch offset of the first parent */
#define FLAT_OFF      0xC0000000ull /* scratch offset of the rewritten run table */
#define FLAT_MAX_RUNS ((0x100000000ull - FLAT_OFF) / sizeof(struct stasis_img_run))

struct chain g_chain;
static struct stasis_img_run *g_flat;
static uint64_t g_nflat;

static int __attribute__((format(printf, 2, 3))) fail(const char *child, const char *fmt, ...)
{
    char msg[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fprintf(stderr, "stasis: image %s: %s\n", child, msg);
    return -1;
}

/* "DIR/image-N.img" with DIR a plain name: nothing else may come out of the root */
static int plain_ref(const char *ref)
{
    const char *slash = strchr(ref, '/');
    if (!slash || slash == ref || strchr(slash + 1, '/')) return 0;
    if (!strncmp(ref, "../", 3) || !strncmp(ref, "./", 2)) return 0;
    return strncmp(slash + 1, "image-", 6) == 0 && strlen(slash + 1) > 10;
}

/* ROOT of /ROOT/CKPT/image-N.img, into out */
static int chain_root(const char *image, char *out, size_t cap)
{
    char abs[4096];
    if (image[0] != '/') {
        if (!getcwd(abs, sizeof abs - 1)) return -1;
        size_t l = strlen(abs);
        if (snprintf(abs + l, sizeof abs - l, "/%s", image) >= (int)(sizeof abs - l)) return -1;
    } else if (snprintf(abs, sizeof abs, "%s", image) >= (int)sizeof abs) return -1;
    for (int k = 0; k < 2; k++) {
        char *s = strrchr(abs, '/');
        if (!s) return -1;
        *s = 0;
    }
    return snprintf(out, cap, "%s", abs[0] ? abs : "/") >= (int)cap ? -1 : 0;
}

static int seen_id(const struct stasis_img_header *self, uint64_t id, int levels)
{
    if (id == self->proc.image_id) return 1;
    for (int i = 0; i < levels; i++)
        if (g_chain.img[i].hdr->proc.image_id == id) return 1;
    return 0;
}

/* load the parent of `child` (level n, 1-based) */
static int load_parent(const char *root, const struct stasis_img_header *child, const char *child_name, int n,
                       int verify)
{
    const char *ref = child->proc.parent;
    static char path[8192], name[600];
    if (!plain_ref(ref)) return fail(child_name, "its parent name '%s' is not DIR/image-PID.img", ref);
    snprintf(path, sizeof path, "%s/%s", root, ref);
    snprintf(name, sizeof name, "%s (a parent of %s)", ref, child_name);
    if (access(path, F_OK) != 0)
        return fail(child_name,
                    "its parent image %s is missing (looked for %s); put the parent checkpoint "
                    "beside this one, or restart an older complete checkpoint",
                    ref, path);
    g_img_scratch_off = PARENT_BASE + (uint64_t)(n - 1) * PARENT_SLOT;
    int rc = image_load_named(path, name);
    if (rc == 0 && verify) rc = image_verify_named(name);
    g_img_scratch_off = 0;
    if (rc < 0) return -1; /* one line said what is wrong, naming it "REF (parent of CHILD)" */
    if (g_img.hdr->proc.image_id != child->proc.parent_id)
        return fail(child_name,
                    "%s is not the image this one was taken over (another computation's, or "
                    "replaced); restart an older complete checkpoint",
                    ref);
    return 0;
}

static void close_levels(int n)
{
    for (int i = 0; i < n; i++)
        if (g_chain.fd[i] >= 0) close(g_chain.fd[i]);
    g_chain.n = 0;
}

static int load_chain(const char *image, int verify)
{
    char root[4096];
    const char *child_name = path_base(image);
    if (chain_root(image, root, sizeof root) < 0) return fail(child_name, "cannot tell its checkpoint directory");
    struct loaded_image self = g_img;
    const struct stasis_img_header *cur = self.hdr;
    int n = 0, rc = 0;
    while (cur->proc.parent_id) {
        if (n == CHAIN_MAX) {
            rc = fail(child_name, "its chain of parents is longer than %d (use stasis compact)", CHAIN_MAX);
            break;
        }
        if (seen_id(self.hdr, cur->proc.parent_id, n)) {
            rc = fail(child_name, "its parents form a cycle (%s names an image already in the chain)",
                      cur->proc.parent);
            break;
        }
        if (load_parent(root, cur, child_name, n + 1, verify) < 0) {
            rc = -1;
            break;
        }
        g_chain.img[n] = g_img;
        g_chain.fd[n] = g_img.fd;
        cur = g_img.hdr;
        n++;
        g_chain.n = n;
    }
    g_img = self;
    if (rc < 0) close_levels(n);
    return rc;
}

/* the runs of image level `lv` (1-based) covering [addr, addr+len), appended */
static int emit(uint64_t addr, uint64_t len, uint64_t level, uint64_t off)
{
    if (g_nflat >= FLAT_MAX_RUNS) return -1;
    struct stasis_img_run *r = &g_flat[g_nflat++];
    r->addr = addr;
    r->len = len;
    r->file_offset = off | (level << CHAIN_LEVEL_SHIFT);
    return 0;
}

static int resolve(int lv, uint64_t addr, uint64_t len)
{
    if (lv > g_chain.n) return 0; /* nobody stored it: zero */
    const struct loaded_image *p = &g_chain.img[lv - 1];
    uint64_t end = addr + len;
    for (uint32_t i = 0; i < p->hdr->n_areas; i++) {
        const struct stasis_img_area *a = &p->areas[i];
        if (a->end <= addr || a->start >= end) continue;
        for (uint32_t k = a->run_first; k < a->run_first + a->run_count; k++) {
            const struct stasis_img_run *r = &p->runs[k];
            uint64_t s = r->addr > addr ? r->addr : addr, e = r->addr + r->len < end ? r->addr + r->len : end;
            if (s >= e) continue;
            int rc = r->file_offset == STASIS_RUN_PARENT ? resolve(lv + 1, s, e - s)
                                                         : emit(s, e - s, (uint64_t)lv, r->file_offset + (s - r->addr));
            if (rc < 0) return -1;
        }
    }
    return 0;
}

/* the child's run table, every parent run replaced by the runs that hold its pages */
static int flatten(const char *image)
{
    g_flat = mmap((void *)(uintptr_t)(STASIS_RESTORER_SCRATCH + FLAT_OFF), 0x100000000ull - FLAT_OFF,
                  PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED_NOREPLACE, -1, 0);
    if (g_flat == MAP_FAILED) return fail(path_base(image), "cannot reserve scratch memory for its page runs");
    g_nflat = 0;
    for (uint32_t i = 0; i < g_img.hdr->n_areas; i++) {
        struct stasis_img_area *a = &g_img.areas[i];
        uint64_t first = g_nflat, bytes = 0;
        for (uint32_t k = a->run_first; k < a->run_first + a->run_count; k++) {
            const struct stasis_img_run *r = &g_img.runs[k];
            int rc = r->file_offset == STASIS_RUN_PARENT ? resolve(1, r->addr, r->len)
                                                         : emit(r->addr, r->len, 0, r->file_offset);
            if (rc < 0) return fail(path_base(image), "too many page runs across its chain of parents");
        }
        for (uint64_t k = first; k < g_nflat; k++) bytes += g_flat[k].len;
        if (g_nflat > UINT32_MAX) return fail(path_base(image), "too many page runs across its chain of parents");
        a->run_first = (uint32_t)first;
        a->run_count = (uint32_t)(g_nflat - first);
        a->data_bytes = bytes;
    }
    g_img.runs = g_flat;
    return 0;
}

int chain_open(const char *image, int verify, int resolve_runs)
{
    g_chain.n = 0;
    if (!g_img.hdr->proc.parent_id) return 0;
    if (load_chain(image, verify) < 0) return -1;
    if (resolve_runs && flatten(image) < 0) {
        close_levels(g_chain.n);
        return -1;
    }
    return 0;
}

void chain_close(void) { close_levels(g_chain.n); }
