/* Restart plan parser: one directive per line, '#' comments, paths run to end of line. */
#include "plan.h"
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct plan g_plan;
struct plan_proc *g_procs;
int g_nprocs;
static int g_capprocs;
struct plan_pipe_data *g_pipe_data;
int g_npipe_data;
static int g_cappipe_data;
const char *g_plan_file;
int g_nshm_keys;
static char **g_shm_keys;

/* the process section the current line belongs to (a first one exists: plan_load) */
static struct plan_proc *cur(void) { return &g_procs[g_nprocs ? g_nprocs - 1 : 0]; }

int plan_grow(void *arr, int *cap, int need, size_t elem)
{
    void **a = arr;
    if (need <= *cap) return 0;
    int want = *cap ? *cap : 8;
    while (want < need) {
        if (want > (1 << 28)) return -1;
        want *= 2;
    }
    void *grown = realloc(*a, (size_t)want * elem);
    if (!grown) return -1;
    memset((char *)grown + (size_t)*cap * elem, 0, (size_t)(want - *cap) * elem);
    *a = grown;
    *cap = want;
    return 0;
}

static int fail(const char *file, int line, const char *msg)
{
    fprintf(stderr, "stasis-restore: %s:%d: %s\n", file, line, msg);
    return -1;
}

static int copy_path(char *dst, size_t cap, const char *src)
{
    while (*src == ' ') src++;
    if (!*src || strlen(src) >= cap) return -1;
    strcpy(dst, src);
    return 0;
}

static int parse_fd(char *rest, const char *file, int ln)
{
    static struct plan_fd tmp;
    struct plan_proc *pp = cur();
    struct plan_fd *f = &tmp;
    memset(f, 0, sizeof *f);
    char kind[16];
    int n = 0;
    if (sscanf(rest, "%d %15s %n", &f->fd, kind, &n) < 2 || f->fd < 0) return fail(file, ln, "bad fd line");
    char *p = rest + n;
    if (!strcmp(kind, "inherit")) {
        f->kind = FD_INHERIT;
        if (sscanf(p, "%d", &f->src) != 1 || f->src < 0) return fail(file, ln, "bad inherit source fd");
    } else if (!strcmp(kind, "open") || !strcmp(kind, "unlinked")) {
        f->kind = kind[0] == 'o' ? FD_OPEN : FD_UNLINKED;
        int m = 0;
        if (sscanf(p, "%o %lld %n", (unsigned *)&f->flags, &f->offset, &m) < 2)
            return fail(file, ln, "bad flags/offset");
        if (copy_path(f->path, sizeof f->path, p + m) < 0) return fail(file, ln, "missing path");
    } else if (!strcmp(kind, "pipe")) {
        char end[4];
        f->kind = FD_PIPE;
        if (sscanf(p, "%lld %3s %o", &f->pipe_id, end, (unsigned *)&f->flags) != 3 || f->pipe_id < 0 ||
            (strcmp(end, "r") && strcmp(end, "w")))
            return fail(file, ln, "fd <n> pipe <id> r|w <flags-octal>");
        f->pipe_write = end[0] == 'w';
    } else return fail(file, ln, "unknown fd kind (open|inherit|unlinked|pipe)");
    if (plan_grow(&pp->fds, &pp->capfds, pp->nfds + 1, sizeof *pp->fds) < 0) return fail(file, ln, "out of memory");
    pp->fds[pp->nfds++] = *f;
    return 0;
}

static int parse_termios(char *rest, const char *file, int ln)
{
    struct plan_proc *pp = cur();
    if (plan_grow(&pp->termios, &pp->captermios, pp->ntermios + 1, sizeof *pp->termios) < 0)
        return fail(file, ln, "out of memory");
    struct plan_termios *t = &pp->termios[pp->ntermios];
    char hex[300];
    if (sscanf(rest, "%d %299s", &t->fd, hex) != 2) return fail(file, ln, "bad termios line");
    size_t hl = strlen(hex);
    if (hl % 2 || hl / 2 > sizeof t->bytes) return fail(file, ln, "bad termios hex");
    for (size_t i = 0; i < hl / 2; i++) {
        unsigned v;
        if (sscanf(hex + 2 * i, "%2x", &v) != 1) return fail(file, ln, "bad termios hex");
        t->bytes[i] = (unsigned char)v;
    }
    t->len = (int)(hl / 2);
    pp->ntermios++;
    return 0;
}

/* path-map <from>TAB<to>: prefix rewrite for files the image maps shared */
static int parse_pathmap(char *rest, const char *file, int ln)
{
    if (plan_grow(&g_plan.pathmap, &g_plan.cappathmaps, g_plan.npathmaps + 1, sizeof *g_plan.pathmap) < 0)
        return fail(file, ln, "out of memory");
    char *tab = strchr(rest, '\t');
    if (!tab || strchr(tab + 1, '\t')) return fail(file, ln, "path-map <from><TAB><to>");
    *tab = 0;
    if (copy_path(g_plan.pathmap[g_plan.npathmaps].from, PLAN_PATH, rest) < 0 ||
        copy_path(g_plan.pathmap[g_plan.npathmaps].to, PLAN_PATH, tab + 1) < 0)
        return fail(file, ln, "bad path-map paths");
    g_plan.npathmaps++;
    return 0;
}

/* redirect <from>TAB<to>: handed to every restored agent as text (restart.h); static:
 * it must outlive the heap, which phase 2 unmaps */
char g_redirects[PLAN_REDIRECTS_MAX];
size_t g_redirects_len;

static int parse_redirect(char *rest, const char *file, int ln)
{
    char *tab = strchr(rest, '\t');
    if (!tab || strchr(tab + 1, '\t') || rest[0] != '/' || tab[1] != '/' || tab == rest + 1)
        return fail(file, ln, "redirect <absolute-from><TAB><absolute-to>");
    size_t n = strlen(rest);
    if (n - (size_t)(tab - rest) - 1 >= PLAN_PATH || (size_t)(tab - rest) >= PLAN_PATH)
        return fail(file, ln, "redirect path too long");
    if (g_redirects_len + n + 1 > sizeof g_redirects) return fail(file, ln, "too many redirects");
    memcpy(g_redirects + g_redirects_len, rest, n);
    g_redirects[g_redirects_len + n] = '\n';
    g_redirects_len += n + 1;
    return 0;
}

const char *plan_redirect_path(const char *path)
{
    static char out[PLAN_PATH * 2];
    size_t best = 0, plen = strlen(path);
    const char *to = NULL;
    size_t tlen = 0;
    for (size_t i = 0; i < g_redirects_len;) {
        const char *line = g_redirects + i, *tab = memchr(line, '\t', g_redirects_len - i);
        const char *nl = memchr(line, '\n', g_redirects_len - i);
        if (!tab || !nl || tab > nl) break;
        size_t flen = (size_t)(tab - line);
        while (flen > 1 && line[flen - 1] == '/') flen--;
        if (flen > best && plen >= flen && !strncmp(path, line, flen) && (path[flen] == 0 || path[flen] == '/')) {
            best = flen;
            to = tab + 1;
            tlen = (size_t)(nl - to);
        }
        i = (size_t)(nl - g_redirects) + 1;
    }
    if (!to) return path;
    snprintf(out, sizeof out, "%.*s%s", (int)tlen, to, path + best);
    return out;
}

const char *plan_map_path(const char *path)
{
    static char out[PLAN_PATH * 2];
    for (int i = 0; i < g_plan.npathmaps; i++) {
        size_t n = strlen(g_plan.pathmap[i].from);
        if (strncmp(path, g_plan.pathmap[i].from, n) || (path[n] && path[n] != '/')) continue;
        snprintf(out, sizeof out, "%s%s", g_plan.pathmap[i].to, path + n);
        return out;
    }
    return path;
}

const char *plan_shm_key(int obj) { return g_shm_keys[obj]; }

/* index of key among the shared memory objects, added if new; -1 out of memory,
 * -2 too many objects */
static int shm_key_index(const char *key)
{
    for (int i = 0; i < g_nshm_keys; i++)
        if (!strcmp(g_shm_keys[i], key)) return i;
    if (g_nshm_keys >= PLAN_MAX_SHM) return -2;
    char **grown = realloc(g_shm_keys, (size_t)(g_nshm_keys + 1) * sizeof *grown);
    if (!grown) return -1;
    g_shm_keys = grown;
    if (!(g_shm_keys[g_nshm_keys] = strdup(key))) return -1;
    return g_nshm_keys++;
}

/* shared <start-hex> <key>: the area at start is one view of shared memory object key */
static int parse_shared(char *rest, const char *file, int ln)
{
    struct plan_proc *pp = cur();
    char *end;
    errno = 0;
    unsigned long long start = strtoull(rest, &end, 16);
    if (errno || !isxdigit((unsigned char)rest[0]) || *end != ' ' || !end[1] || strpbrk(end + 1, " \t") ||
        strlen(end + 1) > 255)
        return fail(file, ln, "shared <start-hex> <key> (key: one token, at most 255 bytes)");
    for (int i = 0; i < pp->nshared; i++)
        if (pp->shared[i].start == start) return fail(file, ln, "shared: this area is named twice");
    if (pp->nshared == pp->capshared) {
        int cap = pp->capshared ? pp->capshared * 2 : 8;
        struct plan_shared *grown = realloc(pp->shared, (size_t)cap * sizeof *grown);
        if (!grown) return fail(file, ln, "out of memory");
        pp->shared = grown;
        pp->capshared = cap;
    }
    int obj = shm_key_index(end + 1);
    if (obj < 0) return fail(file, ln, obj == -2 ? "too many shared memory objects" : "out of memory");
    pp->shared[pp->nshared++] = (struct plan_shared){.start = start, .obj = obj, .line = ln};
    return 0;
}

static int parse_line(char *line, const char *file, int ln)
{
    char key[32];
    int n = 0;
    while (*line == ' ' || *line == '\t') line++;
    if (!*line || *line == '#') return 0;
    if (sscanf(line, "%31s %n", key, &n) < 1) return 0;
    char *rest = line + n;
    if (!strcmp(key, "version")) return atoi(rest) == 1 ? 0 : fail(file, ln, "unsupported plan version");
    if (!strcmp(key, "namespaces")) {
        if (!strcmp(rest, "on")) g_plan.namespaces = 1;
        else if (!strcmp(rest, "off")) g_plan.namespaces = 0;
        else return fail(file, ln, "namespaces on|off");
        return 0;
    }
    if (!strcmp(key, "memory")) {
        if (!strcmp(rest, "lazy")) g_plan.memory_copy = 0;
        else if (!strcmp(rest, "copy")) g_plan.memory_copy = 1;
        else return fail(file, ln, "memory lazy|copy");
        return 0;
    }
    if (!strcmp(key, "verify")) {
        if (!strcmp(rest, "on")) g_plan.verify = 1;
        else if (!strcmp(rest, "off")) g_plan.verify = 0;
        else return fail(file, ln, "verify on|off");
        return 0;
    }
    if (!strcmp(key, "process")) {
        int m = 0, pid = 0;
        static char image[PLAN_PATH];
        if (sscanf(rest, "%d %n", &pid, &m) < 1 || pid <= 0) return fail(file, ln, "bad process line");
        if (copy_path(image, sizeof image, rest + m) < 0) return fail(file, ln, "missing image path");
        if (plan_index(pid) >= 0) return fail(file, ln, "process listed twice");
        if (g_nprocs == 0 && !g_procs[0].image) g_nprocs = 1; /* lines before it belong to it */
        else if (plan_grow(&g_procs, &g_capprocs, g_nprocs + 1, sizeof *g_procs) < 0)
            return fail(file, ln, "out of memory");
        else g_nprocs++;
        struct plan_proc *pp = cur();
        pp->pid = pid;
        pp->image = strdup(image);
        return pp->image ? 0 : fail(file, ln, "out of memory");
    }
    if (!strcmp(key, "pipe")) {
        long long id;
        int m = 0;
        static char data[PLAN_PATH];
        if (plan_grow(&g_pipe_data, &g_cappipe_data, g_npipe_data + 1, sizeof *g_pipe_data) < 0)
            return fail(file, ln, "out of memory");
        if (sscanf(rest, "%lld %n", &id, &m) < 1 || id < 0 || copy_path(data, sizeof data, rest + m) < 0)
            return fail(file, ln, "pipe <id> <data-path>");
        g_pipe_data[g_npipe_data].id = id;
        g_pipe_data[g_npipe_data].path = strdup(data);
        g_npipe_data++;
        return 0;
    }
    if (!strcmp(key, "zombie")) {
        struct plan_proc *pp = cur();
        int zp, st, cap = pp->capzombies;
        if (plan_grow(&pp->zombie_pid, &cap, pp->nzombies + 1, sizeof(int)) < 0 ||
            plan_grow(&pp->zombie_status, &pp->capzombies, pp->nzombies + 1, sizeof(int)) < 0)
            return fail(file, ln, "out of memory");
        if (sscanf(rest, "%d %d", &zp, &st) != 2 || zp <= 1 || st < 0)
            return fail(file, ln, "zombie <pid> <wait-status>");
        pp->zombie_pid[pp->nzombies] = zp;
        pp->zombie_status[pp->nzombies++] = st;
        return 0;
    }
    if (!strcmp(key, "tree")) {
        struct plan_proc *pp = cur();
        if (sscanf(rest, "%d %d %d", &pp->ppid, &pp->pgid, &pp->sid) != 3 || pp->ppid < 0 || pp->pgid < 0 ||
            pp->sid < 0)
            return fail(file, ln, "tree <ppid> <pgid> <sid>");
        pp->has_tree = 1;
        return 0;
    }
    if (!strcmp(key, "cwd")) {
        static char cwd[PLAN_PATH];
        if (copy_path(cwd, sizeof cwd, rest) < 0) return fail(file, ln, "bad cwd");
        free(cur()->cwd);
        cur()->cwd = strdup(cwd);
        return cur()->cwd ? 0 : fail(file, ln, "out of memory");
    }
    if (!strcmp(key, "agent-socket"))
        return copy_path(g_plan.agent_socket, sizeof g_plan.agent_socket, rest) < 0 || g_plan.agent_socket[0] != '/'
                       ? fail(file, ln, "bad agent-socket (an absolute path of at most 107 bytes)")
                       : 0;
    if (!strcmp(key, "fd")) return parse_fd(rest, file, ln);
    if (!strcmp(key, "path-map")) return parse_pathmap(rest, file, ln);
    if (!strcmp(key, "redirect")) return parse_redirect(rest, file, ln);
    if (!strcmp(key, "termios")) return parse_termios(rest, file, ln);
    if (!strcmp(key, "shared")) return parse_shared(rest, file, ln);
    return fail(file, ln, "unknown directive");
}

int plan_load(const char *path)
{
    FILE *f = fopen(path, "re");
    if (!f) {
        fprintf(stderr, "stasis-restore: %s: %s\n", path, strerror(errno));
        return -1;
    }
    memset(&g_plan, 0, sizeof g_plan);
    g_redirects_len = 0;
    g_plan_file = path;
    g_nprocs = 0;
    if (plan_grow(&g_procs, &g_capprocs, 1, sizeof *g_procs) < 0) { /* lines before any process line */
        fclose(f);
        fprintf(stderr, "stasis-restore: out of memory\n");
        return -1;
    }
    g_npipe_data = 0;
    g_plan.namespaces = 1;
    g_plan.verify = 1; /* a damaged page is never handed to the program */
    char *line = NULL;
    size_t cap = 0;
    int ln = 0, rc = 0;
    ssize_t len;
    while ((len = getline(&line, &cap, f)) >= 0) {
        ln++;
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r')) line[--len] = 0;
        if (memchr(line, 0, (size_t)len)) { /* the rest of the line would be silently cut off */
            fprintf(stderr, "stasis-restore: %s:%d: a NUL byte inside the line\n", path, ln);
            rc = -1;
            break;
        }
        if (parse_line(line, path, ln) < 0) {
            rc = -1;
            break;
        }
    }
    free(line);
    fclose(f);
    if (rc == 0 && (!g_nprocs || !g_procs[0].image)) {
        fprintf(stderr, "stasis-restore: %s: no process line\n", path);
        rc = -1;
    }
    if (rc == 0) plan_select(0);
    return rc;
}

int plan_index(int pid)
{
    for (int i = 0; i < g_nprocs; i++)
        if (g_procs[i].pid == pid) return i;
    return -1;
}

void plan_select(int i)
{
    struct plan_proc *pp = &g_procs[i];
    g_plan.pid = pp->pid;
    strcpy(g_plan.image, pp->image);
    strcpy(g_plan.cwd, pp->cwd ? pp->cwd : "");
    g_plan.nfds = pp->nfds;
    g_plan.fds = pp->fds;
    g_plan.ntermios = pp->ntermios;
    g_plan.termios = pp->termios;
    g_plan.nshared = pp->nshared;
    g_plan.shared = pp->shared;
}
