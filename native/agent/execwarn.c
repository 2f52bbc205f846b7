/* A program that starts another one without the agent (it cleared LD_PRELOAD or
 * STASIS_AGENT_SOCKET from the environment it passes) is warned on stderr: that
 * program runs outside the computation and is not checkpointed. The coordinator
 * drops the process when it finds its agent gone (doc/agent-protocol.md).
 * Interposed: execve, execv, execvp, execvpe, posix_spawn, posix_spawnp (the calls a
 * program makes itself; glibc-internal execs, e.g. of popen/system, are not seen). */
#include "agent.h"
#include "stasis/rawsys.h"
#include <dlfcn.h>
#include <spawn.h>
#include <string.h>
#include <unistd.h>

#define EXPORT __attribute__((visibility("default")))

extern char **environ;

static const char *env_get(char *const envp[], const char *name)
{
    size_t n = strlen(name);
    for (char *const *e = envp; e && *e; e++)
        if (!strncmp(*e, name, n) && (*e)[n] == '=') return *e + n + 1;
    return NULL;
}

static void warn_if_outside(const char *path, char *const envp[])
{
    if (g_sock < 0) return;                     /* not in a computation ourselves */
    const char *pre = env_get(envp, "LD_PRELOAD");
    const char *sock = env_get(envp, "STASIS_AGENT_SOCKET");
    if (pre && strstr(pre, "libstasis-agent") && sock && *sock) return;
    char msg[512], *e = r_stpcpy(msg, "stasis: warning: ");
    size_t room = sizeof msg - 200;
    size_t n = strlen(path ? path : "?");
    if (n > room) n = room;
    r_memcpy(e, path ? path : "?", n);
    e += n;
    e = r_stpcpy(e, " is started without the Stasis agent (");
    e = r_stpcpy(e, !(pre && strstr(pre, "libstasis-agent")) ? "LD_PRELOAD" : "STASIS_AGENT_SOCKET");
    r_stpcpy(e, " cleared): it runs outside the computation and is not checkpointed\n");
    rsys3(SYS_write, 2, msg, r_strlen(msg));
}

typedef int (*execve_fn)(const char *, char *const[], char *const[]);
typedef int (*execv_fn)(const char *, char *const[]);

typedef int (*spawn_fn)(pid_t *, const char *, const posix_spawn_file_actions_t *,
                        const posix_spawnattr_t *, char *const[], char *const[]);

/* resolved at load time: a vfork child must not run dlsym */
static execve_fn real_execve, real_execvpe;
static execv_fn real_execv, real_execvp;
static spawn_fn real_posix_spawn, real_posix_spawnp;

void stasis_execwarn_init(void)
{
    real_execve = (execve_fn)dlsym(RTLD_NEXT, "execve");
    real_execvpe = (execve_fn)dlsym(RTLD_NEXT, "execvpe");
    real_execv = (execv_fn)dlsym(RTLD_NEXT, "execv");
    real_execvp = (execv_fn)dlsym(RTLD_NEXT, "execvp");
    real_posix_spawn = (spawn_fn)dlsym(RTLD_NEXT, "posix_spawn");
    real_posix_spawnp = (spawn_fn)dlsym(RTLD_NEXT, "posix_spawnp");
}

EXPORT int execve(const char *path, char *const argv[], char *const envp[])
{
    if (!real_execve) stasis_execwarn_init();
    execve_fn real = real_execve;
    warn_if_outside(path, envp);
    return real(path, argv, envp);
}

EXPORT int execvpe(const char *file, char *const argv[], char *const envp[])
{
    if (!real_execvpe) stasis_execwarn_init();
    execve_fn real = real_execvpe;
    warn_if_outside(file, envp);
    return real(file, argv, envp);
}

EXPORT int execv(const char *path, char *const argv[])
{
    if (!real_execv) stasis_execwarn_init();
    execv_fn real = real_execv;
    warn_if_outside(path, environ);
    return real(path, argv);
}

EXPORT int execvp(const char *file, char *const argv[])
{
    if (!real_execvp) stasis_execwarn_init();
    execv_fn real = real_execvp;
    warn_if_outside(file, environ);
    return real(file, argv);
}

/* the warning is given in the parent, before the child exists (it never runs our
 * code: posix_spawn children run no fork handlers and exec at once) */
EXPORT int posix_spawn(pid_t *pid, const char *path, const posix_spawn_file_actions_t *fa,
                       const posix_spawnattr_t *attr, char *const argv[], char *const envp[])
{
    if (!real_posix_spawn) stasis_execwarn_init();
    spawn_fn real = real_posix_spawn;
    warn_if_outside(path, envp);
    return real(pid, path, fa, attr, argv, envp);
}

EXPORT int posix_spawnp(pid_t *pid, const char *file, const posix_spawn_file_actions_t *fa,
                        const posix_spawnattr_t *attr, char *const argv[], char *const envp[])
{
    if (!real_posix_spawnp) stasis_execwarn_init();
    spawn_fn real = real_posix_spawnp;
    warn_if_outside(file, envp);
    return real(pid, file, fa, attr, argv, envp);
}
