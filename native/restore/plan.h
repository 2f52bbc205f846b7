/* Restart plan (doc/restart-plan.md): parsed once, kept in static storage. */
#ifndef STASIS_PLAN_H
#define STASIS_PLAN_H
#include <stddef.h>
#include <stdint.h>

#define PLAN_PATH 4096

enum plan_fd_kind { FD_OPEN = 1, FD_INHERIT, FD_UNLINKED, FD_PIPE };

struct plan_fd {
    int fd, kind, src, flags;
    long long pipe_id;
    int pipe_write; /* FD_PIPE: which pipe, which end; src = the end once created */
    long long offset;
    char path[PLAN_PATH];
};

struct plan_termios {
    int fd;
    unsigned char bytes[128];
    int len;
};

/* shared <start-hex> <key>: the saved area starting at `start` is a view of shared
 * memory object `obj` (index into the plan's keys, plan_shm_key) */
struct plan_shared {
    uint64_t start;
    int obj;
    int line;
};

struct plan {
    int namespaces;  /* 1 = on (default) */
    int memory_copy; /* 1 = 'memory copy', 0 = 'memory lazy' (default) */
    int verify;      /* 1 (default) = check every area's CRC32C before restoring */
    int pid;         /* original pid (used with namespaces) */
    char image[PLAN_PATH];
    char cwd[PLAN_PATH]; /* "" = the image's cwd */
    char agent_socket[108];
    int nfds; /* the selected process's fd and termios lines (not copied) */
    struct plan_fd *fds;
    int ntermios;
    struct plan_termios *termios;
    int npathmaps, cappathmaps;
    struct plan_pathmap {
        char from[PLAN_PATH], to[PLAN_PATH];
    } * pathmap;
    int nshared; /* the selected process's shared lines (not copied) */
    const struct plan_shared *shared;
};

/* pipe <id> <data-path>: bytes to put into pipe <id> before the processes run */
struct plan_pipe_data {
    long long id;
    char *path;
};
extern struct plan_pipe_data *g_pipe_data;
extern int g_npipe_data;
/* One process of the plan. fd/termios/cwd/tree lines belong to the process line
 * before them (to the first process if they come before any process line). Every
 * list grows as the plan needs (heap: read in phase 1 only). */
struct plan_proc {
    int pid;
    int has_tree, ppid, pgid, sid; /* tree <ppid> <pgid> <sid> */
    char *image;
    char *cwd; /* NULL = the image's cwd */
    int nfds, capfds;
    struct plan_fd *fds;
    int ntermios, captermios;
    struct plan_termios *termios;
    int nzombies, capzombies; /* zombie <pid> <wait-status>: exited, unreaped children */
    int *zombie_pid, *zombie_status;
    int nshared, capshared; /* shared <start-hex> <key> */
    struct plan_shared *shared;
};
extern struct plan_proc *g_procs;
extern int g_nprocs;
/* make process i the one g_plan describes (pid, image, cwd, fds, termios) */
void plan_select(int i);
/* index of the process with this pid, -1 if none */
int plan_index(int pid);
/* the plan's redirect lines, "from<TAB>to\n" each, for the restored agents */
#define PLAN_REDIRECTS_MAX 65536
extern char g_redirects[PLAN_REDIRECTS_MAX];
extern size_t g_redirects_len;
/* path with the longest matching redirect's prefix replaced (static buffer), else path */
const char *plan_redirect_path(const char *path);
/* path with the first matching path-map prefix replaced (static buffer) */
const char *plan_map_path(const char *path);

/* shared memory objects named by shared lines: keys in order of first use (at most
 * PLAN_MAX_SHM: their fds live in static storage, phase 2 closes them) */
#define PLAN_MAX_SHM 4096
extern int g_nshm_keys;
const char *plan_shm_key(int obj);
/* the plan file's name, for messages about a line */
extern const char *g_plan_file;

extern struct plan g_plan;
/* grow *arr (elements of size elem, capacity *cap) to hold need; -1 out of memory */
int plan_grow(void *arr, int *cap, int need, size_t elem);
/* parse file; on error prints one line to stderr and returns -1 */
int plan_load(const char *path);
#endif
