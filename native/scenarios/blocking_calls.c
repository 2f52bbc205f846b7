/* Threads sitting in blocking calls while the program is checkpointed (resumed or
 * killed and restarted): a checkpoint must be invisible to them.
 *   blocking_calls MODE [T_ms [S_ms [R_ms]]]
 * MODE "all": every call; "nomq": all but the POSIX message queue calls (the
 * coordinator refuses to checkpoint a program holding a message queue); "nofd": only
 * calls whose objects a restart by the native test coordinator recreates (no pipes,
 * sockets, epoll, mqueues, children).
 * Timed calls wait T ms for nothing: they must time out, not earlier than T.
 * Event calls wait until the main thread provides their event at R: not earlier.
 * Victims sleep/poll until the program sends them SIGUSR1 at S: they must get EINTR.
 * Prints "ready N calls sem=ID msg=ID", then one "case NAME KIND ok|FAIL elapsed_ms detail" line per call
 * and "OK blocking_calls ..." when every call behaved (exit 1 otherwise). */
#include "common.h"
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <mqueue.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/select.h>
#include <sys/sem.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

enum kind { TIMED, EVENT, VICTIM };
static const char *kind_name[] = {"timed", "event", "victim"};

struct res {
    long ret;
    int err;
    int good;
    char detail[96];
    int64_t w_start, w_end; /* CLOCK_REALTIME, ms, around the call: the clock of a wall-clock deadline */
};
struct tcase {
    const char *name;
    enum kind kind;
    int needs_fds;
    void (*run)(struct res *r);
    pthread_t th;
    int64_t t_start, t_end;
    struct res r;
};

static long T_ms = 3000, S_ms = 2000, R_ms = 6000;
static int64_t t0;
static int ev_pipe[2], rd_pipe[2], listen_fd, epfd, epfd_timed, semid, msqid;
static mqd_t mq_ev, mq_timed;
static char mq_names[2][64], sock_path[107]; /* an abstract name: no file is left when killed */
static pid_t child;
static volatile int fw_event, fw_timed;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER, cv_timed = PTHREAD_COND_INITIALIZER;
static int cv_flag;
static int usr1_count; /* handlers of several threads: atomic */

static int64_t clock_ms(clockid_t clock)
{
    struct timespec ts;
    clock_gettime(clock, &ts);
    return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

static int64_t now_ms(void) { return clock_ms(CLOCK_MONOTONIC); }

static struct timespec rel(long ms) { return (struct timespec){ms / 1000, (ms % 1000) * 1000000L}; }

static struct timespec abs_in(clockid_t clk, long ms)
{
    struct timespec ts;
    clock_gettime(clk, &ts);
    ts.tv_sec += ms / 1000;
    ts.tv_nsec += (ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    return ts;
}

static void set(struct res *r, long ret, int good)
{
    r->ret = ret;
    r->err = ret < 0 ? errno : 0;
    r->good = good;
}
/* libc calls that return an error number (pthread_*, clock_nanosleep) */
static void set_rc(struct res *r, int rc, int want)
{
    r->ret = rc;
    r->err = rc;
    r->good = rc == want;
}
#define WANT_ERR(r, ret, e) set((r), (ret), (ret) < 0 && errno == (e))

/* ---- timed calls: nothing comes, they time out after T ---- */
static void t_poll(struct res *r)
{
    long x = poll(NULL, 0, (int)T_ms);
    set(r, x, x == 0);
}
static void t_select(struct res *r)
{
    struct timeval tv = {T_ms / 1000, (T_ms % 1000) * 1000};
    long x = select(0, NULL, NULL, NULL, &tv);
    set(r, x, x == 0);
}
static void t_pselect(struct res *r)
{
    struct timespec ts = rel(T_ms);
    long x = pselect(0, NULL, NULL, NULL, &ts, NULL);
    set(r, x, x == 0);
}
static void t_ppoll(struct res *r)
{
    struct timespec ts = rel(T_ms);
    long x = ppoll(NULL, 0, &ts, NULL);
    set(r, x, x == 0);
}
static void t_epoll_wait(struct res *r)
{
    struct epoll_event ev;
    long x = epoll_wait(epfd_timed, &ev, 1, (int)T_ms);
    set(r, x, x == 0);
}
static void t_epoll_pwait(struct res *r)
{
    struct epoll_event ev;
    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGUSR2);
    long x = epoll_pwait(epfd_timed, &ev, 1, (int)T_ms, &mask);
    set(r, x, x == 0);
}
static void t_semtimedop(struct res *r)
{
    struct sembuf op = {1, -1, 0};
    struct timespec ts = rel(T_ms);
    long x = semtimedop(semid, &op, 1, &ts);
    WANT_ERR(r, x, EAGAIN);
}
static void t_mq_timedreceive(struct res *r)
{
    char buf[64];
    struct timespec ts = abs_in(CLOCK_REALTIME, T_ms);
    long x = mq_timedreceive(mq_timed, buf, sizeof buf, NULL, &ts);
    WANT_ERR(r, x, ETIMEDOUT);
}
static void t_nanosleep_rem(struct res *r)
{
    struct timespec ts = rel(T_ms), rem;
    long x = nanosleep(&ts, &rem);
    set(r, x, x == 0);
}
static void t_nanosleep_null(struct res *r)
{
    struct timespec ts = rel(T_ms);
    long x = nanosleep(&ts, NULL);
    set(r, x, x == 0);
}
static void t_clock_nanosleep_rel(struct res *r)
{
    struct timespec ts = rel(T_ms);
    set_rc(r, clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, NULL), 0);
}
static void t_clock_nanosleep_abs(struct res *r)
{
    struct timespec ts = abs_in(CLOCK_MONOTONIC, T_ms);
    set_rc(r, clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL), 0);
}
static void t_sleep(struct res *r)
{
    long x = sleep((unsigned)(T_ms / 1000));
    set(r, x, x == 0);
}
static void t_usleep(struct res *r)
{
    long x = usleep((useconds_t)(T_ms * 1000));
    set(r, x, x == 0);
}
static void t_sigtimedwait(struct res *r)
{
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGUSR2);
    struct timespec ts = rel(T_ms);
    long x = sigtimedwait(&s, NULL, &ts);
    WANT_ERR(r, x, EAGAIN);
}
static void t_raw_sigtimedwait(struct res *r)
{
    uint64_t s = 1ull << (SIGUSR2 - 1);
    struct timespec ts = rel(T_ms);
    long x = syscall(SYS_rt_sigtimedwait, &s, NULL, &ts, 8);
    WANT_ERR(r, x, EAGAIN);
}
static void t_futex(struct res *r)
{
    struct timespec ts = rel(T_ms);
    long x = syscall(SYS_futex, &fw_timed, FUTEX_WAIT_PRIVATE, 0, &ts, NULL, 0);
    WANT_ERR(r, x, ETIMEDOUT);
}
static void t_cond_timedwait(struct res *r)
{
    struct timespec ts = abs_in(CLOCK_REALTIME, T_ms);
    pthread_mutex_lock(&mu);
    int rc = pthread_cond_timedwait(&cv_timed, &mu, &ts);
    pthread_mutex_unlock(&mu);
    set_rc(r, rc, ETIMEDOUT);
}

/* ---- event calls: their event comes at R ---- */
static void e_poll(struct res *r)
{
    struct pollfd p = {ev_pipe[0], POLLIN, 0};
    long x = poll(&p, 1, -1);
    set(r, x, x == 1);
}
static void e_epoll_wait(struct res *r)
{
    struct epoll_event ev;
    long x = epoll_wait(epfd, &ev, 1, -1);
    set(r, x, x == 1);
}
static void e_epoll_pwait(struct res *r)
{
    struct epoll_event ev;
    sigset_t none;
    sigemptyset(&none);
    sigaddset(&none, SIGUSR2);
    long x = epoll_pwait(epfd, &ev, 1, -1, &none);
    set(r, x, x == 1);
}
static void e_select(struct res *r)
{
    fd_set rs;
    FD_ZERO(&rs);
    FD_SET(ev_pipe[0], &rs);
    long x = select(ev_pipe[0] + 1, &rs, NULL, NULL, NULL);
    set(r, x, x == 1);
}
static void e_pselect(struct res *r)
{
    fd_set rs;
    FD_ZERO(&rs);
    FD_SET(ev_pipe[0], &rs);
    long x = pselect(ev_pipe[0] + 1, &rs, NULL, NULL, NULL, NULL);
    set(r, x, x == 1);
}
static void e_ppoll(struct res *r)
{
    struct pollfd p = {ev_pipe[0], POLLIN, 0};
    long x = ppoll(&p, 1, NULL, NULL);
    set(r, x, x == 1);
}
static void e_read(struct res *r)
{
    char c;
    long x = read(rd_pipe[0], &c, 1);
    set(r, x, x == 1 && c == 'r');
}
static void e_accept(struct res *r)
{
    long x = accept(listen_fd, NULL, NULL);
    set(r, x, x >= 0);
    if (x >= 0) close((int)x);
}
static void e_waitpid(struct res *r)
{
    int st = 0;
    long x = waitpid(child, &st, 0);
    set(r, x, x == child && WIFEXITED(st) && WEXITSTATUS(st) == 7);
}
static void e_mq_receive(struct res *r)
{
    char buf[64];
    long x = mq_receive(mq_ev, buf, sizeof buf, NULL);
    set(r, x, x == 2);
}
static void e_semop(struct res *r)
{
    struct sembuf op = {0, -1, 0};
    long x = semop(semid, &op, 1);
    set(r, x, x == 0);
}
static void e_msgrcv(struct res *r)
{
    struct {
        long type;
        char text[8];
    } m;
    long x = msgrcv(msqid, &m, sizeof m.text, 1, 0);
    set(r, x, x == 3);
}
static void e_sigwaitinfo(struct res *r)
{
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGUSR2);
    long x = sigwaitinfo(&s, NULL);
    set(r, x, x == SIGUSR2);
}
static void e_pause(struct res *r)
{
    long x = pause();
    WANT_ERR(r, x, EINTR);
}
static void e_sigsuspend(struct res *r)
{
    sigset_t block, wait_mask;
    sigemptyset(&block);
    sigaddset(&block, SIGUSR1);
    pthread_sigmask(SIG_BLOCK, &block, &wait_mask);
    sigdelset(&wait_mask, SIGUSR1);
    long x = sigsuspend(&wait_mask);
    WANT_ERR(r, x, EINTR);
}
static void e_futex(struct res *r)
{
    long x = syscall(SYS_futex, &fw_event, FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0);
    /* EAGAIN: the value changed before the wait began (a restart may resume the
     * waiter only after its waker ran); never EINTR, never before the event */
    set(r, x, (x == 0 || errno == EAGAIN) && fw_event == 1);
}
static void e_cond_wait(struct res *r)
{
    int rc = 0;
    pthread_mutex_lock(&mu);
    while (!cv_flag && rc == 0) rc = pthread_cond_wait(&cv, &mu);
    pthread_mutex_unlock(&mu);
    set_rc(r, rc, 0);
}

/* ---- victims: the program's own SIGUSR1 at S must interrupt them ---- */
static void v_clock_nanosleep(struct res *r)
{
    struct timespec ts = rel(T_ms + R_ms), rem = {0, 0};
    int rc = clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, &rem);
    set_rc(r, rc, EINTR);
    snprintf(r->detail, sizeof r->detail, "rem=%ldms", (long)(rem.tv_sec * 1000 + rem.tv_nsec / 1000000));
}
static void v_poll(struct res *r)
{
    long x = poll(NULL, 0, -1);
    WANT_ERR(r, x, EINTR);
}

static struct tcase cases[] = {
        {"poll", TIMED, 0, t_poll, 0, 0, 0, {0}},
        {"select", TIMED, 0, t_select, 0, 0, 0, {0}},
        {"pselect", TIMED, 0, t_pselect, 0, 0, 0, {0}},
        {"ppoll", TIMED, 0, t_ppoll, 0, 0, 0, {0}},
        {"epoll_wait", TIMED, 1, t_epoll_wait, 0, 0, 0, {0}},
        {"epoll_pwait", TIMED, 1, t_epoll_pwait, 0, 0, 0, {0}},
        {"semtimedop", TIMED, 0, t_semtimedop, 0, 0, 0, {0}},
        {"mq_timedreceive", TIMED, 2, t_mq_timedreceive, 0, 0, 0, {0}},
        {"nanosleep", TIMED, 0, t_nanosleep_rem, 0, 0, 0, {0}},
        {"nanosleep_norem", TIMED, 0, t_nanosleep_null, 0, 0, 0, {0}},
        {"clock_nanosleep_rel", TIMED, 0, t_clock_nanosleep_rel, 0, 0, 0, {0}},
        {"clock_nanosleep_abs", TIMED, 0, t_clock_nanosleep_abs, 0, 0, 0, {0}},
        {"sleep", TIMED, 0, t_sleep, 0, 0, 0, {0}},
        {"usleep", TIMED, 0, t_usleep, 0, 0, 0, {0}},
        {"sigtimedwait", TIMED, 0, t_sigtimedwait, 0, 0, 0, {0}},
        {"raw_rt_sigtimedwait", TIMED, 0, t_raw_sigtimedwait, 0, 0, 0, {0}},
        {"futex_wait_timeout", TIMED, 0, t_futex, 0, 0, 0, {0}},
        {"cond_timedwait", TIMED, 0, t_cond_timedwait, 0, 0, 0, {0}},
        {"poll_fd", EVENT, 1, e_poll, 0, 0, 0, {0}},
        {"epoll_wait_fd", EVENT, 1, e_epoll_wait, 0, 0, 0, {0}},
        {"epoll_pwait_fd", EVENT, 1, e_epoll_pwait, 0, 0, 0, {0}},
        {"select_fd", EVENT, 1, e_select, 0, 0, 0, {0}},
        {"pselect_fd", EVENT, 1, e_pselect, 0, 0, 0, {0}},
        {"ppoll_fd", EVENT, 1, e_ppoll, 0, 0, 0, {0}},
        {"read_pipe", EVENT, 1, e_read, 0, 0, 0, {0}},
        {"accept", EVENT, 1, e_accept, 0, 0, 0, {0}},
        {"waitpid", EVENT, 1, e_waitpid, 0, 0, 0, {0}},
        {"mq_receive", EVENT, 2, e_mq_receive, 0, 0, 0, {0}},
        {"semop", EVENT, 0, e_semop, 0, 0, 0, {0}},
        {"msgrcv", EVENT, 0, e_msgrcv, 0, 0, 0, {0}},
        {"sigwaitinfo", EVENT, 0, e_sigwaitinfo, 0, 0, 0, {0}},
        {"pause", EVENT, 0, e_pause, 0, 0, 0, {0}},
        {"sigsuspend", EVENT, 0, e_sigsuspend, 0, 0, 0, {0}},
        {"futex_wait", EVENT, 0, e_futex, 0, 0, 0, {0}},
        {"cond_wait", EVENT, 0, e_cond_wait, 0, 0, 0, {0}},
        {"victim_clock_nanosleep", VICTIM, 0, v_clock_nanosleep, 0, 0, 0, {0}},
        {"victim_poll", VICTIM, 0, v_poll, 0, 0, 0, {0}},
};
#define NCASES ((int)(sizeof cases / sizeof cases[0]))
static int use_fds, use_mq; /* needs_fds: 1 = descriptors, 2 = a message queue too */

/* setup failed: what and why, exit 1 */
static void die(const char *what)
{
    printf("FAIL %s: %s\n", what, strerror(errno));
    exit(1);
}

static struct tcase *find(const char *name)
{
    for (int i = 0; i < NCASES; i++)
        if (!strcmp(cases[i].name, name)) return &cases[i];
    return NULL;
}

static void *runner(void *arg)
{
    struct tcase *c = arg;
    c->t_start = now_ms();
    c->r.w_start = clock_ms(CLOCK_REALTIME);
    c->run(&c->r);
    c->t_end = now_ms();
    c->r.w_end = clock_ms(CLOCK_REALTIME);
    return NULL;
}

static void on_usr1(int sig)
{
    (void)sig;
    __atomic_add_fetch(&usr1_count, 1, __ATOMIC_SEQ_CST);
}

static void setup_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr1; /* no SA_RESTART: the program wants EINTR */
    sigaction(SIGUSR1, &sa, NULL);
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGUSR2); /* for sigwaitinfo / sigtimedwait */
    pthread_sigmask(SIG_BLOCK, &s, NULL);
}

static void setup_fds(void)
{
    struct timespec wall; /* unique names: pids repeat in pid namespaces */
    clock_gettime(CLOCK_REALTIME, &wall);
    long long tag = (long long)wall.tv_sec * 1000000000LL + wall.tv_nsec;
    if (pipe(ev_pipe) < 0 || pipe(rd_pipe) < 0) die("pipe");
    epfd = epoll_create1(0);
    epfd_timed = epoll_create1(0);
    struct epoll_event ev = {.events = EPOLLIN};
    if (epfd < 0 || epfd_timed < 0 || epoll_ctl(epfd, EPOLL_CTL_ADD, ev_pipe[0], &ev) < 0) die("epoll");
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    snprintf(sock_path, sizeof sock_path, "stasis-bc-%d-%lld", (int)getpid(), tag);
    strcpy(a.sun_path + 1, sock_path);
    listen_fd = socket(AF_UNIX, SOCK_STREAM, 0);
    if (listen_fd < 0 || bind(listen_fd, (void *)&a, sizeof a) < 0 || listen(listen_fd, 4) < 0) die("listen");
    if (use_mq) {
        struct mq_attr at = {.mq_maxmsg = 4, .mq_msgsize = 64};
        for (int i = 0; i < 2; i++)
            snprintf(mq_names[i], sizeof mq_names[i], "/stasis-bc-%d-%lld-%d", (int)getpid(), tag, i);
        mq_ev = mq_open(mq_names[0], O_RDWR | O_CREAT | O_EXCL, 0600, &at);
        mq_timed = mq_open(mq_names[1], O_RDWR | O_CREAT | O_EXCL, 0600, &at);
        if (mq_ev == (mqd_t)-1 || mq_timed == (mqd_t)-1) die("mq_open");
    }
    child = fork();
    if (child < 0) die("fork");
    if (child == 0) { /* exits at R */
        struct timespec at_r = {(t0 + R_ms) / 1000, ((t0 + R_ms) % 1000) * 1000000L};
        while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &at_r, NULL) == EINTR) {}
        _exit(7);
    }
}

static void setup_ipc(void)
{
    semid = semget(IPC_PRIVATE, 2, 0600 | IPC_CREAT);
    msqid = msgget(IPC_PRIVATE, 0600 | IPC_CREAT);
    if (semid < 0 || msqid < 0) die("sysv ipc");
}

/* the main thread sleeps until t0 + ms (absolute: must not return early either) */
static int main_interrupted;
static void sleep_until(long ms)
{
    struct timespec at = {(t0 + ms) / 1000, ((t0 + ms) % 1000) * 1000000L};
    int rc;
    while ((rc = clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &at, NULL)) == EINTR) main_interrupted++;
}

static void kill_case(const char *name, int sig)
{
    struct tcase *c = find(name);
    if (c && c->th) pthread_kill(c->th, sig);
}

static void release_events(void)
{
    if (use_fds) {
        if (write(ev_pipe[1], "e", 1) != 1 || write(rd_pipe[1], "r", 1) != 1) die("write");
        int s = socket(AF_UNIX, SOCK_STREAM, 0);
        struct sockaddr_un a = {.sun_family = AF_UNIX};
        strcpy(a.sun_path + 1, sock_path);
        if (s < 0 || connect(s, (void *)&a, sizeof a) < 0) die("connect");
        close(s);
        if (use_mq && mq_send(mq_ev, "mq", 2, 0) < 0) die("mq_send");
    }
    struct sembuf op = {0, 1, 0};
    if (semop(semid, &op, 1) < 0) die("semop +1");
    struct {
        long type;
        char text[8];
    } m = {1, "msg"};
    if (msgsnd(msqid, &m, 3, 0) < 0) die("msgsnd");
    kill_case("sigwaitinfo", SIGUSR2);
    kill_case("pause", SIGUSR1);
    kill_case("sigsuspend", SIGUSR1);
    fw_event = 1;
    syscall(SYS_futex, &fw_event, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
    pthread_mutex_lock(&mu);
    cv_flag = 1;
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&mu);
}

/* A call whose deadline is on the wall clock returns when the wall clock says: if the
 * machine's clock is stepped forward meanwhile (time sync), that is earlier by the
 * monotonic clock, and not early. */
static int returned_early(const struct tcase *c)
{
    if (c->t_end - c->t_start >= T_ms - 5) return 0;
    int wall_deadline = c->run == t_cond_timedwait || c->run == t_mq_timedreceive;
    return !wall_deadline || c->r.w_end - c->r.w_start < T_ms - 5;
}

/* a failed check: one line with what went wrong */
static int check(struct tcase *c)
{
    int64_t el = c->t_end - t0; /* when it returned, from the start */
    const char *why = NULL;
    if (!c->r.good) why = c->r.err == EINTR ? "EINTR" : "wrong result";
    else if (c->kind == TIMED && returned_early(c)) why = "returned early";
    else if (c->kind == EVENT && el < R_ms - 5) why = "returned before its event";
    else if (c->kind == VICTIM && el < S_ms - 5) why = "returned before the signal";
    printf("case %s %s %s %lld ret=%ld errno=%d %s%s\n", c->name, kind_name[c->kind], why ? "FAIL" : "ok",
           (long long)(c->kind == TIMED ? c->t_end - c->t_start : el), c->r.ret, c->r.err, why ? why : "", c->r.detail);
    return why == NULL;
}

static void cleanup(void)
{
    semctl(semid, 0, IPC_RMID);
    msgctl(msqid, IPC_RMID, NULL);
    if (use_mq) {
        mq_unlink(mq_names[0]);
        mq_unlink(mq_names[1]);
    }
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: blocking_calls all|nomq|nofd [T_ms [S_ms [R_ms]]]\n");
        return 2;
    }
    use_fds = !strcmp(argv[1], "all") || !strcmp(argv[1], "nomq");
    use_mq = !strcmp(argv[1], "all");
    if (argc > 2) T_ms = atol(argv[2]);
    if (argc > 3) S_ms = atol(argv[3]);
    if (argc > 4) R_ms = atol(argv[4]);
    setvbuf(stdout, NULL, _IOLBF, 0);
    t0 = now_ms();
    setup_signals();
    setup_ipc();
    if (use_fds) setup_fds();
    int n = 0;
    for (int i = 0; i < NCASES; i++) {
        if ((cases[i].needs_fds && !use_fds) || (cases[i].needs_fds == 2 && !use_mq)) continue;
        if (pthread_create(&cases[i].th, NULL, runner, &cases[i]) != 0) die("pthread_create");
        n++;
    }
    printf("ready %d calls sem=%d msg=%d\n", n, semid, msqid); /* a test that kills us removes them */
    sleep_until(S_ms);
    kill_case("victim_clock_nanosleep", SIGUSR1);
    kill_case("victim_poll", SIGUSR1);
    sleep_until(R_ms);
    release_events();
    int bad = 0;
    for (int i = 0; i < NCASES; i++) {
        if (!cases[i].th) continue;
        pthread_join(cases[i].th, NULL);
        bad += !check(&cases[i]);
    }
    cleanup();
    if (main_interrupted) {
        printf("FAIL main absolute sleep got EINTR %d times\n", main_interrupted);
        bad++;
    }
    if (bad) {
        printf("FAIL blocking_calls: %d of %d calls\n", bad, n);
        return 1;
    }
    printf("OK blocking_calls %d calls restarts=%d usr1=%d\n", n, sc_restarts(),
           __atomic_load_n(&usr1_count, __ATOMIC_SEQ_CST));
    return 0;
}
