/* Restart plan (doc/restart-plan.md): parsed once, kept in static storage. */
#ifndef STASIS_PLAN_H
#define STASIS_PLAN_H
#include <stdint.h>

#define PLAN_MAX_FDS 256
#define PLAN_PATH 4096

enum plan_fd_kind { FD_OPEN = 1, FD_INHERIT, FD_UNLINKED };

struct plan_fd {
    int fd, kind, src, flags;
    long long offset;
    char path[PLAN_PATH];
};

struct plan_termios { int fd; unsigned char bytes[128]; int len; };

struct plan {
    int namespaces;            /* 1 = on (default) */
    int memory_copy;           /* 1 = 'memory copy', 0 = 'memory lazy' (default) */
    int verify;                /* 1 = check every area's CRC32C before restoring */
    int pid;                   /* original pid (used with namespaces) */
    char image[PLAN_PATH];
    char cwd[PLAN_PATH];       /* "" = the image's cwd */
    char agent_socket[108];
    int nfds;
    struct plan_fd fds[PLAN_MAX_FDS];
    int ntermios;
    struct plan_termios termios[8];
    int npathmaps;
    struct { char from[PLAN_PATH], to[PLAN_PATH]; } pathmap[16];
};

/* path with the first matching path-map prefix replaced (static buffer) */
const char *plan_map_path(const char *path);

extern struct plan g_plan;
/* parse file; on error prints one line to stderr and returns -1 */
int plan_load(const char *path);
#endif
