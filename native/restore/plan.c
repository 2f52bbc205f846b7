/* Restart plan parser: one directive per line, '#' comments, paths run to end of line. */
#include "plan.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct plan g_plan;

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
    if (g_plan.nfds >= PLAN_MAX_FDS) return fail(file, ln, "too many fd lines");
    struct plan_fd *f = &g_plan.fds[g_plan.nfds];
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
        if (sscanf(p, "%o %lld %n", (unsigned *)&f->flags, &f->offset, &m) < 2) return fail(file, ln, "bad flags/offset");
        if (copy_path(f->path, sizeof f->path, p + m) < 0) return fail(file, ln, "missing path");
    } else return fail(file, ln, "unknown fd kind (open|inherit|unlinked)");
    g_plan.nfds++;
    return 0;
}

static int parse_termios(char *rest, const char *file, int ln)
{
    if (g_plan.ntermios >= 8) return fail(file, ln, "too many termios lines");
    struct plan_termios *t = &g_plan.termios[g_plan.ntermios];
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
    g_plan.ntermios++;
    return 0;
}

/* path-map <from>TAB<to>: prefix rewrite for files the image maps shared */
static int parse_pathmap(char *rest, const char *file, int ln)
{
    if (g_plan.npathmaps >= 16) return fail(file, ln, "too many path-map lines");
    char *tab = strchr(rest, '\t');
    if (!tab || strchr(tab + 1, '\t')) return fail(file, ln, "path-map <from><TAB><to>");
    *tab = 0;
    if (copy_path(g_plan.pathmap[g_plan.npathmaps].from, PLAN_PATH, rest) < 0 ||
        copy_path(g_plan.pathmap[g_plan.npathmaps].to, PLAN_PATH, tab + 1) < 0)
        return fail(file, ln, "bad path-map paths");
    g_plan.npathmaps++;
    return 0;
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
        int m = 0;
        if (sscanf(rest, "%d %n", &g_plan.pid, &m) < 1 || g_plan.pid <= 0) return fail(file, ln, "bad process line");
        if (copy_path(g_plan.image, sizeof g_plan.image, rest + m) < 0) return fail(file, ln, "missing image path");
        return 0;
    }
    if (!strcmp(key, "cwd")) return copy_path(g_plan.cwd, sizeof g_plan.cwd, rest) < 0 ? fail(file, ln, "bad cwd") : 0;
    if (!strcmp(key, "agent-socket"))
        return copy_path(g_plan.agent_socket, sizeof g_plan.agent_socket, rest) < 0 ? fail(file, ln, "bad agent-socket (max 107 bytes)") : 0;
    if (!strcmp(key, "fd")) return parse_fd(rest, file, ln);
    if (!strcmp(key, "path-map")) return parse_pathmap(rest, file, ln);
    if (!strcmp(key, "termios")) return parse_termios(rest, file, ln);
    return fail(file, ln, "unknown directive");
}

int plan_load(const char *path)
{
    FILE *f = fopen(path, "re");
    if (!f) { fprintf(stderr, "stasis-restore: %s: %s\n", path, strerror(errno)); return -1; }
    memset(&g_plan, 0, sizeof g_plan);
    g_plan.namespaces = 1;
    char *line = NULL;
    size_t cap = 0;
    int ln = 0, rc = 0;
    ssize_t len;
    while ((len = getline(&line, &cap, f)) >= 0) {
        ln++;
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r')) line[--len] = 0;
        if (parse_line(line, path, ln) < 0) { rc = -1; break; }
    }
    free(line);
    fclose(f);
    if (rc == 0 && !g_plan.image[0]) { fprintf(stderr, "stasis-restore: %s: no process line\n", path); rc = -1; }
    return rc;
}
