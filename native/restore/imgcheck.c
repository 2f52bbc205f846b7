/* Image validation: magic, version, arch, page size, checksums, truncation, sane
 * tables. The header and tables go to a fixed scratch region inside the restorer's
 * reserved range so that they survive the unmapping of everything else. */
#include "imgcheck.h"
#include "inflate.h"
#include "stasis/restart.h"
#include "stasis/cpufeat.h"
#include "stasis/rawio.h"
#include "safeopen.h"
#include <stdarg.h>
#include <stdlib.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

struct loaded_image g_img;
extern char __executable_start[], _end[];

uint64_t restorer_image_start(void) { return (uint64_t)(uintptr_t)__executable_start & ~4095ull; }
uint64_t restorer_image_end(void) { return ((uint64_t)(uintptr_t)_end + 4095) & ~4095ull; }

#define USER_TOP        0x7ffffffff000ull /* TASK_SIZE with 4-level page tables */
#define MAX_TABLE_BYTES (256ull << 20)    /* the tables live in the scratch range */
#define PID_MAX_LIMIT   4194304           /* the kernel's bound for pid_max (64 bit) */

static const char *g_name;  /* the image's file name, for messages */
uint64_t g_img_scratch_off; /* where in the scratch range image_load puts header and tables */
static int g_quiet;         /* --check: no warnings */

static int overlaps(uint64_t s, uint64_t e, uint64_t rs, uint64_t re) { return s < re && rs < e; }

/* one line: "stasis: image NAME: what is wrong" */
static int __attribute__((format(printf, 1, 2))) bad(const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fprintf(stderr, "stasis: image %s: %s\n", g_name, msg);
    return -1;
}

static void *scratch(uint64_t off, size_t len)
{
    void *want = (void *)(uintptr_t)(STASIS_RESTORER_SCRATCH + g_img_scratch_off + off);
    void *p = mmap(want, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    return p == want ? p : NULL;
}

static int read_exact(int fd, void *buf, size_t len, off_t off)
{
    size_t got = 0;
    while (got < len) {
        ssize_t n = pread(fd, (char *)buf + got, len - got, off + (off_t)got);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return -1;
        got += (size_t)n;
    }
    return 0;
}

static int terminated(const char *s, size_t cap) { return memchr(s, 0, cap) != NULL; }

/* the reserved ranges no saved mapping may touch: the restorer's image, its scratch */
static int in_reserved(uint64_t s, uint64_t e)
{
    return overlaps(s, e, restorer_image_start(), restorer_image_end()) ||
           overlaps(s, e, STASIS_RESTORER_SCRATCH, STASIS_RESTORER_SCRATCH_END);
}

static int check_identity(struct stasis_img_header *h)
{
    if (memcmp(h->magic, STASIS_IMG_MAGIC, 8)) return bad("not a Stasis memory image (bad magic)");
    if (h->version < STASIS_IMG_VERSION_MIN || h->version > STASIS_IMG_VERSION)
        return bad("unsupported image format version %u", h->version);
    if (h->header_size != sizeof *h) return bad("image header size mismatch");
    const struct stasis_img_compress *c = &h->proc.compress;
    if (h->version < STASIS_IMG_VERSION && (c->algo || c->n_frames || c->raw_bytes))
        return bad("image header is corrupt (compression fields in a version %u image)", h->version);
    if (c->algo > STASIS_IMG_ZSTD) return bad("page data compressed with an unknown method (%u)", c->algo);
    uint32_t want = h->header_crc32c;
    h->header_crc32c = 0;
    uint32_t got = stasis_crc32c(0, h, sizeof *h);
    h->header_crc32c = want;
    if (got != want) return bad("image header is corrupt (checksum mismatch)");
    if (!terminated(h->arch, sizeof h->arch) || strcmp(h->arch, "x86_64"))
        return bad("image is for another architecture");
    if (h->page_size != (uint32_t)sysconf(_SC_PAGESIZE)) return bad("image page size differs");
    return 0;
}

/* every offset and count bounded by the file and the format's limits (no overflow:
 * each term is checked against a bound before it is added) */
static int check_layout(const struct stasis_img_header *h, uint64_t fsize)
{
    if (fsize < h->file_size)
        return bad("image is truncated (%llu of %llu bytes)", (unsigned long long)fsize,
                   (unsigned long long)h->file_size);
    uint64_t fs = h->file_size;
    if (h->data_offset < sizeof *h || h->data_offset % h->page_size || h->data_offset > fs)
        return bad("data offset %#llx is outside the file or not page aligned", (unsigned long long)h->data_offset);
    if (h->data_bytes > fs - h->data_offset || h->table_offset < h->data_offset + h->data_bytes || h->table_offset > fs)
        return bad("page data and tables overlap or lie outside the file");
    if (h->table_size > fs - h->table_offset || h->table_size > MAX_TABLE_BYTES)
        return bad("tables of %llu bytes do not fit in the file", (unsigned long long)h->table_size);
    if (h->proc.compress.algo &&
        (h->proc.compress.frames_offset < h->table_offset + h->table_size || h->proc.compress.frames_offset > fs ||
         h->proc.compress.n_frames > (fs - h->proc.compress.frames_offset) / sizeof(struct stasis_img_frame)))
        return bad("its frame table lies outside the file");
    if (h->proc.compress.algo && h->proc.compress.raw_bytes > USER_TOP)
        return bad("it claims %llu bytes of page data", (unsigned long long)h->proc.compress.raw_bytes);
    if (h->n_areas == 0 || h->n_areas > STASIS_IMG_MAX_AREAS) return bad("bad area count %u", h->n_areas);
    uint64_t need =
            (uint64_t)h->n_areas * sizeof(struct stasis_img_area) + (uint64_t)h->n_runs * sizeof(struct stasis_img_run);
    if (need > h->table_size) return bad("%u areas and %u page runs do not fit in the tables", h->n_areas, h->n_runs);
    if (h->n_threads == 0 || h->n_threads > STASIS_IMG_MAX_THREADS) return bad("bad thread count %u", h->n_threads);
    if (h->pid <= 0 || h->pid > PID_MAX_LIMIT) return bad("bad pid %d", h->pid);
    for (uint32_t t = 0; t < h->n_threads; t++)
        if (h->tids[t] <= 0 || h->tids[t] > PID_MAX_LIMIT) return bad("thread %u has a bad id %d", t, h->tids[t]);
    return 0;
}

static int check_proc(const struct stasis_img_proc *p)
{
    if (p->n_special > STASIS_IMG_NSPECIAL) return bad("bad special area count %u", p->n_special);
    if (p->auxv_words > sizeof p->auxv / sizeof p->auxv[0]) return bad("bad auxv size %u", p->auxv_words);
    if (p->kflags & ~STASIS_PROC_CWD_DELETED) return bad("unknown process flags %#x", p->kflags);
    if (!terminated(p->cwd, sizeof p->cwd)) return bad("working directory is not NUL-terminated");
    if (p->cwd[0] && p->cwd[0] != '/') return bad("working directory is not an absolute path");
    if (!terminated(p->parent, sizeof p->parent)) return bad("parent name is not NUL-terminated");
    if (!p->parent_id != !p->parent[0]) return bad("parent id and parent name disagree");
    if (p->main_fsbase >= USER_TOP)
        return bad("thread pointer %#llx is outside user space", (unsigned long long)p->main_fsbase);
    for (uint32_t i = 0; i < p->n_special; i++) {
        const struct stasis_img_special *s = &p->special[i];
        if (!terminated(s->name, sizeof s->name) || s->name[0] != '[') return bad("special area %u has a bad name", i);
        if (s->start >= s->end || s->start % 4096 || s->end % 4096 || s->end > USER_TOP)
            return bad("special area %u (%s) has bad bounds", i, s->name);
        if (in_reserved(s->start, s->end))
            return bad("special area %u (%s) overlaps the restorer's own memory", i, s->name);
        for (uint32_t j = 0; j < i; j++)
            if (overlaps(s->start, s->end, p->special[j].start, p->special[j].end))
                return bad("special area %u overlaps special area %u", i, j);
    }
    return 0;
}

static int check_cpu(const struct stasis_img_header *h)
{
    uint64_t xcr0;
    uint32_t f[5];
    stasis_cpu_features(&xcr0, f);
    if ((h->proc.xcr0 & ~xcr0) != 0)
        return bad("this CPU lacks XSAVE state components the image uses (other CPU model)");
    for (int i = 0; i < 5; i++)
        if (h->proc.cpuid[i] & ~f[i])
            return bad("this CPU lacks instruction set features the checkpointed process may use");
    struct utsname u;
    if (!g_quiet && uname(&u) == 0 && strncmp(u.release, h->kernel, sizeof h->kernel))
        fprintf(stderr, "stasis-restore: warning: image from kernel %.71s, running %s\n", h->kernel, u.release);
    return 0;
}

/* the running kernel's vdso/vvar mappings (this process's) must each have a saved
 * counterpart of the same size: phase 2 moves them there, after the teardown */
static int check_kernel_specials(const struct stasis_img_proc *p)
{
    FILE *f = fopen("/proc/self/maps", "re");
    if (!f) return 0; /* phase 2 says it, if it matters */
    char line[512];
    int rc = 0;
    while (rc == 0 && fgets(line, sizeof line, f)) {
        unsigned long long s, e;
        char *name = strchr(line, '[');
        if (!name || sscanf(line, "%llx-%llx", &s, &e) != 2) continue;
        name[strcspn(name, "\n")] = 0;
        if (strncmp(name, "[vdso]", 6) && strncmp(name, "[vvar", 5)) continue;
        const struct stasis_img_special *sv = NULL;
        for (uint32_t j = 0; j < p->n_special; j++)
            if (!strcmp(p->special[j].name, name)) sv = &p->special[j];
        if (!sv) rc = bad("it has no record of the kernel's %s mapping (checkpointed on another kernel?)", name);
        else if (sv->end - sv->start != e - s)
            rc = bad("the kernel's %s differs in size from the checkpointed one", name);
    }
    fclose(f);
    return rc;
}

static int check_header(struct stasis_img_header *h, uint64_t fsize)
{
    if (check_identity(h) < 0 || check_layout(h, fsize) < 0 || check_proc(&h->proc) < 0) return -1;
    if (check_kernel_specials(&h->proc) < 0) return -1;
    return check_cpu(h);
}

static int check_runs(uint32_t i, const struct stasis_img_area *a)
{
    const struct stasis_img_header *h = g_img.hdr;
    if ((uint64_t)a->run_first + a->run_count > h->n_runs) return bad("area %u names page runs that do not exist", i);
    if (a->run_count && (a->kind == STASIS_AREA_FILE_SHARED || a->kind == STASIS_AREA_VDSO))
        return bad("area %u stores pages but its kind stores none", i);
    uint64_t sum = 0, prev_end = a->start;
    for (uint32_t r = a->run_first; r < a->run_first + a->run_count; r++) {
        const struct stasis_img_run *run = &g_img.runs[r];
        int parent = run->file_offset == STASIS_RUN_PARENT;
        if (parent && (!h->proc.parent_id || (a->kind != STASIS_AREA_ANON && a->kind != STASIS_AREA_FILE_PRIVATE)))
            return bad("page run %u of area %u refers to a parent image it cannot have", r, i);
        if (run->len == 0 || run->len % h->page_size || run->addr % h->page_size || run->file_offset % h->page_size)
            return bad("page run %u of area %u is empty or not page aligned", r, i);
        if (run->addr < prev_end || run->addr >= a->end || run->len > a->end - run->addr)
            return bad("page run %u lies outside area %u or overlaps the run before it", r, i);
        prev_end = run->addr + run->len;
        if (parent) continue; /* the parent's pages: checked with the parent (chain.c) */
        uint64_t data_end = h->proc.compress.algo ? h->data_offset + h->proc.compress.raw_bytes : h->table_offset;
        if (run->file_offset < h->data_offset || run->file_offset > data_end || run->len > data_end - run->file_offset)
            return bad("page run %u of area %u lies outside the page data", r, i);
        sum += run->len;
    }
    if (sum != a->data_bytes) return bad("area %u: its page runs do not add up to its stored size", i);
    return 0;
}

static int check_area(uint32_t i, const struct stasis_img_area *a, uint64_t names_len)
{
    const struct stasis_img_header *h = g_img.hdr;
    if (a->start >= a->end || a->start % h->page_size || a->end % h->page_size)
        return bad("area %u has bad bounds %#llx-%#llx", i, (unsigned long long)a->start, (unsigned long long)a->end);
    if (a->end > USER_TOP) return bad("area %u (%#llx) is outside user space", i, (unsigned long long)a->start);
    if (in_reserved(a->start, a->end))
        return bad("area %u (%#llx) overlaps the restorer's own memory (cannot restore this image)", i,
                   (unsigned long long)a->start);
    if (a->kind < STASIS_AREA_ANON || a->kind > STASIS_AREA_VDSO) return bad("area %u has unknown kind %u", i, a->kind);
    if (a->pgoff % h->page_size) return bad("area %u has a file offset that is not page aligned", i);
    if (a->pgoff > (uint64_t)INT64_MAX - (a->end - a->start)) return bad("area %u has a file offset out of range", i);
    if (a->prot & ~7u) return bad("area %u has unknown protection bits %#x", i, a->prot);
    if (a->flags & ~(STASIS_AF_SHARED | STASIS_AF_STACK | STASIS_AF_HEAP))
        return bad("area %u has unknown flags %#x", i, a->flags);
    if (a->name_len && (a->name_off >= names_len || a->name_len >= names_len - a->name_off ||
                        g_img.names[a->name_off + a->name_len] != 0))
        return bad("area %u has a name that is not NUL-terminated inside the name pool", i);
    if (a->kind == STASIS_AREA_FILE_SHARED && (!a->name_len || g_img.names[a->name_off] != '/'))
        return bad("area %u maps a file shared but names no absolute path", i);
    return check_runs(i, a);
}

static const struct stasis_img_area *g_sort_areas;
static int by_start(const void *x, const void *y)
{
    uint64_t a = g_sort_areas[*(const uint32_t *)x].start, b = g_sort_areas[*(const uint32_t *)y].start;
    return a < b ? -1 : a > b;
}

/* areas sorted by address: each one must end before the next begins; no area may
 * cover a saved special mapping (vdso/vvar) unless it is the vdso's own area */
static int check_overlaps(void)
{
    const struct stasis_img_header *h = g_img.hdr;
    uint32_t *ix = malloc((size_t)h->n_areas * sizeof *ix);
    if (!ix) return bad("out of memory");
    for (uint32_t i = 0; i < h->n_areas; i++) ix[i] = i;
    g_sort_areas = g_img.areas;
    qsort(ix, h->n_areas, sizeof *ix, by_start);
    int rc = 0;
    for (uint32_t k = 1; k < h->n_areas && rc == 0; k++) {
        const struct stasis_img_area *p = &g_img.areas[ix[k - 1]], *a = &g_img.areas[ix[k]];
        if (a->start < p->end)
            rc = bad("area %u overlaps area %u", ix[k] > ix[k - 1] ? ix[k] : ix[k - 1],
                     ix[k] > ix[k - 1] ? ix[k - 1] : ix[k]);
    }
    free(ix);
    for (uint32_t i = 0; i < h->n_areas && rc == 0; i++) {
        const struct stasis_img_area *a = &g_img.areas[i];
        for (uint32_t s = 0; s < h->proc.n_special && rc == 0; s++) {
            const struct stasis_img_special *sp = &h->proc.special[s];
            int same = a->kind == STASIS_AREA_VDSO && a->start == sp->start && a->end == sp->end;
            if (!same && overlaps(a->start, a->end, sp->start, sp->end))
                rc = bad("area %u overlaps special area %u (%s)", i, s, sp->name);
        }
    }
    return rc;
}

/* the area holding [addr-len, addr) if byte addr-1 is in it (stack tops) or addr */
static const struct stasis_img_area *area_at(uint64_t addr)
{
    for (uint32_t i = 0; i < g_img.hdr->n_areas; i++)
        if (addr >= g_img.areas[i].start && addr < g_img.areas[i].end) return &g_img.areas[i];
    return NULL;
}

static int check_entry(void)
{
    const struct stasis_img_proc *p = &g_img.hdr->proc;
    const struct stasis_img_area *e = area_at(p->entry);
    if (!e || !(e->prot & PROT_EXEC) || e->kind == STASIS_AREA_VDSO)
        return bad("entry point %#llx is not in an executable saved area", (unsigned long long)p->entry);
    uint64_t sp = p->entry_stack & ~15ull;
    const struct stasis_img_area *s = sp > 256 ? area_at(sp - 256) : NULL;
    if (!s || !(s->prot & PROT_WRITE) || sp > s->end || s->kind == STASIS_AREA_FILE_SHARED)
        return bad("entry stack %#llx is not in a writable saved area", (unsigned long long)p->entry_stack);
    return 0;
}

static int check_tables(void)
{
    struct stasis_img_header *h = g_img.hdr;
    uint64_t names_len = h->table_size - (uint64_t)h->n_areas * sizeof(struct stasis_img_area) -
                         (uint64_t)h->n_runs * sizeof(struct stasis_img_run);
    uint32_t vdso = 0;
    for (uint32_t i = 0; i < h->n_areas; i++) {
        if (check_area(i, &g_img.areas[i], names_len) < 0) return -1;
        if (g_img.areas[i].kind == STASIS_AREA_VDSO && ++vdso > 1) return bad("area %u is a second vdso", i);
    }
    if (check_overlaps() < 0) return -1;
    return check_entry();
}

static int load(const char *path)
{
    const char *why;
    int fd = open_beneath(path, &why);
    if (fd < 0) return bad("cannot open %s: %s", path, why);
    g_img.fd = fd;
    g_img.frames = NULL;
    g_img.frame_crc = NULL;
    g_img.n_frames = 0;
    g_img.zbuf = NULL;
    g_img.zbuf_len = 0;
    struct stat st;
    if (fstat(fd, &st) < 0) return bad("%s", strerror(errno));
    size_t hsz = (sizeof(struct stasis_img_header) + 4095) & ~4095ul;
    g_img.hdr = scratch(0, hsz);
    if (!g_img.hdr) return bad("cannot reserve scratch memory");
    if ((uint64_t)st.st_size < sizeof *g_img.hdr || read_exact(fd, g_img.hdr, sizeof *g_img.hdr, 0) < 0)
        return bad("image is truncated (no complete header)");
    if (check_header(g_img.hdr, (uint64_t)st.st_size) < 0) return -1;
    struct stasis_img_header *h = g_img.hdr;
    char *tab = scratch(hsz, (h->table_size + 4096) & ~4095ul);
    if (!tab) return bad("cannot reserve scratch memory for tables");
    if (read_exact(fd, tab, h->table_size, (off_t)h->table_offset) < 0) return bad("image is truncated");
    if (stasis_crc32c(0, tab, h->table_size) != h->table_crc32c)
        return bad("image tables are corrupt (checksum mismatch)");
    g_img.areas = (struct stasis_img_area *)tab;
    g_img.runs = (struct stasis_img_run *)(tab + (size_t)h->n_areas * sizeof(struct stasis_img_area));
    g_img.names = (const char *)(g_img.runs + h->n_runs);
    if (check_tables() < 0) return -1;
    return h->proc.compress.algo ? image_inflate(g_name) : 0;
}

int image_load_named(const char *path, const char *name)
{
    g_name = name;
    g_img.fd = -1;
    if (load(path) == 0) return 0;
    if (g_img.fd >= 0) close(g_img.fd);
    g_img.fd = -1;
    return -1;
}

int image_load(const char *path) { return image_load_named(path, path_base(path)); }

int image_check_only(const char *path)
{
    g_quiet = 1;
    return image_load(path);
}
