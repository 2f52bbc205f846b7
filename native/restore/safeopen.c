/* open_beneath (safeopen.h) */
#include "safeopen.h"
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

const char *path_base(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

/* the directory part of path into dir (cap bytes); -1 too long */
static int path_dir(const char *path, char *dir, size_t cap)
{
    const char *s = strrchr(path, '/');
    if (!s) {
        strcpy(dir, ".");
        return 0;
    }
    size_t n = s == path ? 1 : (size_t)(s - path);
    if (n >= cap) return -1;
    memcpy(dir, path, n);
    dir[n] = 0;
    return 0;
}

static int open_name(int dfd, const char *name)
{
    int flags = O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY;
    struct open_how how = {.flags = (uint64_t)flags, .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS};
    int fd = (int)syscall(SYS_openat2, dfd, name, &how, sizeof how);
    if (fd >= 0 || (errno != ENOSYS && errno != EPERM)) return fd;
    return openat(dfd, name, flags); /* name has no '/': O_NOFOLLOW covers it */
}

int open_beneath(const char *path, const char **why)
{
    char dir[4096];
    const char *name = path_base(path);
    if (!*name || !strcmp(name, ".") || !strcmp(name, "..") || path_dir(path, dir, sizeof dir) < 0) {
        *why = "not a file name inside a directory";
        return -1;
    }
    int dfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0) {
        *why = strerror(errno);
        return -1;
    }
    int fd = open_name(dfd, name);
    int err = errno;
    close(dfd);
    if (fd < 0) {
        *why = err == ELOOP ? "it is a symbolic link (not followed)" : strerror(err);
        return -1;
    }
    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        *why = "not a regular file";
        return -1;
    }
    fcntl(fd, F_SETFL, 0); /* clear O_NONBLOCK */
    return fd;
}
