/* stasis-restore --compact IMAGE OUT: a self-contained copy of an incremental image
 * (doc/image-format.md, "Incremental images"). The image and its chain of parents are
 * checked as for a restart (every checksum); OUT gets every page the chain holds for
 * it, with new checksums, no parent runs and no parent. The image id stays: a process
 * restored from the copy may take its next checkpoint incrementally over the copy. */
#include "compact.h"
#include "chain.h"
#include "imgcheck.h"
#include "safeopen.h"
#include "stasis/rawio.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PAGE 4096ull

static char g_buf[1 << 20];

static int put(int fd, const void *p, size_t len, uint64_t at)
{
    for (size_t done = 0; done < len;) {
        ssize_t n = pwrite(fd, (const char *)p + done, len - done, (off_t)(at + done));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return -1;
        done += (size_t)n;
    }
    return 0;
}

/* one resolved run copied to out at *at; its bytes added to the area's checksum */
static int copy_run(int out, const struct stasis_img_run *run, uint64_t *at, uint32_t *crc)
{
    int level = (int)(run->file_offset >> CHAIN_LEVEL_SHIFT);
    int in = level ? g_chain.fd[level - 1] : g_img.fd;
    uint64_t off = run->file_offset & ((1ull << CHAIN_LEVEL_SHIFT) - 1);
    for (uint64_t done = 0; done < run->len;) {
        size_t want = run->len - done > sizeof g_buf ? sizeof g_buf : (size_t)(run->len - done);
        ssize_t n = pread(in, g_buf, want, (off_t)(off + done));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return -1;
        *crc = stasis_crc32c(*crc, g_buf, (size_t)n);
        if (put(out, g_buf, (size_t)n, *at + done) < 0) return -1;
        done += (uint64_t)n;
    }
    *at += run->len;
    return 0;
}

static int write_copy(int out, const char *name)
{
    struct stasis_img_header h = *g_img.hdr;
    const struct stasis_img_header *src = g_img.hdr;
    uint64_t n_runs = 0;
    for (uint32_t i = 0; i < src->n_areas; i++) n_runs += g_img.areas[i].run_count;
    size_t names_len = (size_t)(src->table_size - (uint64_t)src->n_areas * sizeof(struct stasis_img_area) -
                                (uint64_t)src->n_runs * sizeof(struct stasis_img_run));
    size_t tab_len =
            (size_t)src->n_areas * sizeof(struct stasis_img_area) + n_runs * sizeof(struct stasis_img_run) + names_len;
    char *tab = malloc(tab_len);
    if (!tab) return fprintf(stderr, "stasis: image %s: out of memory\n", name), -1;
    struct stasis_img_area *areas = (struct stasis_img_area *)tab;
    struct stasis_img_run *runs = (struct stasis_img_run *)(areas + src->n_areas);
    memcpy(areas, g_img.areas, (size_t)src->n_areas * sizeof *areas);
    memcpy(runs + n_runs, g_img.names, names_len);
    uint64_t at = (sizeof h + PAGE - 1) & ~(PAGE - 1), k = 0;
    h.data_offset = at;
    for (uint32_t i = 0; i < src->n_areas; i++) {
        struct stasis_img_area *a = &areas[i];
        uint32_t crc = 0, first = (uint32_t)k;
        for (uint32_t r = a->run_first; r < a->run_first + a->run_count; r++, k++) {
            runs[k] = g_img.runs[r];
            runs[k].file_offset = at;
            if (copy_run(out, &g_img.runs[r], &at, &crc) < 0) {
                free(tab);
                return fprintf(stderr, "stasis: image %s: cannot copy its pages (%s)\n", name, strerror(errno)), -1;
            }
        }
        a->run_first = first;
        a->crc32c = crc;
    }
    h.data_bytes = at - h.data_offset;
    h.n_runs = (uint32_t)n_runs;
    h.table_offset = at;
    h.table_size = tab_len;
    h.table_crc32c = stasis_crc32c(0, tab, tab_len);
    h.file_size = at + tab_len;
    h.version = STASIS_IMG_VERSION_PLAIN; /* the copy is not compressed */
    memset(&h.proc.compress, 0, sizeof h.proc.compress);
    h.proc.parent_id = 0;
    memset(h.proc.parent, 0, sizeof h.proc.parent);
    h.header_crc32c = 0;
    h.header_crc32c = stasis_crc32c(0, &h, sizeof h);
    int rc = put(out, tab, tab_len, at) < 0 || put(out, &h, sizeof h, 0) < 0 || fsync(out) < 0 ? -1 : 0;
    free(tab);
    if (rc < 0) fprintf(stderr, "stasis: image %s: cannot write the copy (%s)\n", name, strerror(errno));
    return rc;
}

int compact_image(const char *image, const char *out_path)
{
    if (image_check_only(image) < 0 || image_verify_data(image) < 0) return 1;
    if (chain_open(image, 1, 1) < 0) return 1;
    int out = open(out_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (out < 0) {
        fprintf(stderr, "stasis: image %s: cannot create %s: %s\n", path_base(image), out_path, strerror(errno));
        return 1;
    }
    int rc = write_copy(out, path_base(image));
    close(out);
    if (rc < 0) unlink(out_path);
    return rc < 0 ? 1 : 0;
}
