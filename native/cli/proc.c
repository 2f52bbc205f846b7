#include "proc.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "io.h"

static int alive_by_signal(pid_t pid) { return kill(pid, 0) == 0 || errno == EPERM; }

int proc_alive(pid_t pid)
{
    char path[64], stat[512];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return errno == ENOENT ? 0 : alive_by_signal(pid);
    ssize_t n = io_read(fd, stat, sizeof stat - 1);
    close(fd);
    if (n <= 0) return 0; /* vanished between open and read */
    stat[n] = '\0';
    /* "pid (comm) S ...": comm may contain ')' so look for the last one. */
    char *paren = strrchr(stat, ')');
    if (!paren || paren[1] != ' ') return alive_by_signal(pid);
    return paren[2] != 'Z' && paren[2] != 'X' && paren[2] != 'x';
}
