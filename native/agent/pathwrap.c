/* The libc calls that take a path name, interposed for path redirection
 * (redirect.c). Without redirects each is one branch and the real call. With them,
 * the path is mapped (absolute paths; *at calls with AT_FDCWD or an absolute path;
 * relative paths only when one could reach a redirected path) into a buffer on the
 * stack: nothing here allocates, except realpath's own result as libc makes it.
 * glibc-internal calls do not pass through here (fopen's open, opendir's open,
 * realpath's lstat): those entry points are interposed themselves. execve and the
 * spawn calls are in execwarn.c. */
#include "agent.h"
#include <dirent.h>
#include <dlfcn.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/time.h>
#include <unistd.h>
#include <utime.h>

#define EXPORT __attribute__((visibility("default")))
#define QUIET  __builtin_expect(!g_nredir, 1)
/* the path to pass on: as given, or where it is served from (buf: STASIS_REDIR_PATH) */
#define RD(p, buf)           (QUIET ? (p) : stasis_redirect((p), (buf)))
#define RD_AT(dirfd, p, buf) (QUIET || ((dirfd) != AT_FDCWD && (p)[0] != '/') ? (p) : stasis_redirect((p), (buf)))
#define NEEDS_MODE(flags)    (((flags)&O_CREAT) || ((flags)&O_TMPFILE) == O_TMPFILE)

/* one real function per wrapper: its type, its pointer, its resolution */
#define FUNCS(X)                                                                                                       \
    X(open, int, (const char *, int, ...))                                                                             \
    X(open64, int, (const char *, int, ...))                                                                           \
    X(__open_2, int, (const char *, int))                                                                              \
    X(__open64_2, int, (const char *, int))                                                                            \
    X(openat, int, (int, const char *, int, ...))                                                                      \
    X(openat64, int, (int, const char *, int, ...))                                                                    \
    X(__openat_2, int, (int, const char *, int))                                                                       \
    X(__openat64_2, int, (int, const char *, int))                                                                     \
    X(creat, int, (const char *, mode_t))                                                                              \
    X(creat64, int, (const char *, mode_t))                                                                            \
    X(fopen, FILE *, (const char *, const char *))                                                                     \
    X(fopen64, FILE *, (const char *, const char *))                                                                   \
    X(freopen, FILE *, (const char *, const char *, FILE *))                                                           \
    X(freopen64, FILE *, (const char *, const char *, FILE *))                                                         \
    X(stat, int, (const char *, struct stat *))                                                                        \
    X(stat64, int, (const char *, struct stat64 *))                                                                    \
    X(lstat, int, (const char *, struct stat *))                                                                       \
    X(lstat64, int, (const char *, struct stat64 *))                                                                   \
    X(fstatat, int, (int, const char *, struct stat *, int))                                                           \
    X(fstatat64, int, (int, const char *, struct stat64 *, int))                                                       \
    X(statx, int, (int, const char *, int, unsigned, struct statx *))                                                  \
    X(statfs, int, (const char *, struct statfs *))                                                                    \
    X(statfs64, int, (const char *, struct statfs64 *))                                                                \
    X(statvfs, int, (const char *, struct statvfs *))                                                                  \
    X(statvfs64, int, (const char *, struct statvfs64 *))                                                              \
    X(access, int, (const char *, int))                                                                                \
    X(faccessat, int, (int, const char *, int, int))                                                                   \
    X(euidaccess, int, (const char *, int))                                                                            \
    X(eaccess, int, (const char *, int))                                                                               \
    X(opendir, DIR *, (const char *))                                                                                  \
    X(mkdir, int, (const char *, mode_t))                                                                              \
    X(mkdirat, int, (int, const char *, mode_t))                                                                       \
    X(rmdir, int, (const char *))                                                                                      \
    X(unlink, int, (const char *))                                                                                     \
    X(unlinkat, int, (int, const char *, int))                                                                         \
    X(rename, int, (const char *, const char *))                                                                       \
    X(renameat, int, (int, const char *, int, const char *))                                                           \
    X(renameat2, int, (int, const char *, int, const char *, unsigned))                                                \
    X(link, int, (const char *, const char *))                                                                         \
    X(linkat, int, (int, const char *, int, const char *, int))                                                        \
    X(symlink, int, (const char *, const char *))                                                                      \
    X(symlinkat, int, (const char *, int, const char *))                                                               \
    X(readlink, ssize_t, (const char *, char *, size_t))                                                               \
    X(readlinkat, ssize_t, (int, const char *, char *, size_t))                                                        \
    X(realpath, char *, (const char *, char *))                                                                        \
    X(canonicalize_file_name, char *, (const char *))                                                                  \
    X(chdir, int, (const char *))                                                                                      \
    X(chmod, int, (const char *, mode_t))                                                                              \
    X(fchmodat, int, (int, const char *, mode_t, int))                                                                 \
    X(chown, int, (const char *, uid_t, gid_t))                                                                        \
    X(lchown, int, (const char *, uid_t, gid_t))                                                                       \
    X(fchownat, int, (int, const char *, uid_t, gid_t, int))                                                           \
    X(truncate, int, (const char *, off_t))                                                                            \
    X(truncate64, int, (const char *, off64_t))                                                                        \
    X(utime, int, (const char *, const struct utimbuf *))                                                              \
    X(utimes, int, (const char *, const struct timeval[2]))                                                            \
    X(utimensat, int, (int, const char *, const struct timespec[2], int))                                              \
    X(mkfifo, int, (const char *, mode_t))                                                                             \
    X(mknod, int, (const char *, mode_t, dev_t))

#define DECLARE(name, ret, params)                                                                                     \
    typedef ret(*name##_fn) params;                                                                                    \
    static name##_fn real_##name;
FUNCS(DECLARE)

/* dlsym is not async-signal-safe: resolved by the constructor (stasis_wrap_init) */
void stasis_pathwrap_init(void)
{
#define RESOLVE(name, ret, params) real_##name = (name##_fn)dlsym(RTLD_NEXT, #name);
    FUNCS(RESOLVE)
}

#define REAL(name) (__builtin_expect(!real_##name, 0) ? (stasis_pathwrap_init(), real_##name) : real_##name)

/* ---- open ---- */
static mode_t mode_arg(int flags, va_list ap) { return NEEDS_MODE(flags) ? (mode_t)va_arg(ap, int) : 0; }

EXPORT int open(const char *path, int flags, ...)
{
    va_list ap;
    va_start(ap, flags);
    mode_t mode = mode_arg(flags, ap);
    va_end(ap);
    char b[STASIS_REDIR_PATH];
    return REAL(open)(RD(path, b), flags, mode);
}

EXPORT int open64(const char *path, int flags, ...)
{
    va_list ap;
    va_start(ap, flags);
    mode_t mode = mode_arg(flags, ap);
    va_end(ap);
    char b[STASIS_REDIR_PATH];
    return REAL(open64)(RD(path, b), flags, mode);
}

EXPORT int openat(int dirfd, const char *path, int flags, ...)
{
    va_list ap;
    va_start(ap, flags);
    mode_t mode = mode_arg(flags, ap);
    va_end(ap);
    char b[STASIS_REDIR_PATH];
    return REAL(openat)(dirfd, RD_AT(dirfd, path, b), flags, mode);
}

EXPORT int openat64(int dirfd, const char *path, int flags, ...)
{
    va_list ap;
    va_start(ap, flags);
    mode_t mode = mode_arg(flags, ap);
    va_end(ap);
    char b[STASIS_REDIR_PATH];
    return REAL(openat64)(dirfd, RD_AT(dirfd, path, b), flags, mode);
}

/* the _FORTIFY_SOURCE entry points programs call for open(path, flags) */
EXPORT int __open_2(const char *path, int flags)
{
    char b[STASIS_REDIR_PATH];
    return REAL(__open_2)(RD(path, b), flags);
}

EXPORT int __open64_2(const char *path, int flags)
{
    char b[STASIS_REDIR_PATH];
    return REAL(__open64_2)(RD(path, b), flags);
}

EXPORT int __openat_2(int dirfd, const char *path, int flags)
{
    char b[STASIS_REDIR_PATH];
    return REAL(__openat_2)(dirfd, RD_AT(dirfd, path, b), flags);
}

EXPORT int __openat64_2(int dirfd, const char *path, int flags)
{
    char b[STASIS_REDIR_PATH];
    return REAL(__openat64_2)(dirfd, RD_AT(dirfd, path, b), flags);
}

/* ---- one path, other arguments passed through ---- */
#define WRAP1(name, ret, params, args, path)                                                                           \
    EXPORT ret name params                                                                                             \
    {                                                                                                                  \
        char b[STASIS_REDIR_PATH];                                                                                     \
        const char *p_ = RD(path, b);                                                                                  \
        return REAL(name) args;                                                                                        \
    }
#define WRAP_AT(name, ret, params, args, dirfd, path)                                                                  \
    EXPORT ret name params                                                                                             \
    {                                                                                                                  \
        char b[STASIS_REDIR_PATH];                                                                                     \
        const char *p_ = RD_AT(dirfd, path, b);                                                                        \
        return REAL(name) args;                                                                                        \
    }

WRAP1(creat, int, (const char *path, mode_t m), (p_, m), path)
WRAP1(creat64, int, (const char *path, mode_t m), (p_, m), path)
WRAP1(fopen, FILE *, (const char *path, const char *m), (p_, m), path)
WRAP1(fopen64, FILE *, (const char *path, const char *m), (p_, m), path)
WRAP1(freopen, FILE *, (const char *path, const char *m, FILE *f), (p_, m, f), path)
WRAP1(freopen64, FILE *, (const char *path, const char *m, FILE *f), (p_, m, f), path)
WRAP1(stat, int, (const char *path, struct stat *st), (p_, st), path)
WRAP1(stat64, int, (const char *path, struct stat64 *st), (p_, st), path)
WRAP1(lstat, int, (const char *path, struct stat *st), (p_, st), path)
WRAP1(lstat64, int, (const char *path, struct stat64 *st), (p_, st), path)
WRAP_AT(fstatat, int, (int d, const char *path, struct stat *st, int fl), (d, p_, st, fl), d, path)
WRAP_AT(fstatat64, int, (int d, const char *path, struct stat64 *st, int fl), (d, p_, st, fl), d, path)
WRAP_AT(statx, int, (int d, const char *path, int fl, unsigned mask, struct statx *st), (d, p_, fl, mask, st), d, path)
WRAP1(statfs, int, (const char *path, struct statfs *st), (p_, st), path)
WRAP1(statfs64, int, (const char *path, struct statfs64 *st), (p_, st), path)
WRAP1(statvfs, int, (const char *path, struct statvfs *st), (p_, st), path)
WRAP1(statvfs64, int, (const char *path, struct statvfs64 *st), (p_, st), path)
WRAP1(access, int, (const char *path, int m), (p_, m), path)
WRAP_AT(faccessat, int, (int d, const char *path, int m, int fl), (d, p_, m, fl), d, path)
WRAP1(euidaccess, int, (const char *path, int m), (p_, m), path)
WRAP1(eaccess, int, (const char *path, int m), (p_, m), path)
WRAP1(opendir, DIR *, (const char *path), (p_), path)
WRAP1(mkdir, int, (const char *path, mode_t m), (p_, m), path)
WRAP_AT(mkdirat, int, (int d, const char *path, mode_t m), (d, p_, m), d, path)
WRAP1(rmdir, int, (const char *path), (p_), path)
WRAP1(unlink, int, (const char *path), (p_), path)
WRAP_AT(unlinkat, int, (int d, const char *path, int fl), (d, p_, fl), d, path)
WRAP1(readlink, ssize_t, (const char *path, char *out, size_t n), (p_, out, n), path)
WRAP_AT(readlinkat, ssize_t, (int d, const char *path, char *out, size_t n), (d, p_, out, n), d, path)
WRAP1(chdir, int, (const char *path), (p_), path)
WRAP1(chmod, int, (const char *path, mode_t m), (p_, m), path)
WRAP_AT(fchmodat, int, (int d, const char *path, mode_t m, int fl), (d, p_, m, fl), d, path)
WRAP1(chown, int, (const char *path, uid_t u, gid_t g), (p_, u, g), path)
WRAP1(lchown, int, (const char *path, uid_t u, gid_t g), (p_, u, g), path)
WRAP_AT(fchownat, int, (int d, const char *path, uid_t u, gid_t g, int fl), (d, p_, u, g, fl), d, path)
WRAP1(truncate, int, (const char *path, off_t n), (p_, n), path)
WRAP1(truncate64, int, (const char *path, off64_t n), (p_, n), path)
WRAP1(utime, int, (const char *path, const struct utimbuf *t), (p_, t), path)
WRAP1(utimes, int, (const char *path, const struct timeval t[2]), (p_, t), path)
WRAP_AT(utimensat, int, (int d, const char *path, const struct timespec t[2], int fl), (d, p_, t, fl), d, path)
WRAP1(mkfifo, int, (const char *path, mode_t m), (p_, m), path)
WRAP1(mknod, int, (const char *path, mode_t m, dev_t dev), (p_, m, dev), path)
/* a symlink's content is kept as given: only where it is created moves */
WRAP1(symlink, int, (const char *target, const char *path), (target, p_), path)
WRAP_AT(symlinkat, int, (const char *target, int d, const char *path), (target, d, p_), d, path)

/* ---- two paths ---- */
EXPORT int rename(const char *a, const char *b)
{
    char ba[STASIS_REDIR_PATH], bb[STASIS_REDIR_PATH];
    return REAL(rename)(RD(a, ba), RD(b, bb));
}

EXPORT int renameat(int da, const char *a, int db, const char *b)
{
    char ba[STASIS_REDIR_PATH], bb[STASIS_REDIR_PATH];
    return REAL(renameat)(da, RD_AT(da, a, ba), db, RD_AT(db, b, bb));
}

EXPORT int renameat2(int da, const char *a, int db, const char *b, unsigned fl)
{
    char ba[STASIS_REDIR_PATH], bb[STASIS_REDIR_PATH];
    return REAL(renameat2)(da, RD_AT(da, a, ba), db, RD_AT(db, b, bb), fl);
}

EXPORT int link(const char *a, const char *b)
{
    char ba[STASIS_REDIR_PATH], bb[STASIS_REDIR_PATH];
    return REAL(link)(RD(a, ba), RD(b, bb));
}

EXPORT int linkat(int da, const char *a, int db, const char *b, int fl)
{
    char ba[STASIS_REDIR_PATH], bb[STASIS_REDIR_PATH];
    return REAL(linkat)(da, RD_AT(da, a, ba), db, RD_AT(db, b, bb), fl);
}

/* ---- the pre-2.33 stat symbols old binaries still call (x86_64: one struct stat) ---- */
EXPORT int __xstat(int ver, const char *path, struct stat *st)
{
    (void)ver;
    return stat(path, st);
}
EXPORT int __xstat64(int ver, const char *path, struct stat64 *st)
{
    (void)ver;
    return stat64(path, st);
}
EXPORT int __lxstat(int ver, const char *path, struct stat *st)
{
    (void)ver;
    return lstat(path, st);
}
EXPORT int __lxstat64(int ver, const char *path, struct stat64 *st)
{
    (void)ver;
    return lstat64(path, st);
}
EXPORT int __fxstatat(int ver, int d, const char *path, struct stat *st, int fl)
{
    (void)ver;
    return fstatat(d, path, st, fl);
}
EXPORT int __fxstatat64(int ver, int d, const char *path, struct stat64 *st, int fl)
{
    (void)ver;
    return fstatat64(d, path, st, fl);
}

/* ---- realpath: resolved where it is served from, named as the program knows it ---- */
static char *name_back(char *res, char *given)
{
    if (!res) return res;
    char tmp[STASIS_REDIR_PATH];
    size_t n = strlen(res);
    if (n >= sizeof tmp) return res;
    memcpy(tmp, res, n + 1);
    if (stasis_redirect_reverse(tmp, sizeof tmp) <= 0) return res;
    size_t m = strlen(tmp);
    if (given) {
        if (m >= PATH_MAX) return res;
    } else if (m > n) {
        char *grown = realloc(res, m + 1);
        if (!grown) return res;
        res = grown;
    }
    memcpy(res, tmp, m + 1);
    return res;
}

EXPORT char *realpath(const char *path, char *resolved)
{
    char b[STASIS_REDIR_PATH];
    if (QUIET) return REAL(realpath)(path, resolved);
    return name_back(REAL(realpath)(RD(path, b), resolved), resolved);
}

EXPORT char *__realpath_chk(const char *path, char *resolved, size_t len)
{
    (void)len; /* a fortified caller's buffer holds PATH_MAX */
    return realpath(path, resolved);
}

EXPORT char *canonicalize_file_name(const char *path)
{
    char b[STASIS_REDIR_PATH];
    if (QUIET) return REAL(canonicalize_file_name)(path);
    return name_back(REAL(canonicalize_file_name)(RD(path, b)), NULL);
}
