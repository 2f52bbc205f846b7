/* Image validation: magic, version, arch, page size, checksums, truncation, sane
 * tables. The header and tables go to a fixed scratch region inside the restorer's
 * reserved range so that they survive the unmapping of everything else. */
#include "imgcheck.h"
#include "stasis/restart.h"
#include "stasis/cpufeat.h"
#include "../agent/agent.h"
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

static int overlaps(uint64_t s, uint64_t e, uint64_t rs, uint64_t re) { return s < re && rs < e; }

static int bad(const char *path, const char *msg)
{
    fprintf(stderr, "stasis-restore: %s: %s\n", path, msg);
    return -1;
}

static void *scratch(uint64_t off, size_t len)
{
    void *want = (void *)(uintptr_t)(STASIS_RESTORER_SCRATCH + off);
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

static int check_header(const char *path, struct stasis_img_header *h, uint64_t fsize)
{
    if (memcmp(h->magic, STASIS_IMG_MAGIC, 8)) return bad(path, "not a Stasis memory image (bad magic)");
    if (h->version != STASIS_IMG_VERSION) return bad(path, "unsupported image format version");
    if (h->header_size != sizeof *h) return bad(path, "image header size mismatch");
    uint32_t want = h->header_crc32c;
    h->header_crc32c = 0;
    uint32_t got = stasis_crc32c(0, h, sizeof *h);
    h->header_crc32c = want;
    if (got != want) return bad(path, "image header is corrupt (checksum mismatch)");
    if (strcmp(h->arch, "x86_64")) return bad(path, "image is for another architecture");
    if (h->page_size != (uint32_t)sysconf(_SC_PAGESIZE)) return bad(path, "image page size differs");
    if (fsize < h->file_size) return bad(path, "image is truncated");
    if (h->table_offset + h->table_size > h->file_size || h->data_offset % h->page_size)
        return bad(path, "image layout is inconsistent");
    if (h->n_threads == 0 || h->n_threads > STASIS_IMG_MAX_THREADS) return bad(path, "bad thread count");
    uint64_t need = (uint64_t)h->n_areas * sizeof(struct stasis_img_area) + (uint64_t)h->n_runs * sizeof(struct stasis_img_run);
    if (need > h->table_size) return bad(path, "image tables are inconsistent");
    uint64_t xcr0;
    uint32_t f[5];
    stasis_cpu_features(&xcr0, f);
    if ((h->proc.xcr0 & ~xcr0) != 0) return bad(path, "this CPU lacks XSAVE state components the image uses (other CPU model)");
    for (int i = 0; i < 5; i++)
        if (h->proc.cpuid[i] & ~f[i])
            return bad(path, "this CPU lacks instruction set features the checkpointed process may use");
    struct utsname u;
    if (uname(&u) == 0 && strncmp(u.release, h->kernel, sizeof h->kernel))
        fprintf(stderr, "stasis-restore: warning: image from kernel %.64s, running %s\n", h->kernel, u.release);
    return 0;
}

static int check_tables(const char *path)
{
    struct stasis_img_header *h = g_img.hdr;
    uint64_t names_len = h->table_size - (uint64_t)h->n_areas * sizeof(struct stasis_img_area) -
                         (uint64_t)h->n_runs * sizeof(struct stasis_img_run);
    for (uint32_t i = 0; i < h->n_areas; i++) {
        const struct stasis_img_area *a = &g_img.areas[i];
        if (a->start >= a->end || a->start % h->page_size || a->end % h->page_size)
            return bad(path, "bad area bounds");
        if (overlaps(a->start, a->end, restorer_image_start(), restorer_image_end()) ||
            overlaps(a->start, a->end, STASIS_RESTORER_SCRATCH, STASIS_RESTORER_SCRATCH_END))
            return bad(path, "a saved area overlaps the restorer's own memory (cannot restore this image)");
        if ((uint64_t)a->run_first + a->run_count > h->n_runs) return bad(path, "bad run index");
        if (a->name_len && (uint64_t)a->name_off + a->name_len >= names_len) return bad(path, "bad area name");
        for (uint32_t r = a->run_first; r < a->run_first + a->run_count; r++) {
            const struct stasis_img_run *run = &g_img.runs[r];
            if (run->addr < a->start || run->addr + run->len > a->end || run->file_offset % h->page_size ||
                run->file_offset < h->data_offset || run->file_offset + run->len > h->table_offset)
                return bad(path, "bad page run");
        }
    }
    return 0;
}

int image_load(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) { fprintf(stderr, "stasis-restore: %s: %s\n", path, strerror(errno)); return -1; }
    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) { close(fd); return bad(path, "not a regular file"); }
    size_t hsz = (sizeof(struct stasis_img_header) + 4095) & ~4095ul;
    g_img.hdr = scratch(0, hsz);
    if (!g_img.hdr) { close(fd); return bad(path, "cannot reserve scratch memory"); }
    if ((uint64_t)st.st_size < sizeof *g_img.hdr || read_exact(fd, g_img.hdr, sizeof *g_img.hdr, 0) < 0) {
        close(fd); return bad(path, "image is truncated (no complete header)");
    }
    if (check_header(path, g_img.hdr, (uint64_t)st.st_size) < 0) { close(fd); return -1; }
    struct stasis_img_header *h = g_img.hdr;
    char *tab = scratch(hsz, (h->table_size + 4096) & ~4095ul);
    if (!tab) { close(fd); return bad(path, "cannot reserve scratch memory for tables"); }
    if (read_exact(fd, tab, h->table_size, (off_t)h->table_offset) < 0) { close(fd); return bad(path, "image is truncated"); }
    if (stasis_crc32c(0, tab, h->table_size) != h->table_crc32c) { close(fd); return bad(path, "image tables are corrupt (checksum mismatch)"); }
    g_img.areas = (struct stasis_img_area *)tab;
    g_img.runs = (struct stasis_img_run *)(tab + (size_t)h->n_areas * sizeof(struct stasis_img_area));
    g_img.names = (const char *)(g_img.runs + h->n_runs);
    if (check_tables(path) < 0) { close(fd); return -1; }
    g_img.fd = fd;
    return 0;
}

int image_verify_data(const char *path)
{
    static char buf[1 << 20];
    for (uint32_t i = 0; i < g_img.hdr->n_areas; i++) {
        const struct stasis_img_area *a = &g_img.areas[i];
        uint32_t crc = 0;
        for (uint32_t r = a->run_first; r < a->run_first + a->run_count; r++) {
            const struct stasis_img_run *run = &g_img.runs[r];
            for (uint64_t done = 0; done < run->len;) {
                size_t n = run->len - done > sizeof buf ? sizeof buf : (size_t)(run->len - done);
                if (read_exact(g_img.fd, buf, n, (off_t)(run->file_offset + done)) < 0) return bad(path, "image is truncated");
                crc = stasis_crc32c(crc, buf, n);
                done += n;
            }
        }
        if (crc != a->crc32c) {
            fprintf(stderr, "stasis-restore: %s: page data of area %#llx-%#llx is corrupt (checksum mismatch)\n", path,
                    (unsigned long long)a->start, (unsigned long long)a->end);
            return -1;
        }
    }
    return 0;
}
