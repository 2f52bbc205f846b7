/* Every libc call the agent redirects, by its C name (t_redirect.py).
 * redirect_calls OLD: waits for a restart (the test moves OLD away after the
 * checkpoint and restarts with a redirect OLD -> its new place; OLD holds f.txt =
 * "hello\n", a symlink "link" -> "f.txt" and an executable "tool"), then calls each
 * function with a path under OLD, prints "ok NAME" per call and "OK", or
 * "FAIL NAME" and exits 1. */
#include "common.h"
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char g_old[PATH_MAX];

static const char *at(const char *name)
{
    static char buf[4][PATH_MAX + 64];
    static int i;
    i = (i + 1) % 4;
    snprintf(buf[i], sizeof buf[i], "%s/%s", g_old, name);
    return buf[i];
}

static void ok(int cond, const char *name)
{
    if (!cond) sc_fail(name);
    printf("ok %s\n", name);
}

static int hello_fd(int fd)
{
    char b[16] = {0};
    int good = fd >= 0 && read(fd, b, sizeof b - 1) == 6 && !strcmp(b, "hello\n");
    if (fd >= 0) close(fd);
    return good;
}

static void opens(void)
{
    ok(hello_fd(open(at("f.txt"), O_RDONLY)), "open");
    ok(hello_fd(open64(at("f.txt"), O_RDONLY)), "open64");
    ok(hello_fd(openat(AT_FDCWD, at("f.txt"), O_RDONLY)), "openat");
    int fd = creat(at("c.txt"), 0600);
    ok(fd >= 0 && write(fd, "c", 1) == 1 && close(fd) == 0, "creat");
    FILE *f = fopen(at("f.txt"), "r");
    char line[16] = {0};
    ok(f && fgets(line, sizeof line, f) && !strcmp(line, "hello\n"), "fopen");
    f = freopen(at("c.txt"), "r", f);
    ok(f && fgetc(f) == 'c', "freopen");
    fclose(f);
}

static void stats(void)
{
    struct stat st;
    ok(stat(at("f.txt"), &st) == 0 && st.st_size == 6, "stat");
    ok(lstat(at("link"), &st) == 0 && S_ISLNK(st.st_mode), "lstat");
    ok(fstatat(AT_FDCWD, at("f.txt"), &st, 0) == 0 && st.st_size == 6, "fstatat");
    struct statx sx;
    ok(statx(AT_FDCWD, at("f.txt"), 0, STATX_SIZE, &sx) == 0 && sx.stx_size == 6, "statx");
    ok(access(at("f.txt"), R_OK) == 0, "access");
    ok(faccessat(AT_FDCWD, at("f.txt"), R_OK, 0) == 0, "faccessat");
}

static void dirs(void)
{
    DIR *d = opendir(g_old);
    int seen = 0;
    for (struct dirent *e; d && (e = readdir(d));) seen |= !strcmp(e->d_name, "f.txt");
    if (d) closedir(d);
    ok(seen, "opendir");
    ok(mkdir(at("d"), 0700) == 0, "mkdir");
    ok(rename(at("c.txt"), at("d/c.txt")) == 0, "rename");
    ok(renameat(AT_FDCWD, at("d/c.txt"), AT_FDCWD, at("e.txt")) == 0, "renameat");
    ok(unlink(at("e.txt")) == 0, "unlink");
    ok(unlinkat(AT_FDCWD, at("d"), AT_REMOVEDIR) == 0, "unlinkat");
    char b[PATH_MAX];
    ssize_t n = readlink(at("link"), b, sizeof b);
    ok(n == 5 && !memcmp(b, "f.txt", 5), "readlink");
    char *r = realpath(at("link"), NULL);
    ok(r && !strcmp(r, at("f.txt")), "realpath");
    free(r);
    ok(chdir(g_old) == 0 && hello_fd(open("f.txt", O_RDONLY)), "chdir");
}

static void exec_tool(void)
{
    pid_t pid = fork();
    if (pid == 0) {
        char *argv[] = {(char *)at("tool"), NULL};
        execve(argv[0], argv, (char *[]){NULL});
        _exit(127);
    }
    int st = 0;
    ok(pid > 0 && waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0, "execve");
}

int main(int argc, char **argv)
{
    if (argc != 2 || strlen(argv[1]) > PATH_MAX - 64) return 2;
    strcpy(g_old, argv[1]);
    setvbuf(stdout, NULL, _IOLBF, 0);
    printf("ready\n");
    while (sc_restarts() < 1) sc_sleep_ms(20);
    opens();
    stats();
    dirs();
    exec_tool();
    printf("OK redirect_calls\n");
    return 0;
}
