/* A program that starts another one with an environment that lost the agent (a
 * minimal env of execle/execve, `env -i`, clearenv(), a filtered env for
 * posix_spawn) keeps it in the computation: the agent puts LD_PRELOAD (its own
 * library, appended to what the program passes) and STASIS_AGENT_SOCKET back into
 * the environment the program passes, plus STASIS_AGENT_ENV saying what it added,
 * and leaves the rest exactly as passed. The child's agent reads its variables, then
 * takes what was added out of its environ again (stasis_env_hide), so getenv and
 * environ show the program the environment its parent passed; /proc/PID/environ
 * (the kernel's copy made at exec) still shows them.
 *
 * Only an explicitly empty STASIS_AGENT_SOCKET= means "outside": that child runs
 * without the agent and a warning says so on stderr (also when the environment is
 * too large to add to). Interposed: execve, execv, execvp, execvpe, execl, execle,
 * execlp, posix_spawn, posix_spawnp (the calls a program makes itself; glibc-internal
 * execs, e.g. of popen/system, and fexecve are not seen). Nothing here allocates:
 * a vfork child may call these. */
#include "agent.h"
#include "stasis/rawsys.h"
#include <dlfcn.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define EXPORT            __attribute__((visibility("default")))
#define ENV_ADDED_SOCKET  1  /* STASIS_AGENT_ENV bits */
#define ENV_ADDED_PRELOAD 2  /* LD_PRELOAD was absent */
#define ENV_APPENDED      4  /* our library was appended to the program's LD_PRELOAD */
#define ENV_ADDED_COMP    8  /* STASIS_COMPUTATION was absent */
#define ENV_SET_COMP      16 /* STASIS_COMPUTATION named another computation (before a restart) */
#define ENV_ADDED_REDIR   32 /* STASIS_REDIRECT: the path redirects (redirect.c) */
#define ENV_FOLLOWED_SSH  64 /* STASIS_SSH_FOLLOWED: an ssh whose remote command runs in the computation */
#define VAL_MAX           4096

extern char **environ;

static char g_self_path[VAL_MAX]; /* this library, as loaded */

static const char *env_get(char *const envp[], const char *name)
{
    size_t n = strlen(name);
    for (char *const *e = envp; e && *e; e++)
        if (!strncmp(*e, name, n) && (*e)[n] == '=') return *e + n + 1;
    return NULL;
}

static int has_agent(const char *preload) { return preload && strstr(preload, "libstasis-agent"); }

static void warn_outside(const char *path, const char *why)
{
    char msg[512], *e = r_stpcpy(msg, "stasis: warning: ");
    size_t n = strlen(path ? path : "?");
    if (n > sizeof msg - 200) n = sizeof msg - 200;
    r_memcpy(e, path ? path : "?", n);
    e += n;
    e = r_stpcpy(e, " is started without the Stasis agent (");
    e = r_stpcpy(e, why);
    r_stpcpy(e, "): it runs outside the computation and is not checkpointed\n");
    rsys3(SYS_write, 2, msg, r_strlen(msg));
}

/* What the child's environment lacks: 0 = nothing (or we are not in a computation),
 * -1 = the program asked for "outside" (STASIS_AGENT_SOCKET=), else ENV_* bits */
static int missing(char *const envp[])
{
    if (g_sock < 0 || !g_self_path[0] || !g_sock_path[0]) return 0;
    const char *pre = env_get(envp, "LD_PRELOAD");
    const char *sock = env_get(envp, "STASIS_AGENT_SOCKET");
    if (sock && !*sock) return -1;
    int m = sock ? 0 : ENV_ADDED_SOCKET;
    if (!has_agent(pre)) m |= pre && *pre ? ENV_APPENDED : ENV_ADDED_PRELOAD;
    const char *comp = env_get(envp, "STASIS_COMPUTATION");
    if (g_computation[0] && !comp) m |= ENV_ADDED_COMP;
    else if (g_computation[0] && strcmp(comp, g_computation)) m |= ENV_SET_COMP;
    if (g_nredir && !env_get(envp, "STASIS_REDIRECT")) m |= ENV_ADDED_REDIR;
    return m;
}

static size_t env_count(char *const envp[])
{
    size_t n = 0;
    while (envp && envp[n]) n++;
    return n;
}

/* the child's environment in out (n + 5 slots), strings in buf; 0, or -1 if too long */
static int build_env(char *const envp[], int m, char **out, char *buf, size_t cap)
{
    char *b = buf, *end = buf + cap;
    size_t k = 0;
    const char *pre = env_get(envp, "LD_PRELOAD");
    for (char *const *e = envp; e && *e; e++)
        if ((!(m & (ENV_ADDED_PRELOAD | ENV_APPENDED)) || strncmp(*e, "LD_PRELOAD=", 11)) &&
            (!(m & ENV_SET_COMP) || strncmp(*e, "STASIS_COMPUTATION=", 19)))
            out[k++] = *e;
    size_t need = 200 + strlen(g_self_path) + strlen(g_sock_path) + (pre ? strlen(pre) : 0) +
                  ((m & ENV_ADDED_REDIR) ? stasis_redirect_text_size() + 16 : 0);
    if (need > (size_t)(end - b)) return -1;
    if (m & (ENV_ADDED_PRELOAD | ENV_APPENDED)) {
        out[k++] = b;
        b = r_stpcpy(b, "LD_PRELOAD=");
        if (m & ENV_APPENDED) {
            b = r_stpcpy(b, pre);
            b = r_stpcpy(b, ":");
        }
        b = r_stpcpy(b, g_self_path) + 1;
    }
    if (m & ENV_ADDED_SOCKET) {
        out[k++] = b;
        b = r_stpcpy(b, "STASIS_AGENT_SOCKET=");
        b = r_stpcpy(b, g_sock_path) + 1;
    }
    if (m & (ENV_ADDED_COMP | ENV_SET_COMP)) {
        out[k++] = b;
        b = r_stpcpy(b, "STASIS_COMPUTATION=");
        b = r_stpcpy(b, g_computation) + 1;
    }
    if (m & ENV_ADDED_REDIR) {
        out[k++] = b;
        b = r_stpcpy(b, "STASIS_REDIRECT=");
        size_t n = stasis_redirect_text(b, (size_t)(end - b));
        b[n] = 0;
        b += n + 1;
    }
    if (m & ENV_FOLLOWED_SSH) {
        out[k++] = b;
        b = r_stpcpy(b, "STASIS_SSH_FOLLOWED=1") + 1;
    }
    out[k++] = b;
    b = r_stpcpy(b, "STASIS_AGENT_ENV=");
    r_utoa(b, (uint64_t)m);
    out[k] = NULL;
    return 0;
}

/* Call run(env) with the environment the child should get: envp itself, or a copy
 * with the agent put back (on this stack: a vfork child may be calling us); `extra`:
 * ENV_* bits to add even if nothing is missing. */
#define WITH_CHILD_ENV(path, envp, env, extra, call)                                                                   \
    do {                                                                                                               \
        int m_ = missing(envp);                                                                                        \
        if (m_ >= 0) m_ |= (extra); /* extra only for a followed ssh: we are in a computation */                       \
        if (m_ < 0) warn_outside((path), "STASIS_AGENT_SOCKET cleared");                                               \
        if (m_ <= 0) {                                                                                                 \
            char *const *env = (envp);                                                                                 \
            call;                                                                                                      \
        }                                                                                                              \
        char *slots_[env_count(envp) + 7];                                                                             \
        char buf_[3 * VAL_MAX + 160 + stasis_redirect_text_size()];                                                    \
        if (build_env((envp), m_, slots_, buf_, sizeof buf_) < 0) {                                                    \
            warn_outside((path), "its environment is too large to add the agent");                                     \
            char *const *env = (envp);                                                                                 \
            call;                                                                                                      \
        }                                                                                                              \
        char *const *env = slots_;                                                                                     \
        call;                                                                                                          \
    } while (0)

/* Run `body` with `args` the argv the child should get: argv itself, or for an ssh
 * whose remote command is followed (sshfollow.c) a copy (on this stack) that runs it in
 * the computation; `followed` is then ENV_FOLLOWED_SSH. */
#define WITH_CHILD_ARGV(file, argv, envp, args, followed, body)                                                        \
    do {                                                                                                               \
        size_t need_ = stasis_ssh_follow_size((file), (argv), (envp));                                                 \
        char *aslots_[need_ ? env_count(argv) + 2 : 1];                                                                \
        char abuf_[need_ ? need_ : 1];                                                                                 \
        char *const *args = (argv);                                                                                    \
        int followed = 0;                                                                                              \
        if (need_ && stasis_ssh_follow((argv), aslots_, abuf_, need_) > 0) {                                           \
            args = aslots_;                                                                                            \
            followed = ENV_FOLLOWED_SSH;                                                                               \
        }                                                                                                              \
        body;                                                                                                          \
    } while (0)

typedef int (*execve_fn)(const char *, char *const[], char *const[]);
typedef int (*spawn_fn)(pid_t *, const char *, const posix_spawn_file_actions_t *, const posix_spawnattr_t *,
                        char *const[], char *const[]);

/* resolved at load time: a vfork child must not run dlsym */
static execve_fn real_execve, real_execvpe;
static spawn_fn real_posix_spawn, real_posix_spawnp;

void stasis_execwarn_init(void)
{
    real_execve = (execve_fn)dlsym(RTLD_NEXT, "execve");
    real_execvpe = (execve_fn)dlsym(RTLD_NEXT, "execvpe");
    real_posix_spawn = (spawn_fn)dlsym(RTLD_NEXT, "posix_spawn");
    real_posix_spawnp = (spawn_fn)dlsym(RTLD_NEXT, "posix_spawnp");
    Dl_info info;
    if (!g_self_path[0] && dladdr((void *)stasis_execwarn_init, &info) && info.dli_fname && info.dli_fname[0] == '/' &&
        strlen(info.dli_fname) < sizeof g_self_path)
        r_stpcpy(g_self_path, info.dli_fname);
}

const char *stasis_agent_library(void) { return g_self_path; }

/* in a child whose parent's agent added variables: take them out of environ again */
void stasis_env_hide(void)
{
    const char *v = getenv("STASIS_AGENT_ENV");
    if (!v) return;
    int m = atoi(v);
    if (m & ENV_ADDED_SOCKET) unsetenv("STASIS_AGENT_SOCKET");
    if (m & ENV_ADDED_PRELOAD) unsetenv("LD_PRELOAD");
    if (m & ENV_ADDED_COMP) unsetenv("STASIS_COMPUTATION");
    if (m & ENV_ADDED_REDIR) unsetenv("STASIS_REDIRECT");
    if (m & ENV_FOLLOWED_SSH) unsetenv("STASIS_SSH_FOLLOWED");
    if (m & ENV_APPENDED) {
        char *pre = getenv("LD_PRELOAD");
        char *colon = pre ? strrchr(pre, ':') : NULL;
        if (colon) *colon = 0; /* in place: the value we appended is last */
    }
    unsetenv("STASIS_AGENT_ENV");
}

EXPORT int execve(const char *path, char *const argv[], char *const envp[])
{
    if (!real_execve) stasis_execwarn_init();
    char b[STASIS_REDIR_PATH];
    path = stasis_redirect(path, b);
    WITH_CHILD_ARGV(path, argv, envp, args, f, WITH_CHILD_ENV(path, envp, env, f, return real_execve(path, args, env)));
}

EXPORT int execvpe(const char *file, char *const argv[], char *const envp[])
{
    if (!real_execvpe) stasis_execwarn_init();
    char b[STASIS_REDIR_PATH];
    if (strchr(file, '/')) file = stasis_redirect(file, b); /* a PATH search is not redirected */
    WITH_CHILD_ARGV(file, argv, envp, args, f,
                    WITH_CHILD_ENV(file, envp, env, f, return real_execvpe(file, args, env)));
}

EXPORT int execv(const char *path, char *const argv[]) { return execve(path, argv, environ); }

EXPORT int execvp(const char *file, char *const argv[]) { return execvpe(file, argv, environ); }

/* execl*: the arguments up to the NULL (execle: then envp) into an array on the stack */
static size_t count_args(const char *arg0, va_list ap)
{
    size_t n = 0;
    if (arg0)
        for (n = 1; va_arg(ap, const char *); n++) {}
    return n;
}

/* n = count_args(): argv gets arg0, the n - 1 others and the NULL (consumed from ap) */
#define COLLECT_ARGS(arg0, argv, n, ap)                                                                                \
    char *argv[n + 1];                                                                                                 \
    argv[0] = (char *)(arg0);                                                                                          \
    for (size_t i_ = 1; i_ <= (n); i_++) argv[i_] = va_arg(ap, char *);

EXPORT int execl(const char *path, const char *arg, ...)
{
    va_list ap;
    va_start(ap, arg);
    size_t n = count_args(arg, ap);
    va_end(ap);
    va_start(ap, arg);
    COLLECT_ARGS(arg, argv, n, ap);
    va_end(ap);
    argv[n] = NULL;
    return execve(path, argv, environ);
}

EXPORT int execlp(const char *file, const char *arg, ...)
{
    va_list ap;
    va_start(ap, arg);
    size_t n = count_args(arg, ap);
    va_end(ap);
    va_start(ap, arg);
    COLLECT_ARGS(arg, argv, n, ap);
    va_end(ap);
    argv[n] = NULL;
    return execvpe(file, argv, environ);
}

EXPORT int execle(const char *path, const char *arg, ...)
{
    va_list ap;
    va_start(ap, arg);
    size_t n = count_args(arg, ap);
    va_end(ap);
    va_start(ap, arg);
    COLLECT_ARGS(arg, argv, n, ap);
    char *const *envp = va_arg(ap, char *const *); /* after the NULL */
    va_end(ap);
    argv[n] = NULL;
    return execve(path, argv, envp);
}

/* posix_spawn children run no fork handlers and exec at once: the environment is
 * prepared (or the warning given) in the parent, before the child exists */
EXPORT int posix_spawn(pid_t *pid, const char *path, const posix_spawn_file_actions_t *fa,
                       const posix_spawnattr_t *attr, char *const argv[], char *const envp[])
{
    if (!real_posix_spawn) stasis_execwarn_init();
    char b[STASIS_REDIR_PATH];
    path = stasis_redirect(path, b);
    WITH_CHILD_ARGV(path, argv, envp, args, f,
                    WITH_CHILD_ENV(path, envp, env, f, return real_posix_spawn(pid, path, fa, attr, args, env)));
}

EXPORT int posix_spawnp(pid_t *pid, const char *file, const posix_spawn_file_actions_t *fa,
                        const posix_spawnattr_t *attr, char *const argv[], char *const envp[])
{
    if (!real_posix_spawnp) stasis_execwarn_init();
    char b[STASIS_REDIR_PATH];
    if (strchr(file, '/')) file = stasis_redirect(file, b);
    WITH_CHILD_ARGV(file, argv, envp, args, f,
                    WITH_CHILD_ENV(file, envp, env, f, return real_posix_spawnp(pid, file, fa, attr, args, env)));
}
