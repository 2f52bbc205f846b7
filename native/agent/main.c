/* Agent entry: the constructor connects to $STASIS_AGENT_SOCKET (through the relay,
 * relay.c), registers and starts the checkpoint thread (serve.c). Without the
 * variable it does nothing. */
#include "agent.h"
#include "stasis/rawsys.h"
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>

int g_sock = -1;
int g_tid_off = -1;
int g_restored;

/* public: lets a program know whether it was restarted, and how often */
__attribute__((visibility("default"))) int stasis_restart_count(void) { return g_restored; }
__attribute__((visibility("default"))) int stasis_agent_active(void) { return g_sock >= 0; }

/* the checkpoint thread, created with every signal blocked (it never takes the
 * program's signals nor the suspend signal); 0 = started */
int stasis_start_ckpt_thread(void)
{
    sigset_t all, old;
    sigfillset(&all);
    rsys4(SYS_rt_sigprocmask, SIG_SETMASK, &all, &old, KSIGSET_SIZE);
    pthread_t t;
    pthread_attr_t at;
    pthread_attr_init(&at);
    pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
    int rc = pthread_create(&t, &at, stasis_ckpt_thread, NULL);
    pthread_attr_destroy(&at);
    rsys4(SYS_rt_sigprocmask, SIG_SETMASK, &old, NULL, KSIGSET_SIZE);
    return rc == 0 ? 0 : -1;
}

__attribute__((constructor)) static void stasis_agent_init(void)
{
    stasis_wrap_init();
    stasis_execwarn_init();
    const char *path = getenv("STASIS_AGENT_SOCKET");
    if (!path || !*path) return;
    if (r_strlen(path) >= sizeof g_sock_path) return;
    r_stpcpy(g_sock_path, path);
    path = g_sock_path;
    const char *comp = getenv("STASIS_COMPUTATION"); /* before: it may be one of those */
    if (comp) stasis_computation_set(comp);
    const char *redir = getenv("STASIS_REDIRECT"); /* our parent's redirects (redirect.c) */
    if (redir) stasis_redirect_parse(redir, r_strlen(redir));
    g_followed_ssh = getenv("STASIS_SSH_FOLLOWED") != NULL; /* sshfollow.c */
    stasis_env_hide();                                      /* variables our parent's agent added (execwarn.c) */
    stasis_find_tid_offset();
    stasis_find_self();
    stasis_hold_init();
    if (stasis_install_handler() < 0) return;
    const char *fb = getenv("STASIS_AGENT_FALLBACK");
    g_agent_fallback = fb && fb[0] == '1';
    g_sock = stasis_connect(path, -1);
    if (g_sock < 0) {
        g_sock_path[0] = 0;
        return;
    }
    stasis_forkjoin_init();
    stasis_send_hello();
    stasis_conn_hide(); /* only the relay holds it once the program runs */
    if (stasis_start_ckpt_thread() < 0) stasis_conn_close();
}
