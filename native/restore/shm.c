/* Shared memory between the processes of a plan (doc/restart-plan.md, 'shared').
 *
 * Every key becomes one memfd, created and filled from the images before any process
 * is created, so every restored process inherits all of them across clone. The fd
 * table keeps them (fdtable.c), each process maps its views from them in phase 2
 * (memory.c) and closes them all before the program runs: the program sees only its
 * mappings. The saved data is copied in here, while nothing runs yet: a process that
 * restores itself later cannot overwrite what an earlier one has already changed.
 * All processes were suspended when their images were written, so every view holds
 * the same bytes; a view contained in one already copied is skipped. */
#include "shm.h"
#include "inflate.h"
#include "imgcheck.h"
#include "plan.h"
#include "stasis/rawsys.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

struct range {
    uint64_t off, end;
};
struct object {
    uint64_t size;
    int nfilled, capfilled;
    struct range *filled; /* copied from a readable view: complete there */
};

static int g_fd[PLAN_MAX_SHM]; /* static storage: phase 2 reads it */
static int g_nfd;
static struct object *g_obj;

static int line_error(const struct plan_shared *s, const char *msg)
{
    fprintf(stderr, "stasis-restore: %s:%d: shared %llx: %s\n", g_plan_file, s->line, (unsigned long long)s->start,
            msg);
    return -1;
}

static const struct stasis_img_area *area_at(uint64_t start)
{
    for (uint32_t i = 0; i < g_img.hdr->n_areas; i++)
        if (g_img.areas[i].start == start) return &g_img.areas[i];
    return NULL;
}

/* every key holds an fd until the processes are restored, and the fd table moves
 * them all above the program's fds (fdtable.c): make room for twice as many (each
 * process gets its own limits back from its image later) */
static void raise_fd_limit(void)
{
    struct rlimit r;
    rlim_t want = 2 * (rlim_t)g_nshm_keys + 1024;
    if (getrlimit(RLIMIT_NOFILE, &r) < 0 || r.rlim_cur >= want) return;
    r.rlim_cur = want < r.rlim_max ? want : r.rlim_max;
    setrlimit(RLIMIT_NOFILE, &r);
}

static int objects_init(void)
{
    if (g_obj) return 0;
    raise_fd_limit();
    g_obj = calloc((size_t)g_nshm_keys, sizeof *g_obj);
    if (!g_obj) {
        perror("stasis-restore: shared memory");
        return -1;
    }
    g_nfd = g_nshm_keys;
    for (int i = 0; i < g_nfd; i++) g_fd[i] = -1;
    return 0;
}

/* the object's memfd exists and is at least size bytes */
static int object_reserve(int obj, uint64_t size)
{
    if (g_fd[obj] < 0) {
        g_fd[obj] = memfd_create("stasis-shm", MFD_CLOEXEC);
        if (g_fd[obj] < 0) {
            fprintf(stderr, "stasis-restore: shared memory %s: memfd_create: %s\n", plan_shm_key(obj), strerror(errno));
            return -1;
        }
    }
    if (size <= g_obj[obj].size) return 0;
    if (ftruncate(g_fd[obj], (off_t)size) < 0) {
        fprintf(stderr, "stasis-restore: shared memory %s: cannot make it %llu bytes: %s\n", plan_shm_key(obj),
                (unsigned long long)size, strerror(errno));
        return -1;
    }
    g_obj[obj].size = size;
    return 0;
}

static int covered(const struct object *o, uint64_t off, uint64_t end)
{
    for (int i = 0; i < o->nfilled; i++)
        if (o->filled[i].off <= off && end <= o->filled[i].end) return 1;
    return 0;
}

static int remember(struct object *o, uint64_t off, uint64_t end)
{
    if (o->nfilled == o->capfilled) {
        int cap = o->capfilled ? o->capfilled * 2 : 4;
        struct range *grown = realloc(o->filled, (size_t)cap * sizeof *grown);
        if (!grown) {
            perror("stasis-restore: shared memory");
            return -1;
        }
        o->filled = grown;
        o->capfilled = cap;
    }
    o->filled[o->nfilled++] = (struct range){off, end};
    return 0;
}

/* copy the area's saved pages into the object, at the area's offset in it */
static int fill(int obj, const struct stasis_img_area *a)
{
    struct object *o = &g_obj[obj];
    uint64_t len = a->end - a->start;
    if (covered(o, a->pgoff, a->pgoff + len)) return 0;
    if (a->run_count) {
        char *view = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, g_fd[obj], (off_t)a->pgoff);
        if (view == MAP_FAILED) {
            fprintf(stderr, "stasis-restore: shared memory %s: mmap: %s\n", plan_shm_key(obj), strerror(errno));
            return -1;
        }
        int rc = 0;
        for (uint32_t r = a->run_first; r < a->run_first + a->run_count && rc == 0; r++) {
            const struct stasis_img_run *run = &g_img.runs[r];
            rc = image_read(view + (run->addr - a->start), run->len, run->file_offset);
        }
        munmap(view, len);
        if (rc < 0) {
            fprintf(stderr, "stasis-restore: shared memory %s: cannot read its data from the image\n",
                    plan_shm_key(obj));
            return -1;
        }
    }
    /* an unreadable view stored only its present pages: not a complete copy */
    return (a->prot & PROT_READ) ? remember(o, a->pgoff, a->pgoff + len) : 0;
}

int shm_take_image(int proc)
{
    const struct plan_proc *pp = &g_procs[proc];
    if (!pp->nshared) return 0;
    if (objects_init() < 0) return -1;
    for (int k = 0; k < pp->nshared; k++) {
        const struct plan_shared *s = &pp->shared[k];
        const struct stasis_img_area *a = area_at(s->start);
        if (!a || a->kind != STASIS_AREA_SHARED_ANON) {
            char msg[96];
            snprintf(msg, sizeof msg, "no shared anonymous area starts there in the image of process %d", pp->pid);
            return line_error(s, msg);
        }
        uint64_t len = a->end - a->start;
        if (a->pgoff > (uint64_t)INT64_MAX - len) return line_error(s, "offset out of range");
        if (object_reserve(s->obj, a->pgoff + len) < 0 || fill(s->obj, a) < 0) return -1;
    }
    return 0;
}

int *shm_fds(int *n)
{
    *n = g_nfd;
    return g_fd;
}

int shm_fd_for(uint64_t start)
{
    for (int k = 0; k < g_plan.nshared; k++)
        if (g_plan.shared[k].start == start) return g_fd[g_plan.shared[k].obj];
    return -1;
}

int shm_fd_list(const int **fds)
{
    *fds = g_fd;
    return g_nfd;
}
