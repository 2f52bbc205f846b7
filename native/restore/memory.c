/* Phase 1 of the memory restore (hosted, libc allowed): open what the image maps
 * shared, then hand over to phase 2 (phase2.c, freestanding), which replaces the
 * address space. */
#include "memory.h"
#include "phase2.h"
#include "plan.h"
#include "shm.h"
#include "imgcheck.h"
#include "chain.h"
#include "stasis/rawio.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* per area: fd of the file it maps shared, or of the shared memory object it is a
 * view of (-1: none, a private copy); set in phase 1 */
static int g_shared_fd[STASIS_IMG_MAX_AREAS];

/* O_NONBLOCK: a path that became a FIFO (or a device) must not block the restart
 * (signals are blocked by then: not even SIGTERM would end it); only a regular file
 * can be mapped shared again */
static int open_shared_file(const char *path, const struct stasis_img_area *a)
{
    int fd = open(path, ((a->prot & PROT_WRITE) ? O_RDWR : O_RDONLY) | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    if (fd < 0) {
        fprintf(stderr, "stasis-restore: cannot reopen %s (mapped shared): %s\n", path, strerror(errno));
        return -1;
    }
    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        fprintf(stderr, "stasis-restore: cannot map %s shared again: it is no longer a regular file\n", path);
        close(fd);
        return -1;
    }
    fcntl(fd, F_SETFL, 0);
    return fd;
}

int memory_open_shared_files(int above)
{
    for (uint32_t i = 0; i < g_img.hdr->n_areas; i++) {
        const struct stasis_img_area *a = &g_img.areas[i];
        if (a->kind != STASIS_AREA_FILE_SHARED && a->kind != STASIS_AREA_SHARED_ANON) continue;
        if (i >= sizeof g_shared_fd / sizeof g_shared_fd[0]) {
            fprintf(stderr, "stasis-restore: too many areas\n");
            return -1;
        }
        if (a->kind == STASIS_AREA_SHARED_ANON) {
            g_shared_fd[i] = shm_fd_for(a->start);
            continue;
        }
        const char *path = plan_map_path(g_img.names + a->name_off);
        int fd = open_shared_file(path, a);
        if (fd < 0) return -1;
        int hi = fcntl(fd, F_DUPFD_CLOEXEC, above);
        close(fd);
        if (hi < 0) {
            perror("stasis-restore: dup");
            return -1;
        }
        g_shared_fd[i] = hi;
    }
    return 0;
}

void memory_restore_and_jump(int image_fd, const struct stasis_restart_args *args, int copy)
{
    static struct phase2_input in; /* in the restorer's bss: it stays */
    in.image_fd = image_fd;
    in.copy = copy;
    r_memcpy(&in.args, args, sizeof in.args);
    in.hdr = g_img.hdr;
    in.areas = g_img.areas;
    in.runs = g_img.runs;
    in.area_fd = g_shared_fd;
    in.n_close = shm_fd_list(&in.close_fds);
    in.chain_fd = g_chain.fd;
    in.n_chain = g_chain.n;
    in.inflated = g_img.frames && !g_img.zbuf ? 1 : 0;
    in.zbuf = (uint64_t)(uintptr_t)g_img.zbuf;
    in.zbuf_len = g_img.zbuf_len;
    in.zbuf_base = g_img.hdr->data_offset;
    for (int i = 0; i < g_chain.n; i++)
        if (g_chain.img[i].frames) in.inflated |= 1ull << (i + 1);
    phase2_start(&in);
}
